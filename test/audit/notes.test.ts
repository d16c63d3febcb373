// Audit-worthy events are chained notes (issues 4, 6, 7), on a real gateway: identity changes through the admin API,
// managed-policy changes and the reloads they cause, review steps through the gateway's review service; the log
// still verifies afterwards, and no note carries a token.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { after, before, test } from "node:test";
import type { AuditRecord } from "../../src/audit/types.ts";
import type { Principal } from "../../src/identity/types.ts";
import type { Review } from "../../src/review/types.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { review as makeReview } from "../store/contract-reviews.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let adminToken: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO], seed: "empty" });
  adminToken = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
});
after(() => gw?.close());

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, checked field by field below
type Json = any;

function call(method: string, path: string, body?: unknown, token = adminToken) {
  return callGateway(gw, method, path, token, body).then((r) => ({ code: r.code, body: r.body ?? null }));
}

/** Notes chained since `afterSeq`, with their data parsed. */
async function notesAfter(afterSeq: number): Promise<{ record: AuditRecord; data: Json }[]> {
  const records = await gw.gateway.store.audit.records({ afterSeq, limit: 10_000 });
  return records
    .filter((r) => !r.type.startsWith("request"))
    .map((record) => ({ record, data: (JSON.parse(record.body) as { data: Json }).data }));
}

const head = async () => (await gw.gateway.store.audit.head()).seq;

test("the policy set in force at start is chained as policy.loaded", async () => {
  const loaded = (await notesAfter(0)).filter((n) => n.record.type === "policy.loaded");
  assert.equal(loaded.length, 1);
  assert.ok(((loaded[0]?.data.detail.policies ?? []) as string[]).length > 0);
});

test("every identity change through the admin API is an identity.* note naming actor and subject, never a token", async () => {
  const from = await head();
  const created = await call("POST", "/airlock/v1/identities", {
    name: "note-bot",
    kind: "agent",
    groups: ["agents"],
  });
  assert.equal(created.code, 201);
  assert.equal((await call("PATCH", "/airlock/v1/identities/note-bot", { labels: { team: "a" } })).code, 200);
  assert.equal((await call("POST", "/airlock/v1/identities/note-bot/disable")).code, 200);
  assert.equal((await call("POST", "/airlock/v1/identities/note-bot/enable")).code, 200);
  const issued = await call("POST", "/airlock/v1/identities/note-bot/tokens", { name: "second" });
  assert.equal(issued.code, 201);
  const rotated = await call("POST", "/airlock/v1/identities/note-bot/tokens/rotate", {
    credentialId: issued.body.credential.id,
    overlapSeconds: 0,
  });
  assert.equal(rotated.code, 201);
  const revokedCred = await call(
    "POST",
    `/airlock/v1/identities/note-bot/credentials/${rotated.body.credential.id}/revoke`,
  );
  assert.equal(revokedCred.code, 200);
  const cert = await call("POST", "/airlock/v1/identities/note-bot/certificates", {});
  assert.equal(cert.code, 201);
  const session = await call(
    "POST",
    "/airlock/v1/credentials/session",
    { reason: "notes test" },
    created.body.token,
  );
  assert.equal(session.code, 201);
  assert.equal((await call("POST", "/airlock/v1/identities/note-bot/revoke")).code, 200);

  const notes = (await notesAfter(from)).filter((n) => n.record.type.startsWith("identity."));
  assert.deepEqual(
    notes.map((n) => n.record.type),
    [
      "identity.created",
      "identity.updated",
      "identity.disabled",
      "identity.enabled",
      "identity.token.issued",
      "identity.token.rotated",
      "identity.credential.revoked",
      "identity.certificate.issued",
      "identity.session.issued",
      "identity.revoked",
    ],
  );
  for (const n of notes) {
    assert.equal(n.data.subject, "note-bot", n.record.type);
    assert.equal(n.data.actor, n.record.type === "identity.session.issued" ? "note-bot" : "airlock:admin");
  }
  assert.deepEqual(notes[1]?.data.detail.labels, { team: "a" });
  assert.equal(notes[5]?.data.detail.replaced, issued.body.credential.id);
  const secrets = [
    created.body.token,
    issued.body.token,
    rotated.body.token,
    session.body.token,
    cert.body.key,
  ];
  const all = (await gw.gateway.store.audit.records({ afterSeq: from, limit: 10_000 }))
    .map((r) => r.body)
    .join("\n");
  for (const secret of secrets) assert.ok(!all.includes(secret), "a secret reached the audit log");
});

