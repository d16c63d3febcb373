// Who may use the admin API. Pure decisions, so they can be table-tested.
//
// The bootstrap admin token is checked by hash in constant time and yields the `admin` principal. A human identity's
// token may read; it may change identities only in the group `airlock:admins`. Agents are refused outright: an
// agent that could mint or revoke identities could escape its own policy. Fail closed: anything unrecognised is
// unauthenticated (401) or forbidden (403).
import type { IncomingHttpHeaders } from "node:http";
import type { Credential, Identity, Principal } from "../identity/types.ts";
import { forbiddenHere, unauthorized } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import { bearerToken, hashToken, tokenHashesEqual } from "../shared/tokens.ts";
import type { Store } from "../store/types.ts";

export const ADMINS_GROUP = "airlock:admins";

export const ADMIN_PRINCIPAL: Readonly<Principal> = Object.freeze({
  identityId: "airlock:admin",
  kind: "admin",
  name: "airlock:admin",
  groups: [ADMINS_GROUP],
  labels: {},
  credentialId: "bootstrap",
});

export function principalOf(identity: Identity, credential: Credential): Principal {
  const principal: Principal = {
    identityId: identity.id,
    kind: identity.kind,
    name: identity.name,
    groups: [...identity.groups],
    labels: { ...identity.labels },
    credentialId: credential.id,
  };
  // The person behind a reviewer: N-of-M approvals count people, not identities (src/review/eligibility.ts).
  if (identity.owner) principal.owner = identity.owner;
  if (identity.defaultNamespace) principal.defaultNamespace = identity.defaultNamespace;
  return principal;
}

/** The caller of an admin request, or undefined when the request carries no valid token. */
export async function authenticateAdmin(
  store: Store,
  adminTokenHash: string,
  headers: IncomingHttpHeaders,
): Promise<Principal | undefined> {
  const token = bearerToken(headers.authorization);
  if (!token) return undefined;
  const hash = hashToken(token);
  if (tokenHashesEqual(hash, adminTokenHash)) return { ...ADMIN_PRINCIPAL, groups: [ADMINS_GROUP] };
  const found = await store.identities.authenticateToken(hash);
  return found ? principalOf(found.identity, found.credential) : undefined;
}

/** read/write: the admin API proper; self: an identity acting on its own credentials (any kind, not the admin). */
export type Access = "read" | "write" | "self";
export type AccessResult = { ok: true } | { ok: false; status: Status };

export const UNAUTHENTICATED: Status = unauthorized(
  "Unauthorized: the admin API needs a valid token (Authorization: Bearer …): the admin token or a human identity's token",
);

export function authorize(principal: Principal, access: Access, what: string): AccessResult {
  if (access === "self") {
    if (principal.kind !== "admin") return { ok: true };
    return {
      ok: false,
      status: forbiddenHere(`${what} is forbidden: the admin token has no identity; use an identity's token`),
    };
  }
  if (principal.kind === "admin") return { ok: true };
  if (principal.kind === "agent") {
    return {
      ok: false,
      status: forbiddenHere(
        `${what} is forbidden: identity "${principal.name}" is an agent, and agents may not use the admin API`,
      ),
    };
  }
  if (access === "read" || principal.groups.includes(ADMINS_GROUP)) return { ok: true };
  return {
    ok: false,
    status: forbiddenHere(
      `${what} is forbidden: human identity "${principal.name}" may read but not change identities ` +
        `without the group ${ADMINS_GROUP}`,
    ),
  };
}
