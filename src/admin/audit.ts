// The admin API's audit routes: search (filters and a cursor, for the console), verify the chain, export as
// audit.k8s.io/v1 or jsonl (streamed NDJSON), the signing public key, and the checkpoints. Mounted by api.ts.
//
// Security stance: all are "read" routes (humans and the admin; agents refused by the router). Nothing here writes.
// Export streams with backpressure and never buffers the whole log; an error after the first line cuts the
// connection (a truncated NDJSON stream must not look complete).
import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { exportLines } from "../audit/export.ts";
import { verifyAuditLog } from "../audit/verify.ts";
import { badRequest, notEnabled } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { Store } from "../store/types.ts";
import { sendJson } from "./http.ts";
import { identityName } from "./schemas.ts";

export type AuditRouteId =
  | "listAudit"
  | "verifyAudit"
  | "exportAudit"
  | "auditPublicKey"
  | "listAuditCheckpoints";
export const AUDIT_ROUTE_IDS: readonly AuditRouteId[] = [
  "listAudit",
  "verifyAudit",
  "exportAudit",
  "auditPublicKey",
  "listAuditCheckpoints",
];

export interface AuditApiOptions {
  publicKey: KeyObject;
  publicKeyPem: string;
}

const time = z.iso.datetime({ offset: true, message: "an RFC 3339 time, e.g. 2026-03-01T10:00:00Z" });
const seq = z.coerce.number().int().min(1);

export const auditSearchQuery = z.strictObject({
  identity: identityName.optional(),
  verb: z.string().max(64).optional(),
  resource: z.string().max(253).optional(),
  namespace: z.string().max(253).optional(),
  decision: z.enum(["allow", "deny", "error"]).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});
const verifyQuery = z.strictObject({ from: seq.optional(), to: seq.optional() });
const exportQuery = z.strictObject({
  format: z.enum(["k8s", "jsonl"]).default("jsonl"),
  since: time.optional(),
});

function parseQuery<T extends z.ZodType>(schema: T, url: URL): z.infer<T> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    if (values.length > 1)
      throw new StatusError(badRequest(`query parameter "${key}" is given more than once`));
    query[key] = values[0] ?? "";
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`);
    throw new StatusError(badRequest(`invalid audit query: ${problems.join("; ")}`));
  }
  return parsed.data;
}

interface AuditCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export function auditHandlers(
  store: Store,
  audit: AuditApiOptions | undefined,
): Record<AuditRouteId, (call: AuditCall) => Promise<void>> {
  const key = () => {
    if (!audit) throw new StatusError(notEnabled("this gateway has no audit signing key loaded"));
    return audit;
  };
  return {
    async listAudit({ res, url }) {
      const q = parseQuery(auditSearchQuery, url);
      const query: Parameters<Store["audit"]["search"]>[0] = { limit: q.limit };
      if (q.identity !== undefined) query.identityName = q.identity;
      for (const field of [
        "verb",
        "resource",
        "namespace",
        "decision",
        "since",
        "until",
        "cursor",
      ] as const) {
        if (q[field] !== undefined) Object.assign(query, { [field]: q[field] });
      }
      sendJson(res, 200, await store.audit.search(query));
    },
    async verifyAudit({ res, url }) {
      const q = parseQuery(verifyQuery, url);
      const range: { fromSeq?: number; toSeq?: number } = {};
      if (q.from !== undefined) range.fromSeq = q.from;
      if (q.to !== undefined) range.toSeq = q.to;
      // A failed verification is still a successful answer: the report says what is wrong.
      sendJson(res, 200, await verifyAuditLog(store, key().publicKey, range));
    },
    async exportAudit({ res, url }) {
      const q = parseQuery(exportQuery, url);
      res.writeHead(200, {
        "content-type": "application/x-ndjson",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      for await (const line of exportLines(store, {
        format: q.format,
        ...(q.since ? { since: q.since } : {}),
      })) {
        if (!res.write(`${line}\n`)) await new Promise((resolve) => res.once("drain", resolve));
        if (res.destroyed) return;
      }
      res.end();
    },
    async auditPublicKey({ res }) {
      const { publicKeyPem } = key();
      res.writeHead(200, { "content-type": "application/x-pem-file", "cache-control": "no-store" });
      res.end(publicKeyPem);
    },
    async listAuditCheckpoints({ res }) {
      sendJson(res, 200, { items: await store.audit.checkpoints() });
    },
  };
}

export function describeAuditRoute(id: AuditRouteId): string {
  switch (id) {
    case "listAudit":
      return "reading the audit log";
    case "verifyAudit":
      return "verifying the audit log";
    case "exportAudit":
      return "exporting the audit log";
    case "auditPublicKey":
      return "reading the audit public key";
    case "listAuditCheckpoints":
      return "reading audit checkpoints";
  }
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Status${code}` }]));
const q = (name: string, schema: Record<string, unknown>, description?: string) => ({
  name,
  in: "query",
  schema,
  ...(description ? { description } : {}),
});

