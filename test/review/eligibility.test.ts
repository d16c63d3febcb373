// Who may approve (src/review/eligibility.ts), table-tested: nobody in the chain of who asked (requester, the human
// it acted for, identities those people own), N-of-M counted in people (owner, else identity).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Principal } from "../../src/identity/types.ts";
import { mayDecide, personOf } from "../../src/review/eligibility.ts";
import type { Review } from "../../src/review/types.ts";
import { review as makeReview } from "../store/contract-reviews.ts";

const human = (name: string, owner?: string): Principal => ({
  identityId: `id-${name}`,
  kind: "human",
  name,
  groups: ["sre"],
  labels: {},
  credentialId: `cred-${name}`,
  ...(owner ? { owner } : {}),
});

const base = makeReview();
const review = (over: Partial<Review["requester"]> = {}, approvals: Review["approvals"] = []): Review => ({
  ...base,
  requirement: { ...base.requirement, approvers: { identities: [], groups: ["sre"] }, approvals: 2 },
  requester: { ...base.requester, identityId: "id-demo-agent", name: "demo-agent", ...over },
  approvals,
});
const vote = (p: Principal) => ({ by: p.name, byId: p.identityId, at: "t", reason: "", person: personOf(p) });

describe("eligibility: the chain of who asked and distinct people", () => {
  const cases: [string, Principal, Review, RegExp | null][] = [
    ["a named reviewer outside the chain approves", human("bob"), review(), null],
    [
      "the requester",
      human("dave"),
      review({ identityId: "id-dave", name: "dave" }),
      /"dave" asked for this request/,
    ],
    [
      "an identity owned by the requester",
      human("dave-2", "dave"),
      review({ identityId: "id-dave", name: "dave" }),
      /"dave-2" belongs to "dave", who asked for this request/,
    ],
    [
      "the human the agent acted for",
      human("alice"),
      review({ onBehalfOf: "alice" }),
      /asked for this request on behalf of "alice", and "alice" is that person/,
    ],
    [
      "an identity owned by the human the agent acted for",
      human("alice-oncall", "alice"),
      review({ onBehalfOf: "alice" }),
      /and "alice-oncall" belongs to that person/,
    ],
    [
      "a second identity of a person who already approved",
      human("alice-oncall", "alice"),
      review({}, [vote(human("alice"))]),
      /"alice-oncall" and "alice" are the same person \(alice\)/,
    ],
    [
      "the owner after their own second identity approved",
      human("alice"),
      review({}, [vote(human("alice-oncall", "alice"))]),
      /same person \(alice\)/,
    ],
    [
      "an old vote without a person counts by name",
      human("alice-oncall", "alice"),
      review({}, [{ by: "alice", byId: "id-alice", at: "t", reason: "" }]),
      /same person \(alice\)/,
    ],
    ["another person after one approval", human("bob"), review({}, [vote(human("alice"))]), null],
    [
      "the owner of the requesting agent",
      human("alice"),
      review({ owner: "alice" }),
      /"demo-agent" belongs to "alice", and "alice" is that person/,
    ],
    [
      "another identity of the agent's owner",
      human("alice-oncall", "alice"),
      review({ owner: "alice" }),
      /"demo-agent" belongs to "alice", and "alice-oncall" belongs to that person/,
    ],
    ["someone else when the agent has an owner", human("bob"), review({ owner: "alice" }), null],
  ];
  for (const [name, principal, r, refused] of cases) {
    test(name, () => {
      const verdict = mayDecide(principal, r, "approve");
      if (refused === null) assert.deepEqual(verdict, { ok: true });
      else {
        assert.equal(verdict.ok, false);
        assert.match((verdict as { reason: string }).reason, refused);
      }
    });
  }

  test("someone in the chain may not deny either (the requester withdraws by leaving)", () => {
    assert.equal(mayDecide(human("alice"), review({ onBehalfOf: "alice" }), "deny").ok, false);
  });
});