test("a managed policy put and delete are policy.* notes before the reload they cause", async () => {
  const from = await head();
  const doc = {
    apiVersion: "airlock.dev/v1alpha1",
    kind: "Policy",
    metadata: { name: "notes-extra" },
    spec: {
      subjects: [{ group: "agents" }],
      rules: [{ name: "read-cm", verbs: ["get"], resources: ["configmaps"], effect: "allow" }],
    },
  };
  assert.equal((await call("PUT", "/airlock/v1/policies/notes-extra", doc)).code, 201);
  assert.equal((await call("DELETE", "/airlock/v1/policies/notes-extra")).code, 200);
  const types = (await notesAfter(from)).map((n) => `${n.record.type}:${n.data.actor}:${n.data.subject}`);
  // The file watcher may add reloads of its own; the order that matters is change note, then a reload.
  const put = types.indexOf("policy.put:airlock:admin:notes-extra");
  const deleted = types.indexOf("policy.deleted:airlock:admin:notes-extra");
  assert.equal(put, 0, types.join(", "));
  assert.ok(deleted > put, types.join(", "));
  assert.ok(types.slice(put + 1, deleted).includes("policy.reloaded:airlock:policies"), types.join(", "));
  assert.ok(types.slice(deleted + 1).includes("policy.reloaded:airlock:policies"), types.join(", "));
});

test("review steps are review.* notes in the chain, each before its row in the review's trail", async () => {
  const reviews = gw.gateway.runtime.reviews;
  assert.ok(reviews);
  const from = await head();
  const agent = await gw.addIdentity("review-agent", "agent", ["agents"]);
  const alice = await gw.addIdentity("alice", "human", ["sre"]);
  const base: Review = makeReview({ fingerprint: `fp-notes-${Date.now()}` });
  const {
    id: _id,
    state: _s,
    createdAt: _c,
    updatedAt: _u,
    expiresAt: _e,
    approvals: _a,
    denial: _d,
    ...rest
  } = base;
  const { approvedUntil: _au, usesLeft: _ul, waiters: _w, preview: _p, version: _v, ...fields } = rest;
  const input = {
    ...fields,
    requester: { identityId: agent.id, name: "review-agent", kind: "agent", groups: ["agents"] },
    held: false,
  };
  const { review } = await reviews.open(input);
  await reviews.open(input); // joins
  const reviewer: Principal = {
    identityId: alice.id,
    kind: "human",
    name: "alice",
    groups: ["sre"],
    labels: {},
    credentialId: "c",
  };
  const { grant } = await reviews.approve(review.id, reviewer, { reason: "looks fine", grantSeconds: 60 });
  assert.ok(grant);
  assert.ok(await reviews.consumeApproved(review.fingerprint, "req-1"));
  await reviews.revokeGrant(grant.id, reviewer);
  const { review: second } = await reviews.open({ ...input, fingerprint: `${input.fingerprint}-2` });
  await reviews.deny(second.id, reviewer, "not today");

  const notes = (await notesAfter(from)).filter((n) => n.record.type.startsWith("review."));
  const steps = notes.filter((n) => n.data.subject === review.id).map((n) => n.record.type);
  assert.deepEqual(steps, [
    "review.created",
    "review.joined",
    "review.approved",
    "review.grant.created",
    "review.executed",
    "review.grant.revoked",
  ]);
  const approved = notes.find((n) => n.record.type === "review.approved");
  assert.equal(approved?.data.actor, "alice");
  assert.equal(approved?.data.detail.requester, "review-agent");
  assert.equal(approved?.data.detail.fingerprint, review.fingerprint);
  assert.equal(approved?.data.detail.reason, "looks fine");
  const denied = notes.find((n) => n.record.type === "review.denied");
  assert.equal(denied?.data.subject, second.id);
  assert.equal(denied?.data.detail.reason, "not today");
  // The chained note comes first, the trail row after it.
  const trail = await gw.gateway.store.reviews.events(review.id);
  assert.ok(trail.some((e) => e.type === "approved"));
  assert.ok(
    Date.parse(approved?.record.time ?? "") <=
      Date.parse(trail.find((e) => e.type === "approved")?.time ?? ""),
  );
});

test("the log with all these notes still verifies, and the jsonl export lists them", async () => {
  const report = await call("GET", "/airlock/v1/audit/verify");
  assert.equal(report.code, 200);
  assert.equal(report.body.ok, true, JSON.stringify(report.body.problems));
  const exported = await new Promise<string>((resolve, reject) => {
    request(
      `${gw.gateway.url}/airlock/v1/audit/export?format=jsonl`,
      { ca: gw.gateway.caPem, headers: { authorization: `Bearer ${adminToken}` } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve(text));
      },
    )
      .on("error", reject)
      .end();
  });
  const types = exported
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { type: string }).type);
  for (const t of ["identity.created", "policy.put", "review.approved", "review.grant.revoked"])
    assert.ok(types.includes(t), t);
});