/** The OpenAPI paths of the audit routes (merged into openapi.ts's document, replacing its plain /audit). */
export function auditOpenApiPaths(): Record<string, Record<string, unknown>> {
  const dateTime = { type: "string", format: "date-time" };
  return {
    "/airlock/v1/audit": {
      get: {
        operationId: "listAudit",
        summary:
          "Request audit events, newest first, filtered; pass nextCursor back as cursor for the next page",
        parameters: [
          q("identity", { type: "string" }),
          q("verb", { type: "string" }, "The action: get, list, create, exec, …"),
          q("resource", { type: "string" }),
          q("namespace", { type: "string" }),
          q("decision", { type: "string", enum: ["allow", "deny", "error"] }),
          q("since", dateTime),
          q("until", dateTime),
          q("limit", { type: "integer", minimum: 1, maximum: 1000, default: 100 }),
          q("cursor", { type: "string" }),
        ],
        responses: {
          "200": {
            description: "A page of events",
            content: json({
              type: "object",
              required: ["items", "nextCursor"],
              properties: {
                items: { type: "array", items: { $ref: "#/components/schemas/AuditEvent" } },
                nextCursor: { type: ["string", "null"] },
              },
            }),
          },
          ...errors(400, 401, 403, 500),
        },
      },
    },
    "/airlock/v1/audit/verify": {
      get: {
        operationId: "verifyAudit",
        summary:
          "Check the hash chain, every checkpoint signature and every event row; names the first problem",
        parameters: [q("from", { type: "integer", minimum: 1 }), q("to", { type: "integer", minimum: 1 })],
        responses: {
          "200": {
            description: "The verification report (ok: false when tampered)",
            content: json({ type: "object" }),
          },
          ...errors(400, 401, 403, 503),
        },
      },
    },
    "/airlock/v1/audit/export": {
      get: {
        operationId: "exportAudit",
        summary: "The audit log as NDJSON: audit.k8s.io/v1 Events (format=k8s) or Airlock's schema (jsonl)",
        parameters: [
          q("format", { type: "string", enum: ["k8s", "jsonl"], default: "jsonl" }),
          q("since", dateTime),
        ],
        responses: {
          "200": {
            description: "One JSON object per line",
            content: { "application/x-ndjson": { schema: { type: "string" } } },
          },
          ...errors(400, 401, 403),
        },
      },
    },
    "/airlock/v1/audit/pubkey": {
      get: {
        operationId: "auditPublicKey",
        summary: "The Ed25519 public key (SPKI PEM) that verifies audit checkpoints",
        responses: {
          "200": {
            description: "PEM",
            content: { "application/x-pem-file": { schema: { type: "string" } } },
          },
          ...errors(401, 403, 503),
        },
      },
    },
    "/airlock/v1/audit/checkpoints": {
      get: {
        operationId: "listAuditCheckpoints",
        summary: "Signed checkpoints over the audit chain, oldest first",
        responses: {
          "200": { description: "Checkpoints", content: json({ type: "object" }) },
          ...errors(401, 403),
        },
      },
    },
  };
}
