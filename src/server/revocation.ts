// What a cut-off ends besides live streams (issue 15): the reviews and grants of the identity or credential that was
// revoked, disabled or expired. Wraps the identity service the admin API uses, so every path that cuts off — revoke,
// disable, credential revocation, rotation without overlap, an expiry moved into the past — also withdraws the
// pending and approved reviews no request is holding (retry mode) and ends the grants the identity was given or gave.
// Held requests are closed through the stream registry (gate.ts), on every replica.
//
// Stance: the store is changed (and streams closed) first, as before; withdrawing follows and never blocks or undoes
// the cut-off. A failure here is logged: every read of a review or grant re-checks the chain anyway (chain.ts), so a
// missed withdrawal is caught the next time anyone looks.

import { endDelegationsOf } from "../identity/delegation.ts";
import type { Delegation, Identity } from "../identity/types.ts";
import type { ReviewService } from "../review/service.ts";
import type { Store } from "../store/types.ts";

interface CutOffs {
  cutOffIdentity(identity: Identity, why: string): number;
  cutOffCredential(credential: { id: string }, why: string): number;
  expiryChanged(identity: Identity): void;
  cutOffDelegation(delegation: { human: string; agentId: string }, why: string): number;
}

export interface RevocationLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InFlight {
  store: Store;
  reviews: ReviewService | undefined;
  log: RevocationLog;
  now?: () => number;
}

/**
 * Ends what an identity that was revoked, disabled or expired has in flight: the delegations given by or to it (and
 * what runs under them, through `cutOffDelegation`), its reviews and grants. Failures are logged.
 */
export async function endInFlight(
  deps: InFlight,
  identity: Pick<Identity, "id" | "name">,
  why: string,
  cutOffDelegation?: (d: Delegation, why: string) => void,
): Promise<void> {
  const { reviews, log } = deps;
  try {
    const ended = await endDelegationsOf(deps.store, identity, why, log, (deps.now ?? Date.now)());
    for (const d of ended)
      cutOffDelegation?.(d, `the delegation from ${d.human} to ${d.agent} ended: ${why}`);
    if (!reviews) return;
    await reviews.withdrawFor({ identityId: identity.id, onBehalfOf: { human: identity.name } }, why);
    await reviews.endGrantsFor({ identityId: identity.id, name: identity.name }, why);
  } catch (err) {
    log.warn(
      { identity: identity.name, err: (err as Error).message },
      "ending what a cut-off identity had in flight failed",
    );
  }
}

/** A delegation ended: close what runs under it and withdraw the reviews asked for under it. */
export async function endDelegation(
  deps: InFlight,
  service: Pick<CutOffs, "cutOffDelegation">,
  delegation: Delegation,
  why: string,
): Promise<void> {
  service.cutOffDelegation(delegation, why);
  await deps.reviews
    ?.withdrawFor({ onBehalfOf: { agentId: delegation.agentId, human: delegation.human } }, why)
    .catch((err: unknown) =>
      deps.log.warn({ delegation: delegation.id, err: (err as Error).message }, "withdrawing reviews failed"),
    );
}

export function withdrawingOnCutOff<T extends CutOffs>(service: T, deps: InFlight): T {
  const { reviews, log } = deps;
  const now = deps.now ?? Date.now;
  const delegations = (d: Delegation, why: string) => void endDelegation(deps, service, d, why);
  return {
    ...service,
    cutOffIdentity(identity: Identity, why: string) {
      const closed = service.cutOffIdentity(identity, why);
      void endInFlight(deps, identity, why, delegations);
      return closed;
    },
    cutOffCredential(credential: { id: string }, why: string) {
      const closed = service.cutOffCredential(credential, why);
      void reviews
        ?.withdrawFor({ credentialId: credential.id }, why)
        .catch((err: unknown) =>
          log.warn({ credential: credential.id, err: (err as Error).message }, "withdrawing reviews failed"),
        );
      return closed;
    },
    expiryChanged(identity: Identity) {
      service.expiryChanged(identity);
      if (identity.expiresAt !== null && Date.parse(identity.expiresAt) <= now())
        void endInFlight(deps, identity, `identity ${identity.name} expired`, delegations);
    },
  };
}
