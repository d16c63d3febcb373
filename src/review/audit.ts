// Review steps as chained audit notes (`review.<step>`, docs/audit.md "Notes"). Pure: what a note says about a
// review; the service decides when it is written.
//
// Security stance: a note names the review, requester, reviewer, fingerprint and reason — never the request body, the
// preview diff or anything a webhook carries. Steps that let a request run (created, joined, approved, denied,
// executed, grant created) are written before they take effect; see ReviewService for the order of operations.
import type { AuditNote, AuditNotes } from "../audit/types.ts";
import type { Grant, Review } from "./types.ts";

export type ReviewAudit = AuditNotes;

export type ReviewNoteStep =
  | "created"
  | "joined"
  | "notified"
  | "previewed"
  | "approved"
  | "denied"
  | "expired"
  | "withdrawn"
  | "executed"
  | "superseded"
  | "grant.created"
  | "grant.revoked";

/** The note of one review step: the review's identifying fields plus what this step adds. */
export function reviewNote(
  step: ReviewNoteStep,
  review: Review,
  actor: string,
  extra: Record<string, string | number | boolean | null> = {},
): AuditNote {
  return {
    type: `review.${step}`,
    actor,
    subject: review.id,
    detail: {
      requester: review.requester.name,
      // The chain of who asked (issue 15): the human acted for and the credential, when known.
      onBehalfOf: review.requester.onBehalfOf ?? null,
      credential: review.requester.credentialId ?? null,
      fingerprint: review.fingerprint,
      cluster: review.cluster,
      policy: review.policy,
      rule: review.rule,
      state: review.state,
      ...extra,
    },
  };
}

/** The note of a grant's creation or revocation; subject is the review it came with. */
export function grantNote(
  step: "grant.created" | "grant.revoked",
  grant: Grant,
  actor: string,
  reason?: string,
): AuditNote {
  return {
    type: `review.${step}`,
    actor,
    subject: grant.reviewId,
    detail: {
      grant: grant.id,
      requester: grant.identityName,
      cluster: grant.cluster,
      verb: grant.verb,
      apiGroup: grant.apiGroup,
      resource: grant.resource,
      namespace: grant.namespace,
      expiresAt: grant.expiresAt,
      ...(reason !== undefined ? { reason } : {}),
    },
  };
}

/** Whether two notes say the same (a compare-and-set retry need not write its note again). */
export function sameNote(a: AuditNote, b: AuditNote): boolean {
  return (
    a.type === b.type && a.subject === b.subject && JSON.stringify(a.detail) === JSON.stringify(b.detail)
  );
}
