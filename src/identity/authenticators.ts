// The authenticators of the chain in src/identity/authenticate.ts: API tokens, session credentials and mTLS client
// certificates. Each claims only what is recognisably its own (by token prefix, or a client certificate with no
// Authorization header) and then either authenticates or refuses with 401.
//
// Security stance: every link ends in the store's one usability check (revoked, disabled, expired), so all code
// paths cut an identity off on the next request. The principal's expiresAt is the earliest of the identity's, the
// credential's and the session's expiry: live streams are closed when it passes.

import type { IncomingHttpHeaders } from "node:http";
import { unauthorized } from "../kube/refusals.ts";
import { bearerToken, hashToken, TOKEN_PREFIX } from "../shared/tokens.ts";
import { type Authenticator, type AuthInput, type AuthResult, authenticatorChain } from "./authenticate.ts";
import type { IdentityCa } from "./ca.ts";
import { delegationGone } from "./chain.ts";
import { setCredentialLimit } from "./deadlines.ts";
import { SESSION_PREFIX, type SessionSigner } from "./session.ts";
import type { Credential, DelegationStore, Identity, IdentityStore, Principal } from "./types.ts";

const refused = (message: string): AuthResult => ({
  ok: false,
  status: unauthorized(message),
});

function earliest(...times: (string | null | undefined)[]): string | undefined {
  let best: number | undefined;
  for (const t of times) {
    if (!t) continue;
    const ms = Date.parse(t);
    if (!Number.isNaN(ms) && (best === undefined || ms < best)) best = ms;
  }
  return best === undefined ? undefined : new Date(best).toISOString();
}

/** The principal of an authenticated identity and credential. */
export function principalFor(
  identity: Identity,
  credential: Credential,
  session?: { id: string; expiresAt: string; justification?: string; onBehalfOf?: string },
): Principal {
  const principal: Principal = {
    identityId: identity.id,
    kind: identity.kind,
    name: identity.name,
    groups: [...identity.groups],
    labels: { ...identity.labels },
    credentialId: credential.id,
  };
  if (identity.owner) principal.owner = identity.owner;
  if (identity.defaultNamespace) principal.defaultNamespace = identity.defaultNamespace;
  if (credential.scopes.clusters !== undefined || credential.scopes.readOnly)
    principal.scopes = credential.scopes;
  const expiresAt = earliest(identity.expiresAt, credential.expiresAt, session?.expiresAt);
  if (expiresAt) principal.expiresAt = expiresAt;
  setCredentialLimit(principal, credential.expiresAt, session?.expiresAt);
  if (session) {
    principal.sessionId = session.id;
    if (session.justification) principal.justification = session.justification;
    if (session.onBehalfOf) principal.onBehalfOf = session.onBehalfOf;
  }
  return principal;
}

/** Long-lived API tokens (`airlock_…`), looked up by hash. */
export function tokenAuthenticator(store: IdentityStore & DelegationStore): Authenticator {
  return async ({ headers }: AuthInput) => {
    const token = bearerToken(headers.authorization);
    if (!token?.startsWith(TOKEN_PREFIX)) return undefined;
    const found = await store.identities.authenticateToken(hashToken(token));
    if (!found) return refused("the token is unknown, expired or revoked, or its identity is disabled");
    return { ok: true, principal: principalFor(found.identity, found.credential) };
  };
}

/** Session credentials (`airlock-session.…`): signature and expiry statelessly, then the parent credential. */
export function sessionAuthenticator(
  store: IdentityStore & DelegationStore,
  signer: SessionSigner,
  now: () => number = Date.now,
): Authenticator {
  return async ({ headers }: AuthInput) => {
    const token = bearerToken(headers.authorization);
    if (!token?.startsWith(SESSION_PREFIX)) return undefined;
    const verdict = signer.verify(token, now());
    if (!verdict.ok) {
      return refused(
        verdict.error === "expired"
          ? "the session credential has expired; get a new one (airlock credential)"
          : "the session credential is not valid",
      );
    }
    const { claims } = verdict;
    const found = await store.identities.authenticateCredentialId(claims.cred);
    if (!found || found.identity.id !== claims.sub) {
      return refused(
        "the session credential's identity or parent credential is revoked, disabled or expired",
      );
    }
    const session: { id: string; expiresAt: string; justification?: string; onBehalfOf?: string } = {
      id: claims.sid,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
    };
    if (claims.reason) session.justification = claims.reason;
    if (claims.obo) {
      // Acting for a human holds only while that human is active and the very delegation the session was minted
      // under stands (issue 15): checked on every request, so a revoked delegation is not revived by a new one, and
      // the session's streams close when the delegation expires.
      const nowMs = now();
      const delegation = claims.dlg ? await store.delegations.get(claims.dlg) : undefined;
      const gone =
        (await delegationGone(store, found.identity.name, claims.obo, nowMs)) ??
        (!delegation || delegation.agentId !== found.identity.id || delegation.human !== claims.obo
          ? "the delegation it was minted under is unknown"
          : delegation.revokedAt !== null
            ? `the delegation from ${claims.obo} to ${found.identity.name} it was minted under was revoked`
            : Date.parse(delegation.expiresAt) <= nowMs
              ? `the delegation from ${claims.obo} to ${found.identity.name} expired`
              : undefined);
      if (gone !== undefined)
        return refused(`the session credential acts on behalf of "${claims.obo}", but ${gone}`);
      if (delegation && Date.parse(delegation.expiresAt) < Date.parse(session.expiresAt))
        session.expiresAt = delegation.expiresAt;
      session.onBehalfOf = claims.obo;
    }
    return { ok: true, principal: principalFor(found.identity, found.credential, session) };
  };
}

/** mTLS client certificates issued by the identity CA; only for requests without an Authorization header. */
export function certificateAuthenticator(
  store: IdentityStore & DelegationStore,
  ca: IdentityCa,
  now: () => number = Date.now,
): Authenticator {
  return async ({ headers, peerCertificate }: AuthInput) => {
    if (!peerCertificate || headers.authorization !== undefined) return undefined;
    const fingerprint = ca.verify(peerCertificate, now());
    if (!fingerprint)
      return refused("the client certificate was not issued by Airlock's identity CA or is not valid now");
    const found = await store.identities.authenticateCertificate(fingerprint);
    if (!found)
      return refused("the client certificate is unknown or revoked, or its identity is disabled or expired");
    return { ok: true, principal: principalFor(found.identity, found.credential) };
  };
}

/** Token-only authentication, for callers that have no chain (kept for compatibility). */
export async function authenticate(
  store: IdentityStore & DelegationStore,
  headers: IncomingHttpHeaders,
): Promise<AuthResult> {
  return authenticatorChain([tokenAuthenticator(store)])({ headers });
}
