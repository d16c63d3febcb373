// The review service against a real (in-memory SQLite) store and a moving clock: join, N approvals, who may decide,
// single use, expiry, withdrawal when the last waiter leaves, grants.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import type { Principal } from "../../src/identity/types.ts";
import { StatusError } from "../../src/kube/status.ts";
import type { ReviewRequirement } from "../../src/policy/decision.ts";
import { inProcessBus } from "../../src/review/bus.ts";
import { type OpenInput, ReviewService } from "../../src/review/service.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";

let now = Date.parse("2026-03-01T10:00:00.000Z");
let store: Store;
let reviews: ReviewService;
let notified: string[];

const person = (name: string, groups: string[], kind: Principal["kind"] = "human"): Principal => ({
  identityId: `id-${name}`,
  kind,
  name,
  groups,
  labels: {},
  credentialId: `cred-${name}`,
});
const agent = person("demo-agent", ["agents", "sre"], "agent");
const alice = person("alice", ["sre"]);
const bob = person("bob", ["sre"]);
const carol = person("carol", ["dev"]);

function input(
  overrides: Partial<Omit<OpenInput, "requirement">> & { requirement?: Partial<ReviewRequirement> } = {},
): OpenInput {
  const { requirement, ...rest } = overrides;
  return {
    fingerprint: "fp-1",
    requester: { identityId: agent.identityId, name: agent.name, kind: "agent", groups: agent.groups },
    justification: null,
    cluster: "sim",
    policy: "p",
    rule: "prod-writes",
    requirement: {
      approvers: { identities: [], groups: ["sre"] },
      approvals: 1,
      mode: "wait",
      timeoutSeconds: 600,
      ...requirement,
    },
    request: {
      method: "DELETE",
      path: "/apis/apps/v1/namespaces/prod/deployments/web",
      query: "",
      contentType: "application/json",
      body: "{}",
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
    held: true,
    ...rest,
  };
}

async function refused(promise: Promise<unknown>, reason: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.status.reason, reason);
    assert.match(err.status.message ?? "", message);
    return true;
  });
}

beforeEach(async () => {
  now = Date.parse("2026-03-01T10:00:00.000Z");
  store = await openStore({ kind: "sqlite", path: ":memory:", now: () => now });
  notified = [];
  reviews = new ReviewService({
    store,
    bus: inProcessBus(),
    now: () => now,
    notify: (r, type) => notified.push(`${type}:${r.state}`),
  });
});

