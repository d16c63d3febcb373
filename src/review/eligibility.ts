// Who may approve or deny a review (DESIGN.md invariant 8). Pure, table-tested.
//
// Approving: a human (never an agent, never the bootstrap admin token, which is not a person), named by the rule as an
// identity or through a group, who is not the requester and has not already approved. Denying is the safe direction:
// any eligible reviewer may deny, and so may the admin token (to stop a request quickly); the requester may withdraw
// by disconnecting, not by denying.
import type { Principal, Review } from "../gateway/contracts.ts";

export type Eligibility = { ok: true } | { ok: false; reason: string };

export function mayDecide(principal: Principal, review: Review, action: "approve" | "deny"): Eligibility {
  if (principal.identityId === review.requester.identityId || principal.name === review.requester.name) {
    return { ok: false, reason: `"${principal.name}" asked for this request and may not ${action} it` };
  }
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
  return { ok: true };
}
