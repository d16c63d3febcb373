import assert from "node:assert/strict";
import { test } from "node:test";
import { auditConfigSchema } from "../../src/audit/config.ts";
import { pruneThrough } from "../../src/audit/retention.ts";
import { validateConfig } from "../../src/gateway/config.ts";

const base = { clusters: [{ name: "c", server: "https://127.0.0.1:6443" }] };

test("the audit section has safe defaults: records committed before forwarding, checkpoints every 1000 records or 60 s, no retention, no sinks", () => {
  assert.deepEqual(auditConfigSchema.parse({}), {
    durability: "commit",
    checkpoint: { everyEvents: 1000, everySeconds: 60 },
    retention: { checkSeconds: 3600 },
    sinks: [],
  });
});

test("audit sinks get their defaults and file paths resolve against the configuration file's folder", () => {
  const result = validateConfig(
    {
      ...base,
      audit: {
        retention: { maxAge: "90d", maxEvents: 1000 },
        sinks: [
          { type: "file", path: "logs/audit.jsonl" },
          { type: "webhook", url: "https://siem.example/in" },
          { type: "stdout" },
        ],
      },
    },
    "/etc/airlock",
  );
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.config.audit.sinks, [
    {
      type: "file",
      path: "/etc/airlock/logs/audit.jsonl",
      maxBytes: 104857600,
      maxFiles: 5,
      format: "jsonl",
    },
    { type: "webhook", url: "https://siem.example/in", batchSize: 100, flushSeconds: 5, format: "k8s" },
    { type: "stdout", format: "jsonl" },
  ]);
  assert.ok(Object.isFrozen(result.config.audit.sinks[0]));
});

for (const [audit, expected] of [
  [{ retention: { maxAge: "ninety days" } }, /audit\.retention\.maxAge: a duration/],
  [{ sinks: [{ type: "file", path: "x", maxbytes: 10 }] }, /audit\.sinks\[0\]/],
  [{ sinks: [{ type: "syslog" }] }, /audit\.sinks\[0\]/],
  [{ sinks: [{ type: "webhook", url: "ftp://x/" }] }, /audit\.sinks\[0\]\.url/],
  [{ checkpoint: { everyEvents: 0 } }, /audit\.checkpoint\.everyEvents/],
  [{ durability: "always" }, /audit\.durability/],
  [{ signingKey: "/tmp/key" }, /audit/],
] as const) {
  test(`a bad audit section is refused with its path: ${JSON.stringify(audit)}`, () => {
    const result = validateConfig({ ...base, audit }, "/");
    assert.equal(result.ok, false);
    assert.match((result as { errors: string[] }).errors.join("\n"), expected);
  });
}

for (const [policy, head, older, expected] of [
  [{}, 100, 50, 0],
  [{ maxAgeMs: 1 }, 100, 50, 50],
  [{ maxAgeMs: 1 }, 100, undefined, 0],
  [{ maxRecords: 30 }, 100, undefined, 70],
  [{ maxRecords: 300 }, 100, undefined, 0],
  [{ maxAgeMs: 1, maxRecords: 30 }, 100, 50, 70],
  [{ maxAgeMs: 1, maxRecords: 80 }, 100, 50, 50],
] as const) {
  test(`retention prunes through ${expected} for ${JSON.stringify(policy)}, head ${head}, older-than-maxAge ${older}`, () => {
    assert.equal(pruneThrough(policy, { seq: head }, older), expected);
  });
}