describe("review service", () => {
  test("an identical request while a review is pending joins it instead of opening another", async () => {
    const first = await reviews.open(input());
    const second = await reviews.open(input());
    assert.equal(first.joined, false);
    assert.equal(second.joined, true);
    assert.equal(second.review.id, first.review.id);
    assert.equal(second.review.waiters, 2);
    const other = await reviews.open(input({ fingerprint: "fp-2" }));
    assert.notEqual(other.review.id, first.review.id, "another fingerprint is another review");
    const types = (await store.reviews.events(first.review.id)).map((e) => e.type);
    assert.deepEqual(types, ["created", "joined"]);
  });

  test("a rule asking for two approvals needs two distinct reviewers", async () => {
    const { review } = await reviews.open(input({ requirement: { approvals: 2 } }));
    const one = await reviews.approve(review.id, alice, { reason: "looks fine" });
    assert.equal(one.review.state, "pending");
    await refused(reviews.approve(review.id, alice), "Forbidden", /already approved/);
    const two = await reviews.approve(review.id, bob);
    assert.equal(two.review.state, "approved");
    assert.deepEqual(
      two.review.approvals.map((v) => v.by),
      ["alice", "bob"],
    );
    assert.equal(two.review.usesLeft, 1);
    assert.equal(two.review.approvedUntil, new Date(now + 3600_000).toISOString());
    assert.deepEqual(notified, ["approved:approved"]);
  });

  test("the requester cannot approve their own review, even as a human in the approving group", async () => {
    const selfHuman = person("dana", ["sre"]);
    const { review } = await reviews.open(
      input({
        requester: { identityId: selfHuman.identityId, name: "dana", kind: "human", groups: ["sre"] },
      }),
    );
    await refused(reviews.approve(review.id, selfHuman), "Forbidden", /asked for this request/);
    await refused(reviews.deny(review.id, selfHuman, "no"), "Forbidden", /asked for this request/);
    assert.equal((await reviews.get(review.id)).state, "pending");
  });

  test("agents and the admin token cannot approve; reviewers outside the rule cannot approve or deny", async () => {
    const { review } = await reviews.open(input());
    await refused(
      reviews.approve(review.id, person("bot", ["sre"], "agent")),
      "Forbidden",
      /only human reviewers/,
    );
    await refused(
      reviews.approve(review.id, person("airlock:admin", ["airlock:admins"], "admin")),
      "Forbidden",
      /admin token/,
    );
    await refused(reviews.approve(review.id, carol), "Forbidden", /not a reviewer for this rule/);
    await refused(reviews.deny(review.id, carol, "no"), "Forbidden", /not a reviewer/);
    const named = await reviews.approve(review.id, person("erin", [], "human"), {}).catch((e: unknown) => e);
    assert.ok(named instanceof StatusError, "a human not in the group is refused too");
  });

  test("a reviewer named by identity may approve without the group", async () => {
    const { review } = await reviews.open(
      input({ requirement: { approvers: { identities: ["carol"], groups: [] } } }),
    );
    assert.equal((await reviews.approve(review.id, carol)).review.state, "approved");
  });

  test("a denial needs a reason, ends the review and cannot be approved afterwards", async () => {
    const { review } = await reviews.open(input());
    await refused(reviews.deny(review.id, alice, "  "), "BadRequest", /needs a reason/);
    const denied = await reviews.deny(review.id, alice, "not during the freeze");
    assert.equal(denied.state, "denied");
    assert.deepEqual(denied.denial?.reason, "not during the freeze");
    await refused(reviews.approve(review.id, bob), "Conflict", /is denied/);
  });

  test("an approval is used once: the second consume finds nothing and the review is executed", async () => {
    const { review } = await reviews.open(input({ held: false, requirement: { mode: "retry" } }));
    assert.equal(await reviews.consumeApproved("fp-1", "req-0"), undefined, "nothing before approval");
    await reviews.approve(review.id, alice);
    const used = await reviews.consumeApproved("fp-1", "req-1");
    assert.equal(used?.id, review.id);
    assert.equal(used?.state, "executed");
    assert.equal(await reviews.consumeApproved("fp-1", "req-2"), undefined);
    assert.equal(await reviews.consumeApproved("fp-other", "req-3"), undefined);
    const types = (await store.reviews.events(review.id)).map((e) => e.type);
    assert.deepEqual(types, ["created", "approved", "executed"]);
  });

  test("two requests racing for one approval: exactly one wins", async () => {
    const { review } = await reviews.open(input({ held: false }));
    await reviews.approve(review.id, alice);
    const results = await Promise.all([1, 2, 3, 4].map((i) => reviews.consumeApproved("fp-1", `req-${i}`)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  test("a pending review expires at its deadline; an unused approval lapses after its lifetime", async () => {
    const { review } = await reviews.open(input({ requirement: { timeoutSeconds: 60 } }));
    now += 61_000;
    assert.equal((await reviews.get(review.id)).state, "expired");
    await refused(reviews.approve(review.id, alice), "Conflict", /expired/);
    const again = await reviews.open(input());
    assert.notEqual(again.review.id, review.id, "an expired review is not joined");
    await reviews.approve(again.review.id, alice);
    now += 3601_000;
    assert.equal(await reviews.consumeApproved("fp-1", "req-late"), undefined);
    assert.equal((await reviews.get(again.review.id)).state, "expired");
  });

  test("the last waiter leaving withdraws the review; an earlier one leaving does not", async () => {
    const { review } = await reviews.open(input());
    await reviews.open(input());
    await reviews.leave(review.id, "demo-agent");
    assert.equal((await reviews.get(review.id)).state, "pending");
    await reviews.leave(review.id, "demo-agent");
    const gone = await reviews.get(review.id);
    assert.equal(gone.state, "withdrawn");
    assert.equal(gone.waiters, 0);
    assert.ok(notified.includes("withdrawn:withdrawn"));
  });

  test("a waiter learns of the approval at once, of a timeout at the deadline, and of its own abort", async () => {
    const { review } = await reviews.open(input());
    const waiting = reviews.waitForDecision(review.id, new AbortController().signal);
    setTimeout(() => void reviews.approve(review.id, alice), 10);
    const outcome = await waiting;
    assert.equal(outcome.kind, "decided");
    assert.equal(outcome.kind === "decided" && outcome.review.state, "approved");

    const aborted = new AbortController();
    const other = await reviews.open(input({ fingerprint: "fp-2" }));
    const pending = reviews.waitForDecision(other.review.id, aborted.signal);
    aborted.abort();
    assert.equal((await pending).kind, "aborted");

    const late = await reviews.open(input({ fingerprint: "fp-3", requirement: { timeoutSeconds: 1 } }));
    now += 1000;
    assert.equal(
      (await reviews.waitForDecision(late.review.id, new AbortController().signal)).kind,
      "timeout",
    );
  });

  test("an approval with a grant lets the identity run the same verb and resource in that namespace, until revoked", async () => {
    const { review } = await reviews.open(input());
    await refused(
      reviews.approve(review.id, alice, { grantSeconds: 10 * 86_400 }),
      "BadRequest",
      /grant lasts/,
    );
    const { grant } = await reviews.approve(review.id, alice, { grantSeconds: 1800 });
    assert.ok(grant);
    assert.equal(grant.identityName, "demo-agent");
    assert.equal(grant.expiresAt, new Date(now + 1800_000).toISOString());
    const target = { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod" };
    assert.equal((await reviews.findGrant(agent.identityId, "sim", target))?.id, grant.id);
    assert.equal(
      await reviews.findGrant(agent.identityId, "sim", { ...target, namespace: "staging" }),
      undefined,
    );
    assert.equal(await reviews.findGrant(agent.identityId, "sim", { ...target, verb: "patch" }), undefined);
    assert.equal(await reviews.findGrant(agent.identityId, "other", target), undefined);
    assert.equal(await reviews.findGrant("id-someone-else", "sim", target), undefined);
    now += 60_000;
    const revoked = await reviews.revokeGrant(grant.id, alice);
    assert.equal(revoked.revokedBy, "alice");
    assert.equal(await reviews.findGrant(agent.identityId, "sim", target), undefined);
  });

  test("a grant ends at its expiry", async () => {
    const { review } = await reviews.open(input());
    await reviews.approve(review.id, alice, { grantSeconds: 60 });
    const target = { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod" };
    assert.ok(await reviews.findGrant(agent.identityId, "sim", target));
    now += 60_000;
    assert.equal(await reviews.findGrant(agent.identityId, "sim", target), undefined);
  });

  test("list filters by state and applies expiry before filtering", async () => {
    const a = await reviews.open(input({ requirement: { timeoutSeconds: 10 } }));
    const b = await reviews.open(input({ fingerprint: "fp-2" }));
    now += 11_000;
    const pending = await reviews.list({ state: "pending" });
    assert.deepEqual(
      pending.map((r) => r.id),
      [b.review.id],
    );
    assert.equal((await reviews.list({ state: "expired" }))[0]?.id, a.review.id);
  });
});
