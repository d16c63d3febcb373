// Row codecs of the review tables, shared by the SQLite and PostgreSQL engines: reviews are stored whole as JSON
// (checked on the way out: a row that does not parse throws, so a corrupt review is never read as approved), grants
// and review events as columns.
import type { Delegation } from "../identity/types.ts";
import type { Grant, Review } from "../review/types.ts";

type Row = Record<string, unknown>;

export const STATES: ReadonlySet<string> = new Set([
  "pending",
  "approved",
  "denied",
  "expired",
  "withdrawn",
  "executed",
]);
export const DEFAULT_REVIEW_LIMIT = 100;
export const MAX_REVIEW_LIMIT = 1000;

export function reviewFromRow(row: Row): Review {
  const review = JSON.parse(String(row.data_json)) as Review;
  if (typeof review !== "object" || review === null || review.id !== row.id || !STATES.has(review.state)) {
    throw new Error(`store: review ${String(row.id)} has an unexpected shape`);
  }
  return review;
}

export function str(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== "string") throw new Error(`store: column ${column} is not text`);
  return v;
}

export function strOrNull(row: Row, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : str(row, column);
}

export function grantFromRow(row: Row): Grant {
  return {
    id: str(row, "id"),
    reviewId: str(row, "review_id"),
    identityId: str(row, "identity_id"),
    identityName: str(row, "identity_name"),
    cluster: str(row, "cluster"),
    verb: str(row, "verb"),
    apiGroup: str(row, "api_group"),
    resource: str(row, "resource"),
    namespace: str(row, "namespace"),
    createdBy: str(row, "created_by"),
    createdAt: str(row, "created_at"),
    expiresAt: str(row, "expires_at"),
    revokedAt: strOrNull(row, "revoked_at"),
    revokedBy: strOrNull(row, "revoked_by"),
    endedReason: strOrNull(row, "ended_reason"),
  };
}

export function delegationFromRow(row: Row): Delegation {
  return {
    id: str(row, "id"),
    human: str(row, "human"),
    humanId: str(row, "human_id"),
    agent: str(row, "agent"),
    agentId: str(row, "agent_id"),
    createdBy: str(row, "created_by"),
    createdAt: str(row, "created_at"),
    expiresAt: str(row, "expires_at"),
    revokedAt: strOrNull(row, "revoked_at"),
    revokedBy: strOrNull(row, "revoked_by"),
  };
}
