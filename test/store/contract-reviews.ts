// The store contract for reviews, their events and grants (called from storeContract, so every engine runs it).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Grant, Review } from "../../src/review/types.ts";
import type { Store } from "../../src/store/types.ts";

export function review(overrides: Partial<Review> = {}): Review {
  return {
    id: `rv-${Math.random().toString(36).slice(2)}`,
    fingerprint: "fp-1",
    state: "pending",
    createdAt: "2026-03-01T10:00:00.000Z",
    updatedAt: "2026-03-01T10:00:00.000Z",
    expiresAt: "2026-03-01T10:10:00.000Z",
    requester: { identityId: "id-agent", name: "demo-agent", kind: "agent", groups: ["agents"] },
    justification: null,
    cluster: "sim",
    policy: "p",
    rule: "r",
    requirement: {
      approvers: { identities: [], groups: ["sre"] },
      approvals: 1,
      mode: "wait",
      timeoutSeconds: 600,
    },
    request: {
      method: "DELETE",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      query: "",
      contentType: "",
      body: "",
      bodyEncoding: "utf8",
      bodySha256: "0".repeat(64),
      action: "delete",
      apiGroup: "apps",
      apiVersion: "v1",
      resource: "deployments",
      subresource: "",
      namespace: "prod",
      name: "web",
      execCommand: null,
    },
    approvals: [],
    denial: null,
    approvedUntil: null,
    usesLeft: 0,
    waiters: 1,
    preview: null,
    version: 1,
    ...overrides,
  };
}

function grant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: `g-${Math.random().toString(36).slice(2)}`,
    reviewId: "rv-1",
    identityId: "id-agent",
    identityName: "demo-agent",
    cluster: "sim",
    verb: "delete",
    apiGroup: "apps",
    resource: "deployments",
    namespace: "prod",
    createdBy: "alice",
    createdAt: "2026-03-01T10:00:00.000Z",
    expiresAt: "2026-03-01T10:30:00.000Z",
    revokedAt: null,
    revokedBy: null,
    endedReason: null,
    ...overrides,
  };
}

