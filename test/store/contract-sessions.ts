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
      await store.sessionSave(a);
      await store.sessionSave(b);
      assert.deepEqual(await store.sessionGet("sa"), a);
      const updated = {
        ...a,
        requests: 9,
        lastSeenAt: "2026-03-01T10:00:09.000Z",
        commands: ["kubectl get", "kubectl exec"],
      };
      await store.sessionSave(updated);
      assert.deepEqual(await store.sessionGet("sa"), updated);
      assert.deepEqual(
        (await store.sessionList({})).map((s) => s.id),
        ["sa", "sb"],
      );
      assert.deepEqual(
        (await store.sessionList({ identityName: "agent-2" })).map((s) => s.id),
        ["sb"],
      );
      assert.deepEqual(
        (await store.sessionList({ since: "2026-03-01T10:00:05.000Z" })).map((s) => s.id),
        ["sa"],
      );
      assert.deepEqual(
        (await store.sessionList({ limit: 1 })).map((s) => s.id),
        ["sa"],
      );
      assert.equal(await store.sessionGet("nope"), undefined);
    }));

  test("a session is found by its key only while active since the given time", () =>
    withStore(async (store) => {
      await store.sessionSave(session({ id: "old", key: "w", lastSeenAt: "2026-03-01T09:00:00.000Z" }));
      await store.sessionSave(session({ id: "new", key: "w", lastSeenAt: "2026-03-01T10:00:00.000Z" }));
      assert.equal((await store.sessionFindRecent("w", "2026-03-01T08:00:00.000Z"))?.id, "new");
      assert.equal(await store.sessionFindRecent("w", "2026-03-01T10:00:01.000Z"), undefined);
      assert.equal(await store.sessionFindRecent("other", "2026-03-01T00:00:00.000Z"), undefined);
    }));

  test("a request event keeps its session id, and a session's timeline is its events in arrival order", () =>
    withStore(async (store) => {
      await store.auditBegin(auditEvent({ id: "t1", sessionId: "s1" }));
      await store.auditBegin(auditEvent({ id: "t2", sessionId: "s2" }));
      await store.auditBegin(auditEvent({ id: "t3", sessionId: "s1", decision: "deny" }));
      await store.auditBegin(auditEvent({ id: "t4" }));
      const timeline = await store.sessionEvents("s1", 100);
      assert.deepEqual(
        timeline.map((e) => e.id),
        ["t1", "t3"],
      );
      assert.equal(timeline[0]?.sessionId, "s1");
      const [plain] = await store.auditEventsByIds(["t4"]);
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
      await store.recordingSave(rec("r1", "s1"));
      await store.recordingSave(rec("r2", "s1"));
      await store.recordingSave(rec("r3", "s2"));
      const ended = { ...rec("r1", "s1"), endedAt: "2026-03-01T10:01:00.000Z", bytes: 42, exitCode: 0 };
      await store.recordingSave(ended);
      assert.deepEqual(await store.recordingGet("r1"), ended);
      assert.deepEqual(
        (await store.recordingList("s1")).map((r) => r.id),
        ["r1", "r2"],
      );
      assert.deepEqual(await store.recordingList("none"), []);
    }));
}
