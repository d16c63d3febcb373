import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson, sha256Hex } from "../../src/audit/canonical.ts";
import { enforceRetention } from "../../src/audit/retention.ts";
import { generateSigningKey } from "../../src/audit/signing.ts";
import { verifyAuditLog } from "../../src/audit/verify.ts";
import { openStore } from "../../src/store/index.ts";
import { auditEvent } from "../store/contract.ts";
import { auditFixture } from "./fixtures.ts";

async function withFixture(fn: (f: Awaited<ReturnType<typeof auditFixture>>) => Promise<void>) {
  const f = await auditFixture();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

test("an untouched log verifies, checkpoint and all", () =>
  withFixture(async (f) => {
    const cp = await f.checkpointer.checkpoint("manual");
    assert.ok(cp);
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.records, 13, "6 requests x (begin + completion) + 1 note");
    assert.equal(report.signedThrough, 13);
    assert.equal(report.checkpoints, 1);
  }));

test("altering one audit event row makes verify fail and name the event", () =>
  withFixture(async (f) => {
    f.raw()
      .prepare("UPDATE audit_events SET decision = 'allow', rule = 'read-everything' WHERE id = ?")
      .run("req-4");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, "altered");
    assert.equal(report.problems[0]?.id, "req-4");
    assert.match(report.problems[0]?.message ?? "", /req-4/);
  }));

test("altering a completed event's status is caught against its completion record", () =>
  withFixture(async (f) => {
    f.raw().prepare("UPDATE audit_events SET status = 200 WHERE id = ?").run("req-1");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.id, "req-1");
    assert.match(report.problems[0]?.message ?? "", /completion differs/);
  }));

test("deleting one audit event row makes verify fail and name it as removed", () =>
  withFixture(async (f) => {
    f.raw().prepare("DELETE FROM audit_events WHERE id = ?").run("req-2");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, "removed");
    assert.equal(report.problems[0]?.id, "req-2");
  }));

test("inserting an audit event row makes verify fail and name it as inserted", () =>
  withFixture(async (f) => {
    const db = f.raw();
    db.exec(`INSERT INTO audit_events (id, time, time_ms, source_address, user_agent, cluster, method, path, verb,
      api_group, api_version, namespace, resource, subresource, name, decision, chain_seq)
      SELECT 'forged', time, time_ms, source_address, user_agent, cluster, method, path, verb, api_group, api_version,
        namespace, resource, subresource, name, 'allow', chain_seq FROM audit_events WHERE id = 'req-0'`);
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.id]),
      [["inserted", "forged"]],
    );
  }));

test("deleting a chained record is reported as removed at its seq", () =>
  withFixture(async (f) => {
    f.raw().prepare("DELETE FROM audit_chain WHERE seq = 5").run();
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, "removed");
    assert.equal(report.problems[0]?.seq, 5);
  }));

test("editing a chained record's body is reported as altered at its seq", () =>
  withFixture(async (f) => {
    f.raw()
      .prepare("UPDATE audit_chain SET body = replace(body, '\"deny\"', '\"allow\"') WHERE seq = 3")
      .run();
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.kind, "altered");
    assert.equal(report.problems[0]?.seq, 3);
  }));

test("inserting a record into the chain (renumbering the rest) breaks the link at the insertion", () =>
  withFixture(async (f) => {
    const db = f.raw();
    db.exec(
      "UPDATE audit_chain SET seq = seq + 1000 WHERE seq >= 4; UPDATE audit_chain SET seq = seq - 999 WHERE seq >= 1004",
    );
    const prev = db.prepare("SELECT hash FROM audit_chain WHERE seq = 3").get() as { hash: string };
    const body = canonicalJson({
      v: 1,
      seq: 4,
      type: "identity.created",
      ref: "x",
      time: "2026-03-01T10:00:00.000Z",
      prev: prev.hash,
      data: {},
    });
    db.prepare(
      "INSERT INTO audit_chain VALUES (4, 'identity.created', 'x', '2026-03-01T10:00:00.000Z', 0, ?, ?, ?)",
    ).run(body, prev.hash, sha256Hex(body));
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.seq, 5, JSON.stringify(report.problems));
  }));

test("a chain rewritten with recomputed hashes is caught by the signed checkpoint", () =>
  withFixture(async (f) => {
    await f.checkpointer.checkpoint("manual");
    const db = f.raw();
    // Rewrite the whole chain from seq 3 on, recomputing every hash: the links are valid again, the signature is not.
    const rows = db.prepare("SELECT * FROM audit_chain WHERE seq >= 3 ORDER BY seq").all() as {
      seq: number;
      body: string;
    }[];
    let prev = (db.prepare("SELECT hash FROM audit_chain WHERE seq = 2").get() as { hash: string }).hash;
    for (const row of rows) {
      const parsed = JSON.parse(row.body) as { prev: string; data: Record<string, unknown> };
      parsed.prev = prev;
      if (row.seq === 3) parsed.data.decision = "allow";
      const body = canonicalJson(parsed);
      prev = sha256Hex(body);
      db.prepare("UPDATE audit_chain SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?").run(
        body,
        parsed.prev,
        prev,
        row.seq,
      );
    }
    db.prepare("UPDATE audit_events SET decision = 'allow' WHERE id = 'req-1'").run();
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.match(
      report.problems.map((p) => p.message).join("\n"),
      /rewritten: checkpoint 1 signed another hash/,
    );
  }));

