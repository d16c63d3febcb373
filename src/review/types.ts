// Reviews, their votes and events, and grants (DESIGN.md invariant 8), and the store's share of them.
import type { ReviewRequester } from "../identity/types.ts";
import type { ReviewRequirement } from "../policy/decision.ts";

export type ReviewState = "pending" | "approved" | "denied" | "expired" | "withdrawn" | "executed";

/** The request a review is bound to, as the reviewer sees it. The body is kept as text (base64 when not UTF-8). */
export interface ReviewedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: string;
  bodyEncoding: "utf8" | "base64";
  bodySha256: string;
  action: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  execCommand: string[] | null;
  /** Exec/attach flags as the gateway decoded them (absent on reviews stored before they were recorded). */
  exec?: { container: string; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } | null;
}

/** What the request would change: a server-side dry run diffed against the current object. */
export interface ReviewPreview {
  /** Unified diff of current → dry-run result, as YAML, Secret values masked. Empty when nothing would change. */
  diff: string;
  /** One line for notifications: "3 lines added, 1 removed" or why there is no diff. */
  summary: string;
  /** For deletes: objects that would be removed with this one (ownerReferences, transitively). */
  dependents: { kind: string; namespace: string; name: string }[];
  /** Why the preview is incomplete, if it is (the dry run failed, the object is too large …). */
  error: string | null;
}

export interface ReviewVote {
  by: string;
  byId: string;
  at: string;
  reason: string;
  /** The person behind the vote: the approver's owner when set, else the approver (N-of-M counts persons). */
  person?: string;
}

export interface Review {
  id: string;
  fingerprint: string;
  state: ReviewState;
  createdAt: string;
  updatedAt: string;
  /** A pending review expires at this time (the rule's timeout). */
  expiresAt: string;
  /** The chain of who asked (issue 15): none of them may approve the review. */
  requester: ReviewRequester;
  justification: string | null;
  cluster: string;
  policy: string;
  rule: string;
  requirement: ReviewRequirement;
  request: ReviewedRequest;
  approvals: ReviewVote[];
  denial: ReviewVote | null;
  /** After approval: the approval may be used until then. */
  approvedUntil: string | null;
  /** After approval: how many times the approved request may still run (single-use by default). */
  usesLeft: number;
  /** Held (wait-mode) requests currently waiting on this review; the review is withdrawn when the last one leaves. */
  waiters: number;
  preview: ReviewPreview | null;
  /** Why a review ended without a decision (withdrawn: the requester was revoked, disabled, expired, went away). */
  endedReason?: string;
  /** Optimistic concurrency: every save must name the version it read. */
  version: number;
}

export type ReviewEventType =
  | "created"
  | "joined"
  | "notified"
  | "approved"
  | "denied"
  | "expired"
  | "withdrawn"
  | "executed"
  | "previewed";

export interface ReviewEvent {
  seq?: number;
  reviewId: string;
  time: string;
  type: ReviewEventType;
  /** Who caused it: the requester, a reviewer, or "airlock". */
  actor: string;
  detail: string;
}

/** A time-boxed permission granted with an approval: (identity, cluster, verb, resource, namespace) runs unreviewed. */
export interface Grant {
  id: string;
  reviewId: string;
  identityId: string;
  identityName: string;
  cluster: string;
  verb: string;
  apiGroup: string;
  resource: string;
  namespace: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  /** Why the grant ended early: revoked by a reviewer, or its approver or requester was revoked, disabled or expired. */
  endedReason?: string | null;
}

export interface ReviewQuery {
  state?: ReviewState;
  limit?: number;
}

/** The reviews table with their event trail (store.reviews). */
export interface ReviewTable {
  create(review: Review): Promise<void>;
  get(id: string): Promise<Review | undefined>;
  /** Newest first. */
  list(query: ReviewQuery): Promise<Review[]>;
  /** Reviews with this fingerprint in one of `states`, newest first. */
  find(fingerprint: string, states: ReviewState[]): Promise<Review[]>;
  /** Saves `review` if the stored version is still `review.version - 1`; false when someone else saved first. */
  save(review: Review): Promise<boolean>;
  appendEvent(event: ReviewEvent): Promise<void>;
  events(reviewId: string): Promise<ReviewEvent[]>;
}

/** The grants table (store.grants): what an approved review allows for a while. */
export interface GrantTable {
  create(grant: Grant): Promise<void>;
  get(id: string): Promise<Grant | undefined>;
  /** All grants, newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  list(query: { identityId?: string; activeAt?: string }): Promise<Grant[]>;
  /**
   * Revokes a grant (the first revocation time, revoker and reason are kept). `reason` says why it ended when that
   * was not a reviewer's choice (its approver or requester was revoked, disabled or expired). Undefined when unknown.
   */
  revoke(id: string, by: string, reason?: string): Promise<Grant | undefined>;
}

/** The store's share of reviews. Kept apart so the review service can depend on it alone. */
export interface ReviewStore {
  reviews: ReviewTable;
  grants: GrantTable;
}
