// The admin API's routes: one table, matched exactly. Pure, so routing is table-tested and the OpenAPI document can
// be checked against it.
//
// No normalisation: a path either matches a route character for character or is 404. Names in paths are matched
// raw (never percent-decoded) against the identity-name alphabet, so encoded slashes or dots cannot smuggle anything.
import { AGENT_ROUTES, type AgentRouteId } from "./agents.ts";
import type { AuditRouteId } from "./audit.ts";
import type { Access } from "./auth.ts";
import { CLUSTER_ROUTES, type ClusterRouteId } from "./clusters.ts";
import { DELEGATION_ROUTES, type DelegationRouteId } from "./delegations.ts";
import type { IdentityRouteId } from "./identities.ts";
import { POLICY_ROUTES, type PolicyRouteId } from "./policies.ts";
import type { ReviewRouteId } from "./reviews.ts";
import { IDENTITY_NAME } from "./schemas.ts";
import { SESSION_ROUTES, type SessionRouteId } from "./sessions.ts";

export const ADMIN_PREFIX = "/airlock/v1/";

export type RouteId =
  | "listIdentities"
  | "createIdentity"
  | "getIdentity"
  | "revokeIdentity"
  | "openapi"
  | ReviewRouteId
  | PolicyRouteId
  | AuditRouteId
  | IdentityRouteId
  | SessionRouteId
  | ClusterRouteId
  | AgentRouteId
  | DelegationRouteId;

export interface Route {
  id: RouteId;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** The OpenAPI path template. */
  path: string;
  /** "public" routes need no token (the API description only). */
  access: Access | "public";
}

export const ROUTES: readonly Route[] = [
  { id: "listIdentities", method: "GET", path: "/airlock/v1/identities", access: "read" },
  { id: "createIdentity", method: "POST", path: "/airlock/v1/identities", access: "write" },
  { id: "getIdentity", method: "GET", path: "/airlock/v1/identities/{name}", access: "read" },
  { id: "revokeIdentity", method: "POST", path: "/airlock/v1/identities/{name}/revoke", access: "write" },
  // The identity lifecycle and credentials (src/admin/identities.ts).
  { id: "updateIdentity", method: "PATCH", path: "/airlock/v1/identities/{name}", access: "write" },
  { id: "disableIdentity", method: "POST", path: "/airlock/v1/identities/{name}/disable", access: "write" },
  { id: "enableIdentity", method: "POST", path: "/airlock/v1/identities/{name}/enable", access: "write" },
  { id: "listCredentials", method: "GET", path: "/airlock/v1/identities/{name}/credentials", access: "read" },
  { id: "createToken", method: "POST", path: "/airlock/v1/identities/{name}/tokens", access: "write" },
  { id: "rotateToken", method: "POST", path: "/airlock/v1/identities/{name}/tokens/rotate", access: "write" },
  {
    id: "revokeCredential",
    method: "POST",
    path: "/airlock/v1/identities/{name}/credentials/{id}/revoke",
    access: "write",
  },
  {
    id: "issueCertificate",
    method: "POST",
    path: "/airlock/v1/identities/{name}/certificates",
    access: "write",
  },
  // Any identity trades its own long-lived token for a short-lived session credential.
  { id: "createSession", method: "POST", path: "/airlock/v1/credentials/session", access: "self" },
  { id: "listAudit", method: "GET", path: "/airlock/v1/audit", access: "read" },
  // The tamper-evident audit log (src/admin/audit.ts): verify, export, the signing public key, checkpoints.
  { id: "verifyAudit", method: "GET", path: "/airlock/v1/audit/verify", access: "read" },
  { id: "exportAudit", method: "GET", path: "/airlock/v1/audit/export", access: "read" },
  { id: "auditPublicKey", method: "GET", path: "/airlock/v1/audit/pubkey", access: "read" },
  { id: "listAuditCheckpoints", method: "GET", path: "/airlock/v1/audit/checkpoints", access: "read" },
  { id: "openapi", method: "GET", path: "/airlock/v1/openapi.json", access: "public" },
  // Reviews: "read" admits humans and the admin and refuses agents; who may decide is the review service's check.
  { id: "listReviews", method: "GET", path: "/airlock/v1/reviews", access: "read" },
  { id: "getReview", method: "GET", path: "/airlock/v1/reviews/{id}", access: "read" },
  { id: "approveReview", method: "POST", path: "/airlock/v1/reviews/{id}/approve", access: "read" },
  { id: "denyReview", method: "POST", path: "/airlock/v1/reviews/{id}/deny", access: "read" },
  { id: "listGrants", method: "GET", path: "/airlock/v1/grants", access: "read" },
  { id: "revokeGrant", method: "POST", path: "/airlock/v1/grants/{id}/revoke", access: "read" },
  ...POLICY_ROUTES,
  // Sessions and recordings (src/admin/sessions.ts).
  ...SESSION_ROUTES,
  ...CLUSTER_ROUTES,
  // Tunnel clusters' agents (src/admin/agents.ts, docs/agent.md).
  ...AGENT_ROUTES,
  // Delegations: a human's consent that an agent acts for them (src/admin/delegations.ts).
  ...DELEGATION_ROUTES,
];

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "notFound" }
  | { kind: "methodNotAllowed"; allow: string[] };

function matchPath(template: string, pathname: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = pathname.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? "";
    const g = got[i] ?? "";
    if (w.startsWith("{")) {
      if (!IDENTITY_NAME.test(g)) return undefined;
      params[w.slice(1, -1)] = g;
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

export function matchRoute(method: string, pathname: string): RouteMatch {
  const allow: string[] = [];
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    if (route.method === method) return { kind: "found", route, params };
    allow.push(route.method);
  }
  return allow.length ? { kind: "methodNotAllowed", allow } : { kind: "notFound" };
}
