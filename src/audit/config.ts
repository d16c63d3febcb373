// The `audit:` section of airlock.yaml: checkpoint cadence, retention and sinks. Validated with the rest of the
// configuration (src/gateway/config.ts), unknown keys refused.
//
//   audit:
//     durability: commit             # or fsync: also survive power loss, at an fsync per request (docs/audit.md)
//     checkpoint: { everyEvents: 1000, everySeconds: 60 }
//     retention: { maxAge: 90d, maxEvents: 10000000 }
//     sinks:
//       - { type: file, path: audit.jsonl, maxBytes: 104857600, maxFiles: 5 }
//       - { type: webhook, url: https://siem.example/ingest, batchSize: 100, flushSeconds: 5 }
//       - { type: stdout }
import { z } from "zod";
import { parseDuration } from "../shared/duration.ts";

const duration = z
  .string()
  .refine((text) => (parseDuration(text) ?? 0) > 0, "a duration such as 90d, 12h or 30m");
const format = z.enum(["jsonl", "k8s"]);

const sink = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("file"),
    path: z.string().min(1),
    maxBytes: z
      .number()
      .int()
      .min(4096)
      .default(100 * 1024 * 1024),
    maxFiles: z.number().int().min(1).max(1000).default(5),
    format: format.default("jsonl"),
  }),
  z.strictObject({
    type: z.literal("webhook"),
    url: z.url({ protocol: /^https?$/ }),
    batchSize: z.number().int().min(1).max(10_000).default(100),
    flushSeconds: z.number().min(0).max(3600).default(5),
    format: format.default("k8s"),
  }),
  z.strictObject({ type: z.literal("stdout"), format: format.default("jsonl") }),
]);

export const auditConfigSchema = z.strictObject({
  /**
   * When a request's write-ahead record counts as written: "commit" (in the database's log, survives a gateway
   * crash) or "fsync" (also on stable storage, survives an OS crash or power loss).
   */
  durability: z.enum(["commit", "fsync"]).default("commit"),
  checkpoint: z
    .strictObject({
      everyEvents: z.number().int().min(1).default(1000),
      everySeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  retention: z
    .strictObject({
      maxAge: duration.optional(),
      /** Chained records kept (a request is two: begin and completion). */
      maxEvents: z.number().int().min(1).optional(),
      checkSeconds: z.number().int().min(1).default(3600),
    })
    .prefault({}),
  sinks: z.array(sink).default([]),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
export type AuditSinkConfig = AuditConfig["sinks"][number];

/** File sink paths resolve like every other path in the file: against the configuration file's folder. */
export function resolveAuditPaths(config: AuditConfig, abs: (path: string) => string): AuditConfig {
  return {
    ...config,
    sinks: config.sinks.map((s) => (s.type === "file" ? { ...s, path: abs(s.path) } : s)),
  };
}
