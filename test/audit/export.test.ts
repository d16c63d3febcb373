import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { exportLines, type K8sAuditEvent, microTime, toK8sEvent } from "../../src/audit/export.ts";
import { auditEvent } from "../store/contract.ts";
import { type AuditFixture, auditFixture } from "./fixtures.ts";

let f: AuditFixture;
before(async () => {
  f = await auditFixture();
  // A refused request (recorded like recordRefusal does) and one still in flight.
  await f.store.audit.begin(
    auditEvent({
      id: "anon",
      identityId: null,
      identityName: null,
      identityKind: null,
      credentialId: null,
      decision: "deny",
      reason: "no token",
      policy: null,
      rule: null,
    }),
  );
  await f.store.audit.complete("anon", { status: 401, bytesIn: 0, bytesOut: 120, durationMs: 1 });
  await f.store.audit.begin(
    auditEvent({
      id: "in-flight",
      verb: "exec",
      method: "POST",
      resource: "pods",
      subresource: "exec",
      name: "web-0",
      execCommand: ["sh"],
    }),
  );
});
after(() => f.close());

const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const STAGES = new Set(["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]);
const VERBS = new Set(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]);

/** The required fields and shapes of audit.k8s.io/v1 Event (k8s.io/apiserver/pkg/apis/audit/v1/types.go). */
function assertK8sEvent(e: K8sAuditEvent): void {
  assert.equal(e.kind, "Event");
  assert.equal(e.apiVersion, "audit.k8s.io/v1");
  assert.ok(["None", "Metadata", "Request", "RequestResponse"].includes(e.level));
  assert.equal(typeof e.auditID, "string");
  assert.ok(e.auditID.length > 0);
  assert.ok(STAGES.has(e.stage), e.stage);
  assert.ok(e.requestURI.startsWith("/"));
  assert.ok(VERBS.has(e.verb), `verb ${e.verb}`);
  assert.equal(typeof e.user.username, "string");
  assert.ok(Array.isArray(e.user.groups) && e.user.groups.every((g) => typeof g === "string"));
  assert.ok(Array.isArray(e.sourceIPs) && e.sourceIPs.length > 0);
  assert.equal(typeof e.userAgent, "string");
  assert.match(e.requestReceivedTimestamp, MICRO);
  assert.match(e.stageTimestamp, MICRO);
  if (e.objectRef) {
    const allowed = new Set([
      "resource",
      "namespace",
      "name",
      "uid",
      "apiGroup",
      "apiVersion",
      "resourceVersion",
      "subresource",
    ]);
    for (const [k, v] of Object.entries(e.objectRef)) {
      assert.ok(allowed.has(k), k);
      assert.equal(typeof v, "string");
    }
  }
  if (e.responseStatus) assert.equal(typeof e.responseStatus.code, "number");
  for (const v of Object.values(e.annotations)) assert.equal(typeof v, "string");
}

async function collect(format: "k8s" | "jsonl", since?: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const line of exportLines(f.store, { format, ...(since ? { since } : {}), pageSize: 3 }))
    out.push(JSON.parse(line));
  return out;
}

test("export --format k8s gives valid audit.k8s.io/v1 events for allowed, denied and refused requests", async () => {
  const events = (await collect("k8s")) as unknown as K8sAuditEvent[];
  assert.equal(events.length, 8, "6 requests + the refusal + the one in flight; notes are not k8s events");
  for (const e of events) assertK8sEvent(e);
  const byId = new Map(events.map((e) => [e.auditID, e]));
  const allowed = byId.get("req-0");
  assert.equal(allowed?.stage, "ResponseComplete");
  assert.equal(allowed?.user.username, "airlock:agent-1");
  assert.deepEqual(allowed?.user.groups, ["airlock:agents", "agents"]);
  assert.deepEqual(allowed?.objectRef, {
    resource: "pods",
    namespace: "default",
    name: "web-0",
    apiVersion: "v1",
  });
  assert.deepEqual(allowed?.responseStatus, { metadata: {}, code: 200 });
  assert.equal(allowed?.annotations["airlock.dev/decision"], "allow");
  assert.equal(allowed?.annotations["airlock.dev/rule"], "read-everything");
  assert.equal(allowed?.annotations["airlock.dev/session"], "session-1");
  const denied = byId.get("req-1");
  assert.equal(denied?.verb, "delete");
  assert.equal(denied?.responseStatus?.code, 403);
  assert.equal(denied?.annotations["authorization.k8s.io/decision"], "forbid");
  assert.equal(denied?.annotations["airlock.dev/policy"], "p");
  assert.equal(denied?.responseStatus?.message, "deletes are not allowed");
  const anon = byId.get("anon");
  assert.equal(anon?.user.username, "system:anonymous");
  assert.equal(anon?.responseStatus?.code, 401);
  const flight = byId.get("in-flight");
  assert.equal(flight?.stage, "RequestReceived");
  assert.equal(flight?.verb, "create", "exec is a POST: create on pods/exec, as kube-apiserver logs it");
  assert.equal(flight?.objectRef?.subresource, "exec");
});

test("export --format jsonl gives Airlock's schema with chain positions, notes included, and honours --since", async () => {
  const lines = await collect("jsonl");
  assert.equal(lines.length, 9);
  const note = lines.find((l) => l.type === "identity.revoked");
  assert.equal(note?.actor, "admin");
  assert.equal(note?.subject, "agent-1");
  const first = lines[0];
  assert.equal(first?.type, "request");
  assert.equal(first?.seq, 1);
  assert.match(String(first?.hash), /^[0-9a-f]{64}$/);
  assert.equal(first?.status, 200);
  const since = await collect("jsonl", "2026-03-01T10:00:03.000Z");
  assert.deepEqual(
    since
      .filter((l) => l.type === "request")
      .map((l) => l.id)
      .slice(0, 3),
    ["req-3", "req-4", "req-5"],
  );
});

test("MicroTime has six fractional digits", () => {
  assert.equal(microTime("2026-03-01T10:00:00.123Z"), "2026-03-01T10:00:00.123000Z");
  assert.equal(
    toK8sEvent(auditEvent({ time: "2026-03-01T10:00:00Z" })).requestReceivedTimestamp,
    "2026-03-01T10:00:00.000000Z",
  );
});
