// Who may approve or deny a review (DESIGN.md invariant 8). Pure, table-tested.
//
// Approving: a human (never an agent, never the bootstrap admin token, which is not a person), named by the rule as an
// identity or through a group, who is not in the chain of who asked and whose person has not already approved.
// Denying is the safe direction: any eligible reviewer may deny, and so may the admin token (to stop a request
// quickly); the requester may withdraw by disconnecting, not by denying.
//
// The chain of who asked (issue 15): the requesting identity, the human it acted for (on-behalf-of, a delegation) and
// the people behind both. A reviewer is a person: their identity's owner when set, else the identity itself. So
// alice may not approve what demo-agent asked on her behalf, nor may "alice-oncall" (owned by alice); and N-of-M
// approvals count distinct persons: two identities owned by one person are one vote.
import type { Principal } from "../identity/types.ts";
import type { Review, ReviewVote } from "./types.ts";

export type Eligibility = { ok: true } | { ok: false; reason: string };

/** The person behind an identity: its owner when set, else the identity (by name). */
export function personOf(principal: Pick<Principal, "name" | "owner">): string {
  return principal.owner ?? principal.name;
}

function voteBy(v: ReviewVote): string {
  return v.person ?? v.by;
}

/** Why `principal` is part of the chain of who asked for `review`, or undefined when they are not. */
function inChain(principal: Principal, review: Review): string | undefined {
  const r = review.requester;
  const person = personOf(principal);
  if (principal.identityId === r.identityId || principal.name === r.name)
    return `"${principal.name}" asked for this request`;
  if (person === r.name) return `"${principal.name}" belongs to "${r.name}", who asked for this request,`;
  // The person accountable for the requesting identity (its owner), and their other identities.
  const requesterPerson = r.owner ?? undefined;
  if (requesterPerson && (principal.name === requesterPerson || person === requesterPerson))
    return `"${r.name}" belongs to "${requesterPerson}", and "${principal.name}" ${principal.name === requesterPerson ? "is" : "belongs to"} that person,`;
  if (r.onBehalfOf && (principal.name === r.onBehalfOf || person === r.onBehalfOf))
    return `"${r.name}" asked for this request on behalf of "${r.onBehalfOf}", and "${principal.name}" ${principal.name === r.onBehalfOf ? "is" : "belongs to"} that person`;
  return undefined;
}

export function mayDecide(principal: Principal, review: Review, action: "approve" | "deny"): Eligibility {
  const chain = inChain(principal, review);
  if (chain !== undefined) return { ok: false, reason: `${chain} and may not ${action} it` };
  if (principal.kind === "admin" && action === "deny") return { ok: true };
  if (principal.kind !== "human") {
    return {
      ok: false,
      reason: `only human reviewers may ${action} requests; "${principal.name}" is ${principal.kind === "admin" ? "the admin token" : `an ${principal.kind}`}`,
    };
  }
  const { identities, groups } = review.requirement.approvers;
  const named = identities.includes(principal.name) || principal.groups.some((g) => groups.includes(g));
  if (!named) {
    const who = [...identities.map((i) => `identity ${i}`), ...groups.map((g) => `group ${g}`)].join(", ");
    return {
      ok: false,
      reason: `"${principal.name}" is not a reviewer for this rule (reviewers: ${who || "none"})`,
    };
  }
  if (action === "approve" && review.approvals.some((v) => v.byId === principal.identityId)) {
    return {
      ok: false,
      reason: `"${principal.name}" has already approved this review; another reviewer must approve`,
    };
  }
  const person = personOf(principal);
  const same = review.approvals.find((v) => voteBy(v) === person);
  if (action === "approve" && same) {
    return {
      ok: false,
      reason: `"${principal.name}" and "${same.by}" are the same person (${person}), who has already approved this review; approvals count distinct people, so another person must approve`,
    };
  }
  return { ok: true };
}
