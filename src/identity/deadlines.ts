// When does a live stream have to close? The earliest of its identity's expiry and everything else its principal
// was limited by (the credential's expiry, a session's, a workload token's). The pipeline registers a stream with
// that earliest time only, so an identity whose expiry is moved later cannot tell by itself whether the old deadline
// was the identity's or, say, the session's. This module remembers the non-identity limit of each principal at
// authentication time, so `expiryChanged` can move deadlines both ways.
//
// Security stance: fail closed. A stream whose non-identity limit is unknown (another authenticator, a forgotten
// entry) keeps its current deadline; the limit is never guessed later than what was recorded.
import type { Principal } from "./types.ts";

/** Set by the authenticators: the earliest expiry other than the identity's (Infinity when none), epoch ms. */
const limits = new WeakMap<Principal, number>();

export function setCredentialLimit(
  principal: Principal,
  ...times: (string | number | null | undefined)[]
): void {
  let best = Number.POSITIVE_INFINITY;
  for (const t of times) {
    const ms = typeof t === "string" ? Date.parse(t) : t;
    if (typeof ms === "number" && !Number.isNaN(ms) && ms < best) best = ms;
  }
  limits.set(principal, best);
}

const MAX_ENTRIES = 100_000;

/**
 * Credential limits by (credential id, stream deadline): what a LiveStream carries. Two principals with the same
 * pair but different limits keep the smaller one (closing early is safe, late is not).
 */
export class CredentialLimits {
  readonly #byKey = new Map<string, number>();

  static #key(credentialId: string, deadlineMs: number): string {
    return `${credentialId}|${deadlineMs}`;
  }

  /** Remembers the limit of an authenticated principal that has a deadline. */
  note(principal: Principal): void {
    if (!principal.expiresAt) return;
    const limit = limits.get(principal);
    if (limit === undefined) return;
    if (this.#byKey.size >= MAX_ENTRIES) this.#byKey.clear(); // unknown afterwards = deadlines kept, never extended
    this.carry(principal.credentialId, Date.parse(principal.expiresAt), limit);
  }

  /** The recorded limit of a stream, or undefined when unknown. */
  limitOf(credentialId: string | undefined, deadlineMs: number): number | undefined {
    return credentialId === undefined
      ? undefined
      : this.#byKey.get(CredentialLimits.#key(credentialId, deadlineMs));
  }

  /** Records `limit` for a stream whose deadline was moved to `deadlineMs`. */
  carry(credentialId: string | undefined, deadlineMs: number, limit: number): void {
    if (credentialId === undefined) return;
    const key = CredentialLimits.#key(credentialId, deadlineMs);
    this.#byKey.set(key, Math.min(this.#byKey.get(key) ?? Number.POSITIVE_INFINITY, limit));
  }

  /** Drops entries whose deadline passed: their streams are closed by then. */
  prune(nowMs: number): void {
    for (const key of this.#byKey.keys()) {
      if (Number(key.slice(key.lastIndexOf("|") + 1)) <= nowMs) this.#byKey.delete(key);
    }
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/**
 * A stream's new deadline after its identity's expiry became `identityMs` (Infinity = none): the identity's or the
 * recorded credential limit, whichever is earlier. Unknown limit: only ever earlier than the current deadline.
 * Undefined means no deadline at all.
 */
export function newDeadline(
  currentMs: number | undefined,
  identityMs: number,
  credentialLimitMs: number | undefined,
): number | undefined {
  const limit = credentialLimitMs ?? currentMs ?? Number.POSITIVE_INFINITY;
  const next = Math.min(identityMs, limit);
  return next === Number.POSITIVE_INFINITY ? undefined : next;
}
