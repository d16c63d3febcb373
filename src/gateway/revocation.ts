// What a cut-off ends besides live streams (issue 15): the reviews and grants of the identity or credential that was
// revoked, disabled or expired. Wraps the identity service the admin API uses, so every path that cuts off — revoke,
// disable, credential revocation, rotation without overlap, an expiry moved into the past — also withdraws the
// pending and approved reviews no request is holding (retry mode) and ends the grants the identity was given or gave.
// Held requests are closed through the stream registry (gate.ts), on every replica.
//
// Stance: the store is changed (and streams closed) first, as before; withdrawing follows and never blocks or undoes
// the cut-off. A failure here is logged: every read of a review or grant re-checks the chain anyway (chain.ts), so a
// missed withdrawal is caught the next time anyone looks.

import type { ReviewService } from "../review/service.ts";
import type { Identity } from "./contracts.ts";

interface CutOffs {
  cutOffIdentity(identity: Identity, why: string): number;
  cutOffCredential(credential: { id: string }, why: string): number;
  expiryChanged(identity: Identity): void;
}

export interface RevocationLog {
  warn(obj: object, msg: string): void;
}

/** Withdraws the identity's reviews and ends its grants; resolves when done (failures are logged). */
export async function endInFlight(
  reviews: ReviewService | undefined,
  identity: Pick<Identity, "id" | "name">,
  why: string,
  log: RevocationLog,
): Promise<void> {
  if (!reviews) return;
  try {
    await reviews.withdrawFor({ identityId: identity.id, onBehalfOf: { human: identity.name } }, why);
    await reviews.endGrantsFor({ identityId: identity.id, name: identity.name }, why);
  } catch (err) {
    log.warn(
      { identity: identity.name, err: (err as Error).message },
      "withdrawing reviews after a cut-off failed",
    );
  }
}

export function withdrawingOnCutOff<T extends CutOffs>(
  service: T,
  reviews: ReviewService | undefined,
  log: RevocationLog,
  now: () => number = Date.now,
): T {
  return {
    ...service,
    cutOffIdentity(identity: Identity, why: string) {
      const closed = service.cutOffIdentity(identity, why);
      void endInFlight(reviews, identity, why, log);
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
        void endInFlight(reviews, identity, `identity ${identity.name} expired`, log);
    },
  };
}
