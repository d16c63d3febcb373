// The headers that make the cluster see the real caller. The gateway sets them itself, after the client's own
// Impersonate-* headers have been refused (classify/headers), so a client can never choose whom it acts as.

/** What the cluster is told about the caller: the parts of an authenticated Principal (src/identity/types.ts). */
export interface ImpersonatedPrincipal {
  identityId: string;
  kind: string;
  name: string;
  groups: string[];
  onBehalfOf?: string;
}

export const IDENTITY_ID_EXTRA = "airlock.dev/identity-id";
export const REQUEST_ID_EXTRA = "airlock.dev/request-id";
/** Delegation: the human an agent acts for (its session credential's claim), so the cluster's audit names both. */
export const ON_BEHALF_OF_EXTRA = "airlock.dev/on-behalf-of";

/** The Kubernetes user name for an identity. */
export function impersonatedUser(principal: ImpersonatedPrincipal): string {
  return `airlock:${principal.name}`;
}

export function impersonatedGroups(principal: ImpersonatedPrincipal): string[] {
  const kindGroup = principal.kind === "human" ? "airlock:humans" : "airlock:agents";
  // system:* groups carry cluster-wide meaning (system:masters is cluster-admin); an identity never acts in one,
  // whatever its record says.
  const own = principal.groups.filter((g) => !g.startsWith("system:"));
  return [kindGroup, ...own];
}

function extraHeaderName(key: string): string {
  // Impersonate-Extra-<key>: the key is percent-encoded (RFC 3986 unreserved characters stay), as client-go does.
  const encoded = key.replace(
    /[^A-Za-z0-9\-._~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return `Impersonate-Extra-${encoded}`;
}

export function impersonationHeaders(
  principal: ImpersonatedPrincipal,
  requestId: string,
): [string, string][] {
  return [
    ["Impersonate-User", impersonatedUser(principal)],
    ...impersonatedGroups(principal).map((g): [string, string] => ["Impersonate-Group", g]),
    [extraHeaderName(IDENTITY_ID_EXTRA), principal.identityId],
    [extraHeaderName(REQUEST_ID_EXTRA), requestId],
    ...(principal.onBehalfOf
      ? [[extraHeaderName(ON_BEHALF_OF_EXTRA), principal.onBehalfOf] as [string, string]]
      : []),
  ];
}
