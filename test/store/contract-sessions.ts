// The store contract for sessions and recordings (src/recording): saved whole and read back, listed newest activity
// first with filters, found by key within an activity window, and a session's timeline from the audit events.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RecordingRecord, SessionRecord } from "../../src/recording/types.ts";
import type { Store } from "../../src/store/types.ts";
import { auditEvent } from "./contract.ts";

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: `s-${Math.random().toString(36).slice(2)}`,
    kind: "kubectl",
    key: "kubectl\u0000id-1\u0000c\u0000uuid-1",
    identityId: "id-1",
    identityName: "agent-1",
    cluster: "c",
    startedAt: "2026-03-01T10:00:00.000Z",
    lastSeenAt: "2026-03-01T10:00:05.000Z",
    requests: 3,
    decisions: { allow: 2, deny: 1, review: 0 },
    commands: ["kubectl get"],
    ...overrides,
  };
}

export function sessionContract(withStore: (fn: (store: Store) => Promise<void>) => Promise<void>): void {
  test("a session is saved whole, updated in place, listed newest first and filtered by identity and time", () =>
    withStore(async (store) => {
      const a = session({ id: "sa", lastSeenAt: "2026-03-01T10:00:01.000Z" });
      const b = session({
        id: "sb",
        identityName: "agent-2",
        key: "k2",
        lastSeenAt: "2026-03-01T10:00:03.000Z",
      });
      await store.sessions.save(a);
      await store.sessions.save(b);
      assert.deepEqual(await store.sessions.get("sa"), a);
      const updated = {
        ...a,
        requests: 9,
        lastSeenAt: "2026-03-01T10:00:09.000Z",
        commands: ["kubectl get", "kubectl exec"],
      };
      await store.sessions.save(updated);
      assert.deepEqual(await store.sessions.get("sa"), updated);
      assert.deepEqual(
        (await store.sessions.list({})).map((s) => s.id),
        ["sa", "sb"],
      );
      assert.deepEqual(
        (await store.sessions.list({ identityName: "agent-2" })).map((s) => s.id),
        ["sb"],
      );
      assert.deepEqual(
        (await store.sessions.list({ since: "2026-03-01T10:00:05.000Z" })).map((s) => s.id),
        ["sa"],
      );
      assert.deepEqual(
        (await store.sessions.list({ limit: 1 })).map((s) => s.id),
        ["sa"],
      );
      assert.equal(await store.sessions.get("nope"), undefined);
    }));

  test("a session is found by its key only while active since the given time", () =>
    withStore(async (store) => {
      await store.sessions.save(session({ id: "old", key: "w", lastSeenAt: "2026-03-01T09:00:00.000Z" }));
      await store.sessions.save(session({ id: "new", key: "w", lastSeenAt: "2026-03-01T10:00:00.000Z" }));
      assert.equal((await store.sessions.findRecent("w", "2026-03-01T08:00:00.000Z"))?.id, "new");
      assert.equal(await store.sessions.findRecent("w", "2026-03-01T10:00:01.000Z"), undefined);
      assert.equal(await store.sessions.findRecent("other", "2026-03-01T00:00:00.000Z"), undefined);
    }));

  test("a request event keeps its session id, and a session's timeline is its events in arrival order", () =>
    withStore(async (store) => {
      await store.audit.begin(auditEvent({ id: "t1", sessionId: "s1" }));
      await store.audit.begin(auditEvent({ id: "t2", sessionId: "s2" }));
      await store.audit.begin(auditEvent({ id: "t3", sessionId: "s1", decision: "deny" }));
      await store.audit.begin(auditEvent({ id: "t4" }));
      const timeline = await store.sessions.events("s1", 100);
      assert.deepEqual(
        timeline.map((e) => e.id),
        ["t1", "t3"],
      );
      assert.equal(timeline[0]?.sessionId, "s1");
      const [plain] = await store.audit.eventsByIds(["t4"]);
      assert.ok(plain && !("sessionId" in plain), "events without a session read back without the field");
    }));

  test("recordings are saved, updated when they end, and listed per session oldest first", () =>
    withStore(async (store) => {
      const rec = (id: string, sessionId: string): RecordingRecord => ({
        id,
        sessionId,
        requestId: `req-${id}`,
        kind: "exec",
        format: "asciicast",
        file: `${sessionId}/${id}.cast`,
        startedAt: "2026-03-01T10:00:00.000Z",
        endedAt: null,
        bytes: 0,
        exitCode: null,
        truncated: false,
        detail: { command: ["sh"] },
      });
      await store.recordings.save(rec("r1", "s1"));
      await store.recordings.save(rec("r2", "s1"));
      await store.recordings.save(rec("r3", "s2"));
      const ended = { ...rec("r1", "s1"), endedAt: "2026-03-01T10:01:00.000Z", bytes: 42, exitCode: 0 };
      await store.recordings.save(ended);
      assert.deepEqual(await store.recordings.get("r1"), ended);
      assert.deepEqual(
        (await store.recordings.list("s1")).map((r) => r.id),
        ["r1", "r2"],
      );
      assert.deepEqual(await store.recordings.list("none"), []);
    }));
}
