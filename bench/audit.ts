// The audit log's write rate with the hash chain, on the embedded store as the gateway runs it (SQLite file, WAL,
// synchronous=FULL): every request is a begin record (write-ahead: durable before its promise resolves) and a
// completion record. Also: one request at a time (the latency a single client sees), the cost of a checkpoint,
// and how fast `audit verify` walks the chain.
//
// Usage: npx node bench/audit.ts [--events N] [--concurrency C] [--quick]
// Prints Markdown. Runs in one process, touches only a temp directory, removes it at the end.
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Checkpointer } from "../src/audit/checkpoint.ts";
import { generateSigningKey } from "../src/audit/signing.ts";
import type { AuditEvent } from "../src/audit/types.ts";
import { verifyAuditLog } from "../src/audit/verify.ts";
import { openStore } from "../src/store/index.ts";
import type { Store } from "../src/store/types.ts";

const { values } = parseArgs({
  options: { events: { type: "string" }, concurrency: { type: "string" }, quick: { type: "boolean" } },
});
const EVENTS = Number(values.events ?? (values.quick ? 2000 : 20_000));
const CONCURRENCY = Number(values.concurrency ?? 64);

function event(i: number): AuditEvent {
  return {
    id: `bench-${i}-${Math.random().toString(36).slice(2)}`,
    time: new Date().toISOString(),
    identityId: "id-bench",
    identityName: "bench-agent",
    identityKind: "agent",
    identityGroups: ["airlock:agents", "agents"],
    credentialId: "cred-bench",
    sourceAddress: "127.0.0.1",
    userAgent: "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef0",
    kubectlCommand: "kubectl get",
    kubectlSession: "b1c2d3e4-0000-4000-8000-000000000000",
    cluster: "default",
    method: "GET",
    path: `/api/v1/namespaces/default/pods/web-${i % 100}`,
    verb: "get",
    apiGroup: "",
    apiVersion: "v1",
    namespace: "default",
    resource: "pods",
    subresource: "",
    name: `web-${i % 100}`,
    execCommand: null,
    decision: "allow",
    policy: "mcp-agents",
    rule: "read-everything",
    reason: null,
    status: null,
    bytesIn: null,
    bytesOut: null,
    durationMs: null,
    completedAt: null,
  };
}

async function request(store: Store, i: number): Promise<void> {
  const e = event(i);
  await store.audit.begin(e);
  await store.audit.complete(e.id, { status: 200, bytesIn: 0, bytesOut: 2048, durationMs: 3 });
}

/** `count` requests, `concurrency` in flight at a time (as many clients would be). */
async function run(store: Store, count: number, concurrency: number): Promise<number> {
  let next = 0;
  lastCpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await request(store, next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(lastCpu);
  lastCpuSeconds = (cpu.user + cpu.system) / 1e6;
  return seconds;
}

// CPU time of the last run: on a shared, busy machine wall-clock rates understate what one free core does.
let lastCpu = process.cpuUsage();
let lastCpuSeconds = 0;

const dir = mkdtempSync(join(tmpdir(), "airlock-bench-audit-"));
try {
  const store = await openStore({ kind: "sqlite", path: join(dir, "airlock.db") });
  const key = generateSigningKey();
  const checkpointer = new Checkpointer({ store, key, everyRecords: 1000, everySeconds: 60 });
  checkpointer.start();
  await run(store, 200, CONCURRENCY); // warm-up
  const statsBefore = store.audit.commitStats();
  const seconds = await run(store, EVENTS, CONCURRENCY);
  const statsAfter = store.audit.commitStats();
  const perTransaction =
    (statsAfter.writes - statsBefore.writes) / Math.max(1, statsAfter.batches - statsBefore.batches);
  const cpuSeconds = lastCpuSeconds;
  const serialCount = values.quick ? 100 : 500;
  const serialSeconds = await run(store, serialCount, 1);
  const cpStart = performance.now();
  await checkpointer.checkpoint("manual");
  const cpMs = performance.now() - cpStart;
  await checkpointer.stop();
  const head = await store.audit.head();
  const vStart = performance.now();
  const report = await verifyAuditLog(store, key.publicKey);
  const vSeconds = (performance.now() - vStart) / 1000;
  await store.close();
  if (!report.ok)
    throw new Error(`the benchmark's own log did not verify: ${JSON.stringify(report.problems[0])}`);
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`## Audit log write rate (bench/audit.ts)

SQLite file, WAL, synchronous=FULL; each request = a chained begin record (durable before forwarding) + a chained
completion record. ${fmt(EVENTS)} requests, ${CONCURRENCY} in flight; Node ${process.version}; load average
${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores while it ran.

| measure | result |
| --- | --- |
| requests/s, ${CONCURRENCY} in flight (group commit) | ${fmt(EVENTS / seconds)} |
| chained records/s, ${CONCURRENCY} in flight | ${fmt((EVENTS * 2) / seconds)} |
| chained records per transaction, ${CONCURRENCY} in flight (group commit) | ${perTransaction.toFixed(1)} |
| requests per CPU-second of the gateway process (what one free core sustains) | ${fmt(EVENTS / cpuSeconds)} |
| requests/s, one at a time (one fsync per record) | ${fmt(serialCount / serialSeconds)} |
| signed checkpoint | ${cpMs.toFixed(1)} ms |
| verify (chain + rows + ${report.checkpoints} checkpoints), records/s | ${fmt(head.seq / vSeconds)} |
`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