export function reviewContract(withStore: (fn: (store: Store) => Promise<void>) => Promise<void>): void {
  describe("reviews", () => {
    test("a created review reads back whole, and is found by fingerprint and state", () =>
      withStore(async (store) => {
        const r = review({
          justification: "cleanup",
          preview: { diff: "-a\n", summary: "s", dependents: [], error: null },
        });
        await store.reviews.create(r);
        assert.deepEqual(await store.reviews.get(r.id), r);
        assert.equal(await store.reviews.get("nope"), undefined);
        assert.deepEqual(
          (await store.reviews.find("fp-1", ["pending"])).map((x) => x.id),
          [r.id],
        );
        assert.deepEqual(await store.reviews.find("fp-1", ["approved"]), []);
        assert.deepEqual(await store.reviews.find("fp-2", ["pending"]), []);
        assert.deepEqual(await store.reviews.find("fp-1", []), []);
      }));

    test("a save succeeds only from the version it read (compare-and-set)", () =>
      withStore(async (store) => {
        const r = review();
        await store.reviews.create(r);
        const approved = { ...r, state: "approved" as const, usesLeft: 1, version: 2 };
        assert.equal(await store.reviews.save(approved), true);
        const stale = { ...r, state: "denied" as const, version: 2 };
        assert.equal(await store.reviews.save(stale), false, "a second writer from version 1 loses");
        assert.equal((await store.reviews.get(r.id))?.state, "approved");
        assert.deepEqual(
          (await store.reviews.find("fp-1", ["approved"])).map((x) => x.id),
          [r.id],
        );
        assert.equal(await store.reviews.save(review({ id: "unknown", version: 2 })), false);
      }));

    test("the review list is newest first, filters by state and honours the limit", () =>
      withStore(async (store) => {
        const a = review({ fingerprint: "a" });
        const b = review({ fingerprint: "b", state: "denied" });
        const c = review({ fingerprint: "c" });
        for (const r of [a, b, c]) await store.reviews.create(r);
        assert.deepEqual(
          (await store.reviews.list({})).map((x) => x.id),
          [c.id, b.id, a.id],
        );
        assert.deepEqual(
          (await store.reviews.list({ state: "pending" })).map((x) => x.id),
          [c.id, a.id],
        );
        assert.deepEqual(
          (await store.reviews.list({ limit: 1 })).map((x) => x.id),
          [c.id],
        );
      }));

    test("review events are kept in order per review", () =>
      withStore(async (store) => {
        const r = review();
        await store.reviews.create(r);
        const at = "2026-03-01T10:00:00.000Z";
        await store.reviews.appendEvent({
          reviewId: r.id,
          time: at,
          type: "created",
          actor: "demo-agent",
          detail: "d1",
        });
        await store.reviews.appendEvent({
          reviewId: r.id,
          time: at,
          type: "approved",
          actor: "alice",
          detail: "d2",
        });
        const events = await store.reviews.events(r.id);
        assert.deepEqual(
          events.map((e) => [e.type, e.actor, e.detail]),
          [
            ["created", "demo-agent", "d1"],
            ["approved", "alice", "d2"],
          ],
        );
        assert.deepEqual(await store.reviews.events("other"), []);
      }));

    test("grants: active ones are listed by identity until they expire or are revoked; revocation keeps the first time", () =>
      withStore(async (store) => {
        const g = grant();
        await store.grants.create(g);
        await store.grants.create(grant({ identityId: "id-other" }));
        assert.deepEqual(await store.grants.get(g.id), g);
        const active = (at: string) => store.grants.list({ identityId: "id-agent", activeAt: at });
        assert.deepEqual(
          (await active("2026-03-01T10:29:59.000Z")).map((x) => x.id),
          [g.id],
        );
        assert.deepEqual(await active("2026-03-01T10:30:00.000Z"), [], "a grant ends at its expiry");
        const revoked = await store.grants.revoke(g.id, "alice");
        assert.equal(revoked?.revokedBy, "alice");
        assert.ok(revoked?.revokedAt);
        assert.deepEqual(await active("2026-03-01T10:00:01.000Z"), []);
        assert.equal((await store.grants.revoke(g.id, "bob"))?.revokedBy, "alice");
        assert.equal(await store.grants.revoke("nope", "alice"), undefined);
        assert.equal((await store.grants.list({})).length, 2);
      }));

    test("grants: a grant ended by airlock keeps why (endedReason); a later revocation changes nothing", () =>
      withStore(async (store) => {
        const g = grant();
        await store.grants.create(g);
        const ended = await store.grants.revoke(g.id, "airlock", "its approver alice was revoked");
        assert.equal(ended?.revokedBy, "airlock");
        assert.equal(ended?.endedReason, "its approver alice was revoked");
        const again = await store.grants.revoke(g.id, "bob", "other");
        assert.equal(again?.revokedBy, "airlock");
        assert.equal(again?.endedReason, "its approver alice was revoked");
        assert.equal(again?.revokedAt, ended?.revokedAt);
      }));

    test("delegations: listed by human and agent, active until expiry or revocation; the first revocation is kept", () =>
      withStore(async (store) => {
        const d = {
          id: "d-1",
          human: "alice",
          humanId: "id-alice",
          agent: "demo-agent",
          agentId: "id-agent",
          createdBy: "alice",
          createdAt: "2026-03-01T10:00:00.000Z",
          expiresAt: "2026-03-01T18:00:00.000Z",
          revokedAt: null,
          revokedBy: null,
        };
        await store.delegations.create(d);
        await store.delegations.create({ ...d, id: "d-2", human: "bob", humanId: "id-bob" });
        assert.deepEqual(await store.delegations.get("d-1"), d);
        assert.equal(await store.delegations.get("nope"), undefined);
        const ids = async (q: Parameters<Store["delegations"]["list"]>[0]) =>
          (await store.delegations.list(q)).map((x) => x.id);
        assert.deepEqual(await ids({}), ["d-2", "d-1"]);
        assert.deepEqual(await ids({ human: "alice" }), ["d-1"]);
        assert.deepEqual(await ids({ agent: "demo-agent", human: "bob" }), ["d-2"]);
        assert.deepEqual(await ids({ agent: "other" }), []);
        assert.deepEqual(await ids({ human: "alice", activeAt: "2026-03-01T17:59:59.000Z" }), ["d-1"]);
        assert.deepEqual(
          await ids({ human: "alice", activeAt: "2026-03-01T18:00:00.000Z" }),
          [],
          "ends at expiry",
        );
        const revoked = await store.delegations.revoke("d-1", "admin");
        assert.equal(revoked?.revokedBy, "admin");
        assert.ok(revoked?.revokedAt);
        assert.deepEqual(await ids({ human: "alice", activeAt: "2026-03-01T10:00:01.000Z" }), []);
        assert.equal((await store.delegations.revoke("d-1", "alice"))?.revokedBy, "admin");
        assert.equal(await store.delegations.revoke("nope", "alice"), undefined);
      }));
  });
}
