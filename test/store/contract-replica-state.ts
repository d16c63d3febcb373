// The store contract for the state replicas share (issue 16 §7): console sessions by the SHA-256 of their cookie, and
// compare-and-set counters (of two writers of one version exactly one wins).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConsoleSessionRow, Store } from "../../src/store/types.ts";

function consoleSession(overrides: Partial<ConsoleSessionRow> = {}): ConsoleSessionRow {
  return {
    digest: `d-${Math.random().toString(36).slice(2)}`,
    credentialId: "cred-1",
    identityName: "alice",
    csrfToken: "csrf-1",
    createdMs: 1_000,
    lastSeenMs: 1_000,
    ...overrides,
  };
}

const keepAll = { seenSinceMs: 0, createdSinceMs: 0, max: 100 };

export function replicaStateContract(
  withStore: (fn: (store: Store) => Promise<void>) => Promise<void>,
): void {
  test("a console session is found by its digest, touched forward only, and deleted alone or by credential", () =>
    withStore(async (store) => {
      const a = consoleSession({ digest: "da" });
      const b = consoleSession({ digest: "db", credentialId: "cred-2" });
      const c = consoleSession({ digest: "dc", credentialId: "cred-2" });
      for (const s of [a, b, c]) await store.consoleSessions.create(s, keepAll);
      assert.deepEqual(await store.consoleSessions.get("da"), a);
      assert.equal(await store.consoleSessions.get("unknown"), undefined);
      await store.consoleSessions.touch("da", 5_000);
      await store.consoleSessions.touch("da", 3_000);
      assert.equal((await store.consoleSessions.get("da"))?.lastSeenMs, 5_000);
      await store.consoleSessions.delete("da");
      assert.equal(await store.consoleSessions.get("da"), undefined);
      await store.consoleSessions.deleteForCredential("cred-2");
      assert.equal(await store.consoleSessions.get("db"), undefined);
      assert.equal(await store.consoleSessions.get("dc"), undefined);
    }));

  test("creating a console session drops stale ones and keeps at most `max`, the oldest going first", () =>
    withStore(async (store) => {
      await store.consoleSessions.create(
        consoleSession({ digest: "idle", createdMs: 500, lastSeenMs: 500 }),
        keepAll,
      );
      await store.consoleSessions.create(
        consoleSession({ digest: "old", createdMs: 100, lastSeenMs: 9_000 }),
        keepAll,
      );
      await store.consoleSessions.create(consoleSession({ digest: "s1", createdMs: 2_000 }), keepAll);
      await store.consoleSessions.create(consoleSession({ digest: "s2", createdMs: 3_000 }), keepAll);
      await store.consoleSessions.create(
        consoleSession({ digest: "s3", createdMs: 4_000, lastSeenMs: 4_000 }),
        {
          seenSinceMs: 800,
          createdSinceMs: 200,
          max: 2,
        },
      );
      const left = [];
      for (const d of ["idle", "old", "s1", "s2", "s3"]) if (await store.consoleSessions.get(d)) left.push(d);
      assert.deepEqual(left, ["s2", "s3"]);
    }));

  test("a counter is compare-and-set: one of two writers of the same version wins, then the other re-reads", () =>
    withStore(async (store) => {
      assert.equal(await store.counters.get("k"), undefined);
      const firsts = await Promise.all([
        store.counters.swap("k", 0, '{"n":1}', 10_000),
        store.counters.swap("k", 0, '{"n":2}', 10_000),
      ]);
      assert.deepEqual(firsts.toSorted(), [false, true]);
      const read = await store.counters.get("k");
      assert.equal(read?.version, 1);
      const seconds = await Promise.all([
        store.counters.swap("k", 1, '{"n":3}', 20_000),
        store.counters.swap("k", 1, '{"n":4}', 20_000),
      ]);
      assert.deepEqual(seconds.toSorted(), [false, true]);
      const now = await store.counters.get("k");
      assert.equal(now?.version, 2);
      assert.ok(now?.state === '{"n":3}' || now?.state === '{"n":4}');
      assert.equal(
        await store.counters.swap("k", 1, '{"n":5}', 20_000),
        false,
        "a stale version never writes",
      );
      await store.counters.swap("other", 0, "{}", 5_000);
      assert.equal(await store.counters.purge(15_000), 1);
      assert.equal(await store.counters.get("other"), undefined);
      assert.equal((await store.counters.get("k"))?.version, 2);
    }));
}