test("checkpoints verify with the public key and fail with another key", () =>
  withFixture(async (f) => {
    await f.checkpointer.checkpoint("manual");
    await f.store.audit.note({ type: "policy.changed", actor: "admin", subject: "p" });
    await f.checkpointer.checkpoint("manual");
    assert.equal((await verifyAuditLog(f.store, f.key.publicKey)).ok, true);
    const other = await verifyAuditLog(f.store, generateSigningKey().publicKey);
    assert.equal(other.ok, false);
    assert.deepEqual(
      other.problems.map((p) => [p.kind, p.seq]),
      [
        ["checkpoint", 1],
        ["checkpoint", 2],
      ],
    );
  }));

test("truncating the end of the chain before the last checkpoint is reported as removed", () =>
  withFixture(async (f) => {
    await f.checkpointer.checkpoint("manual");
    f.raw().exec("DELETE FROM audit_chain WHERE seq >= 12");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((p) => p.kind === "removed" && p.seq === 12),
      JSON.stringify(report.problems),
    );
  }));

test("retention prunes old records behind a signed seal and the rest still verifies", () =>
  withFixture(async (f) => {
    await f.checkpointer.checkpoint("manual");
    const result = await enforceRetention(f.store, f.key, { maxRecords: 5 }, Date.now());
    assert.equal(result?.through, 8);
    assert.equal(result?.records, 8);
    assert.equal(result?.events, 4, "req-0..3 began at or before seq 8");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.deepEqual(report.problems, []);
    assert.equal(report.fromSeq, 9);
    // More writes continue the chain from the sealed head.
    await f.store.audit.note({ type: "policy.changed", actor: "admin", subject: "p" });
    assert.equal((await verifyAuditLog(f.store, f.key.publicKey)).ok, true);
    // Deleting the first remaining records without a seal is not retention.
    f.raw().exec("DELETE FROM audit_chain WHERE seq <= 10");
    const cut = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(cut.ok, false);
    assert.equal(cut.problems[0]?.kind, "removed");
  }));

test("retention by age prunes only records older than maxAge", () =>
  withFixture(async (f) => {
    // Records are stamped 10:00:00 + i s; completions use the wall clock, so prune by age at a time between them.
    const now = Date.parse("2026-03-01T10:00:02.500Z") + 1000;
    const result = await enforceRetention(f.store, f.key, { maxAgeMs: 1000 }, now);
    assert.ok(result && result.through >= 1);
    assert.equal((await verifyAuditLog(f.store, f.key.publicKey)).ok, true);
  }));

test("two store connections writing one file continue one chain instead of forking it", async () => {
  const f = await auditFixture({ requests: 2 });
  try {
    const second = await openStore({ kind: "sqlite", path: f.path });
    await second.audit.note({ type: "policy.changed", actor: "other", subject: "p" });
    await f.store.audit.note({ type: "policy.changed", actor: "first", subject: "p" });
    await second.close();
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.deepEqual(report.problems, []);
    assert.equal(report.records, 7);
  } finally {
    await f.close();
  }
});

test("events written before the chain existed are chained once, in order, when the store opens", async () => {
  const f = await auditFixture({ requests: 2 });
  try {
    const db = f.raw();
    // Simulate a database from before the chain: events without chain links, and no record of having chained them.
    db.exec("DELETE FROM audit_chain; UPDATE audit_events SET chain_seq = NULL; DELETE FROM audit_meta");
    await f.store.close();
    const reopened = await openStore({ kind: "sqlite", path: f.path });
    try {
      const report = await verifyAuditLog(reopened, f.key.publicKey);
      assert.deepEqual(report.problems, []);
      assert.equal(report.records, 4, "2 requests, begin + completion each");
      // Only once: a row inserted later is not quietly adopted by the next start.
      db.exec(
        "INSERT INTO audit_events (id, time, time_ms, source_address, user_agent, cluster, method, path, verb, api_group, api_version, namespace, resource, subresource, name, decision) VALUES ('late', '2026-03-01T10:00:00Z', 0, '', '', 'c', 'GET', '/', 'get', '', 'v1', '', 'pods', '', '', 'allow')",
      );
    } finally {
      await reopened.close();
    }
    const again = await openStore({ kind: "sqlite", path: f.path });
    try {
      const report = await verifyAuditLog(again, f.key.publicKey);
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.id]),
        [["inserted", "late"]],
      );
    } finally {
      await again.close();
    }
  } finally {
    await f.close();
  }
});

test("an open request whose row was given completion fields without a chained completion is reported", () =>
  withFixture(async (f) => {
    await f.store.audit.begin(auditEvent({ id: "req-open", time: new Date().toISOString() }));
    f.raw()
      .prepare("UPDATE audit_events SET status = 200, completed_at = ? WHERE id = ?")
      .run(new Date().toISOString(), "req-open");
    const report = await verifyAuditLog(f.store, f.key.publicKey);
    assert.equal(report.ok, false);
    assert.equal(report.problems[0]?.id, "req-open");
    assert.match(
      report.problems[0]?.message ?? "",
      /completion fields were set without a chained completion/,
    );
  }));

test("a request completing while verify walks a live log is not reported as altered", () =>
  withFixture(async (f) => {
    await f.store.audit.begin(auditEvent({ id: "req-live", time: new Date().toISOString() }));
    const walkedTo = (await f.store.audit.head()).seq;
    await f.store.audit.complete("req-live", { status: 200, bytesIn: 0, bytesOut: 1, durationMs: 1 });
    // The walk saw the chain as it was before the completion committed; the row read afterwards is completed.
    const live = new Proxy(f.store.audit, {
      get(target, prop) {
        if (prop === "records")
          return (q: { afterSeq: number; toSeq?: number; limit: number }) =>
            target.records(q.toSeq !== undefined ? { ...q, toSeq: Math.min(q.toSeq, walkedTo) } : q);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await verifyAuditLog({ audit: live }, f.key.publicKey);
    assert.deepEqual(report.problems, []);
    assert.equal(report.toSeq, walkedTo);
  }));
