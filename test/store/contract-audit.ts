// The audit chain's share of the store contract (src/audit, docs/audit.md): what every engine must do so that the
// engine-neutral verifier, export and sinks work on it. Called from storeContract.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sha256Hex } from "../../src/audit/canonical.ts";
import { GENESIS_HASH } from "../../src/audit/chain.ts";
import { buildCheckpoint } from "../../src/audit/checkpoint.ts";
import { generateSigningKey } from "../../src/audit/signing.ts";
import type { Store } from "../../src/store/types.ts";
import { auditEvent } from "./contract.ts";

type WithStore = (fn: (store: Store) => Promise<void>) => Promise<void>;

export function auditChainContract(withStore: WithStore): void {
  test("audit writes are chained: begin and completion are records, each linking to the one before", () =>
    withStore(async (store) => {
      assert.deepEqual(await store.audit.head(), { seq: 0, hash: GENESIS_HASH });
      const event = auditEvent({ id: "chained" });
      await store.audit.begin(event);
      await store.audit.complete("chained", { status: 200, bytesIn: 1, bytesOut: 2, durationMs: 3 });
      const note = await store.audit.note({
        type: "identity.created",
        actor: "admin",
        subject: "bot",
        detail: { n: 1 },
      });
      const records = await store.audit.records({ afterSeq: 0, limit: 10 });
      assert.deepEqual(
        records.map((r) => [r.seq, r.type, r.ref]),
        [
          [1, "request", "chained"],
          [2, "request.completed", "chained"],
          [3, "identity.created", note.ref],
        ],
      );
      let prev = GENESIS_HASH;
      for (const r of records) {
        assert.equal(r.prevHash, prev);
        assert.equal(r.hash, sha256Hex(r.body));
        assert.equal(JSON.parse(r.body).prev, prev);
        prev = r.hash;
      }
      assert.deepEqual(await store.audit.head(), { seq: 3, hash: prev });
      assert.deepEqual(
        (await store.audit.records({ afterSeq: 1, toSeq: 2, limit: 10 })).map((r) => r.seq),
        [2],
      );
      assert.deepEqual(
        (await store.audit.eventsByIds(["chained", "nope"])).map((e) => e.status),
        [200],
      );
      assert.deepEqual(await store.audit.unchained(10), []);
    }));

  test("a refused audit write leaves the chain intact for the writes around it", () =>
    withStore(async (store) => {
      const event = auditEvent({ id: "dup" });
      const results = await Promise.allSettled([
        store.audit.begin(event),
        store.audit.begin({ ...event, path: "/again" }),
        store.audit.note({ type: "not a type", actor: "a", subject: "s" }),
        store.audit.note({ type: "policy.changed", actor: "a", subject: "p", detail: { ratio: 0.5 } }),
        store.audit.begin(auditEvent({ id: "after" })),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "rejected", "rejected", "fulfilled"],
      );
      const records = await store.audit.records({ afterSeq: 0, limit: 10 });
      assert.deepEqual(
        records.map((r) => [r.seq, r.ref]),
        [
          [1, "dup"],
          [2, "after"],
        ],
      );
      assert.equal(records[1]?.prevHash, records[0]?.hash);
    }));

  test("audit search filters by verb, resource, namespace, decision and time, and pages with a cursor", () =>
    withStore(async (store) => {
      const at = (m: number) => new Date(Date.parse("2026-03-01T10:00:00Z") + m * 60_000).toISOString();
      for (let i = 0; i < 5; i++) {
        await store.audit.begin(
          auditEvent({
            id: `s${i}`,
            time: at(i),
            verb: i % 2 ? "delete" : "get",
            resource: i < 3 ? "pods" : "secrets",
            namespace: i === 4 ? "prod" : "default",
            decision: i % 2 ? "deny" : "allow",
          }),
        );
      }
      const ids = async (q: Parameters<Store["audit"]["search"]>[0]) =>
        (await store.audit.search(q)).items.map((e) => e.id);
      assert.deepEqual(await ids({ verb: "delete" }), ["s3", "s1"]);
      assert.deepEqual(await ids({ resource: "secrets" }), ["s4", "s3"]);
      assert.deepEqual(await ids({ namespace: "prod" }), ["s4"]);
      assert.deepEqual(await ids({ decision: "allow", since: at(1), until: at(4) }), ["s2"]);
      const first = await store.audit.search({ limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.id),
        ["s4", "s3"],
      );
      assert.ok(first.nextCursor);
      const second = await store.audit.search({ limit: 2, cursor: first.nextCursor });
      assert.deepEqual(
        second.items.map((e) => e.id),
        ["s2", "s1"],
      );
      const last = await store.audit.search({ limit: 2, cursor: second.nextCursor ?? "" });
      assert.deepEqual(
        last.items.map((e) => e.id),
        ["s0"],
      );
      assert.equal(last.nextCursor, null);
      await assert.rejects(store.audit.search({ cursor: "garbage" }), /cursor/);
    }));

  test("checkpoints are stored in order, and pruning refuses a seal that does not match the record it names", () =>
    withStore(async (store) => {
      const key = generateSigningKey();
      for (let i = 0; i < 4; i++)
        await store.audit.note({ type: "policy.changed", actor: "a", subject: `p${i}` });
      const head = await store.audit.head();
      const first = buildCheckpoint(undefined, head, "2026-03-01T10:00:00.000Z", "periodic", key);
      await store.audit.appendCheckpoint(first);
      assert.deepEqual(await store.audit.checkpoints(), [first]);
      const [second] = await store.audit.records({ afterSeq: 1, toSeq: 2, limit: 1 });
      assert.ok(second);
      const wrong = buildCheckpoint(
        first,
        { seq: 2, hash: "f".repeat(64) },
        "2026-03-01T10:01:00.000Z",
        "retention",
        key,
      );
      await assert.rejects(store.audit.prune(2, wrong), /does not match/);
      assert.equal((await store.audit.records({ afterSeq: 0, limit: 10 })).length, 4, "nothing was pruned");
      const seal = buildCheckpoint(
        first,
        { seq: 2, hash: second.hash },
        "2026-03-01T10:01:00.000Z",
        "retention",
        key,
      );
      assert.deepEqual(await store.audit.prune(2, seal), { records: 2, events: 0 });
      assert.deepEqual(
        (await store.audit.records({ afterSeq: 0, limit: 10 })).map((r) => r.seq),
        [3, 4],
      );
      assert.equal((await store.audit.checkpoints()).length, 2);
      assert.deepEqual(await store.audit.head(), head, "the head is unchanged by pruning");
    }));

  test("a sink's delivery position is kept per name", () =>
    withStore(async (store) => {
      assert.equal(await store.audit.cursorGet("file"), 0);
      await store.audit.cursorSet("file", 7);
      await store.audit.cursorSet("file", 9);
      await store.audit.cursorSet("webhook", 3);
      assert.equal(await store.audit.cursorGet("file"), 9);
      assert.equal(await store.audit.cursorGet("webhook"), 3);
    }));

  test("commit listeners hear about every committed batch, with the new head", () =>
    withStore(async (store) => {
      const heads: number[] = [];
      const stop = store.audit.watch((head) => heads.push(head.seq));
      await Promise.all([
        store.audit.note({ type: "session.started", actor: "a", subject: "s" }),
        store.audit.note({ type: "session.ended", actor: "a", subject: "s" }),
      ]);
      await store.audit.note({ type: "session.started", actor: "a", subject: "t" });
      stop();
      await store.audit.note({ type: "session.ended", actor: "a", subject: "t" });
      assert.equal(heads.at(-1), 3);
      assert.ok(heads.every((seq, i) => i === 0 || seq > (heads[i - 1] ?? 0)));
    }));
}
