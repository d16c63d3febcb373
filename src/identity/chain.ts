// Does the chain of who asked still stand? (issue 15) The requesting identity, the credential it used (a session's
// parent) and — for a request made on behalf of a human — that human and the delegation
// they gave. The review service asks this on every read of a pending or approved review and before a grant releases a
// request; the answer is a reason ("identity demo-agent was revoked") or undefined.
//
// Stance: fail closed. An identity that is not found, or found under another id (a name reused), is gone; a
// credential that cannot be found is gone. Only workload credentials (minted per request from a verified workload
// token, never stored) are checked through their identity alone. A session credential's own expiry is not part of
// it: a held request closes at that deadline (stream registry), while a retry-mode review waits for the agent to
// send the same request again with a fresh session.

import type { CredentialTable, DelegationTable, Identity, IdentityTable, ReviewRequester } from "./types.ts";

type ChainStore = {
  identities: Pick<IdentityTable, "get">;
  credentials: Pick<CredentialTable, "get">;
  delegations: Pick<DelegationTable, "list">;
};

function identityGone(identity: Identity | undefined, name: string, nowMs: number): string | undefined {
  if (!identity) return `identity ${name} no longer exists`;
  if (identity.state === "revoked") return `identity ${name} was revoked`;
  if (identity.state === "disabled") return `identity ${name} was disabled`;
  if (identity.expiresAt !== null && Date.parse(identity.expiresAt) <= nowMs)
    return `identity ${name} expired`;
  return undefined;
}

/** Why the delegation from `human` to `agent` does not stand now, or undefined when an active one does. */
export async function delegationGone(
  store: ChainStore,
  agent: string,
  human: string,
  nowMs: number,
): Promise<string | undefined> {
  const person = await store.identities.get(human);
  const gone = identityGone(person, human, nowMs);
  if (gone !== undefined) return `${gone} (${agent} acted on their behalf)`;
  if (person?.kind !== "human") return `${human}, whom ${agent} acted for, is not a human identity`;
  const active = await store.delegations.list({ agent, human, activeAt: new Date(nowMs).toISOString() });
  if (active.length === 0) return `the delegation from ${human} to ${agent} was revoked or expired`;
  return undefined;
}

export function chainCheck(store: ChainStore, now: () => number = Date.now) {
  return {
    async requester(r: ReviewRequester): Promise<string | undefined> {
      const nowMs = now();
      const identity = await store.identities.get(r.name);
      const gone = identityGone(identity?.id === r.identityId ? identity : undefined, r.name, nowMs);
      if (gone !== undefined) return gone;
      if (r.credentialId && !r.credentialId.startsWith("workload:")) {
        const credential = await store.credentials.get(r.credentialId);
        if (!credential || credential.identityId !== r.identityId)
          return `the credential ${r.credentialId} of identity ${r.name} no longer exists`;
        if (credential.revokedAt !== null)
          return `credential ${r.credentialId} of identity ${r.name} was revoked`;
        if (credential.expiresAt !== null && Date.parse(credential.expiresAt) <= nowMs)
          return `credential ${r.credentialId} of identity ${r.name} expired`;
      }
      if (r.onBehalfOf) return delegationGone(store, r.name, r.onBehalfOf, nowMs);
      return undefined;
    },
    async approver(name: string): Promise<string | undefined> {
      return identityGone(await store.identities.get(name), name, now());
    },
  };
}
