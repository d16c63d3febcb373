import assert from "node:assert/strict";
import { once } from "node:events";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SinkRunner } from "../../src/audit/sink-runner.ts";
import { FileSink, WebhookSink } from "../../src/audit/sinks.ts";
import { eventually } from "../helpers/eventually.ts";
import { auditEvent } from "../store/contract.ts";
import { type AuditFixture, auditFixture } from "./fixtures.ts";

let f: AuditFixture;
before(async () => {
  f = await auditFixture({ requests: 6 });
});
after(() => f.close());

test("the file sink writes one NDJSON line per completed request and note, rotating at maxBytes", async () => {
  const path = join(f.dir, "audit.jsonl");
  const runner = new SinkRunner({
    store: f.store,
    sink: new FileSink({ path, maxBytes: 1500, maxFiles: 3 }),
    cursorName: "file-test",
    format: "jsonl",
    batchSize: 2,
    flushMs: 0,
  });
  runner.start();
  try {
    await eventually("7 lines (6 requests + 1 note)", () => runner.delivered, { until: (n) => n === 7 });
    const files = readdirSync(f.dir)
      .filter((n) => n.startsWith("audit.jsonl"))
      .sort();
    assert.deepEqual(
      files,
      ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"],
      "rotated, and capped at maxFiles",
    );
    for (const name of files) {
      const full = join(f.dir, name);
      assert.ok(statSync(full).size <= 1500, `${name} stays under maxBytes`);
      assert.equal(statSync(full).mode & 0o777, 0o600);
      for (const line of readFileSync(full, "utf8").trim().split("\n")) JSON.parse(line);
    }
    // The newest lines are in the live file, and new events keep flowing after rotation.
    await f.store.audit.note({ type: "policy.changed", actor: "admin", subject: "demo" });
    await eventually("the new note", () => runner.delivered, { until: (n) => n === 8 });
    assert.match(readFileSync(path, "utf8"), /policy\.changed/);
  } finally {
    await runner.stop();
  }
  assert.equal(
    await f.store.audit.cursorGet("file-test"),
    (await f.store.audit.head()).seq,
    "the position is saved",
  );
});

test("the webhook sink batches, retries with backoff after failures, and never holds up audit writes", async () => {
  const batches: string[][] = [];
  let failuresLeft = 2;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failuresLeft-- > 0) {
        res.writeHead(503).end();
        return;
      }
      assert.equal(req.headers["content-type"], "application/x-ndjson");
      batches.push(Buffer.concat(chunks).toString("utf8").trim().split("\n"));
      res.writeHead(204).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const errors: number[] = [];
  const runner = new SinkRunner({
    store: f.store,
    sink: new WebhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit` }),
    cursorName: "webhook-test",
    format: "k8s",
    batchSize: 4,
    flushMs: 200,
    backoffMs: { initial: 20, max: 100 },
    onError: (_err, attempt) => errors.push(attempt),
  });
  try {
    runner.start();
    // Writes go on while the webhook is failing.
    const started = performance.now();
    await f.store.audit.begin(auditEvent({ id: "during-outage" }));
    await f.store.audit.complete("during-outage", { status: 200, bytesIn: 0, bytesOut: 1, durationMs: 1 });
    assert.ok(performance.now() - started < 1000);
    await eventually("the event written during the outage", () =>
      batches.flat().some((l) => l.includes("during-outage")),
    );
    assert.deepEqual(errors.slice(0, 2), [1, 2], "two failed attempts, retried");
    assert.ok(
      batches.every((b) => b.length <= 4),
      "batches are at most batchSize",
    );
    const ids = batches.flat().map((l) => JSON.parse(l).auditID);
    assert.deepEqual(ids, [...new Set(ids)], "nothing delivered twice once accepted");
    assert.ok(ids.includes("req-0") && ids.includes("req-5"));
    assert.ok(batches.flat().every((l) => JSON.parse(l).apiVersion === "audit.k8s.io/v1"));
  } finally {
    await runner.stop();
    server.close();
  }
});

test("a partial webhook batch waits for flushSeconds, then goes out", async () => {
  const seen: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(Date.now());
      res.writeHead(200).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const start = await f.store.audit.head();
  await f.store.audit.cursorSet("flush-test", start.seq);
  const runner = new SinkRunner({
    store: f.store,
    sink: new WebhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
    cursorName: "flush-test",
    format: "jsonl",
    batchSize: 100,
    flushMs: 300,
  });
  try {
    runner.start();
    const t0 = Date.now();
    await f.store.audit.note({ type: "session.started", actor: "agent-1", subject: "s1" });
    await eventually("the flush", () => seen, { until: (s) => s.length === 1 });
    assert.ok((seen[0] ?? 0) - t0 >= 250, "held until the flush interval");
  } finally {
    await runner.stop();
    server.close();
  }
});
