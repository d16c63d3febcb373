// Grants: the time-boxed permission a reviewer may give with an approval ("demo-agent may delete deployments in prod
// for 30 minutes"). Pure: what a grant covers and how one is built from the approved review.
//
// Stance: a grant is as narrow as the approved request allows while still being useful: the same identity, cluster,
// verb, API group, resource (with subresource) and namespace; never other names' namespaces or other verbs.
import type { Grant, Review } from "./types.ts";

export interface GrantTarget {
  verb: string;
  apiGroup: string;
  /** resource, or resource/subresource */
  resource: string;
  namespace: string;
}

export function grantFor(
  review: Review,
  grantedBy: string,
  nowMs: number,
  seconds: number,
  id: string,
): Grant {
  const { request } = review;
  return {
    id,
    reviewId: review.id,
    identityId: review.requester.identityId,
    identityName: review.requester.name,
    cluster: review.cluster,
    verb: request.action,
    apiGroup: request.apiGroup,
    resource: request.subresource ? `${request.resource}/${request.subresource}` : request.resource,
    namespace: request.namespace,
    createdBy: grantedBy,
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + seconds * 1000).toISOString(),
    revokedAt: null,
    revokedBy: null,
  };
}

/** Whether an (active) grant covers a request to `target` on `cluster`. Expiry and revocation are the store's filter. */
export function grantCovers(grant: Grant, cluster: string, target: GrantTarget): boolean {
  return (
    grant.cluster === cluster &&
    grant.verb === target.verb &&
    grant.apiGroup === target.apiGroup &&
    grant.resource === target.resource &&
    grant.namespace === target.namespace
  );
}
