// Rate limits per identity and rule: a sliding log of the times of admitted requests, in memory.
//
// A request is admitted only if every limit that applies to it has room, and only then counted against all of them,
// so a refused request never uses up budget. State is keyed by identity, policy and rule, so it survives policy
// reloads. This is the one-process limiter; several replicas on PostgreSQL share theirs (shared-limiter.ts).
export interface Limit {
  key: string;
  requests: number;
  perMs: number;
  /** How many requests this one counts as (a deletecollection: the objects it removes); default 1. */
  cost?: number;
}

export type LimitVerdict =
  | { ok: true }
  /** `unavailable`: the shared counters could not be used (the store is down), so nothing is admitted. */
  | { ok: false; limit: Limit; retryAfterSeconds: number; unavailable?: boolean };

/**
 * What counts admitted requests: this process's sliding log (RateLimiter, synchronous: one replica, SQLite), or the
 * log several replicas share in PostgreSQL (shared-limiter.ts, asynchronous). Both admit all limits or none.
 */
export interface Limiter {
  admit(limits: readonly Limit[], now: number): LimitVerdict | Promise<LimitVerdict>;
}

/** `f` applied to a value that may still be coming: synchronous values stay synchronous (no microtask per request). */
export function andThen<T, R>(value: T | Promise<T>, f: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

const SWEEP_EVERY = 4096;

export class RateLimiter implements Limiter {
  readonly #log = new Map<string, { perMs: number; times: number[] }>();
  #calls = 0;

  /** Admits (and counts) the request against every limit, or names the first exhausted one. */
  admit(limits: readonly Limit[], now: number): LimitVerdict {
    if (++this.#calls % SWEEP_EVERY === 0) this.sweep(now);
    let worst: { limit: Limit; retryAfterSeconds: number } | undefined;
    for (const limit of limits) {
      const entry = this.#log.get(limit.key);
      if (!entry) continue;
      prune(entry.times, now - limit.perMs);
      const cost = limit.cost ?? 1;
      if (entry.times.length + cost > limit.requests) {
        // Room for `cost` more once the oldest (length + cost - requests) times have left the window.
        const oldest = entry.times[entry.times.length + cost - limit.requests - 1] ?? now;
        const retryAfterSeconds = Math.max(1, Math.ceil((oldest + limit.perMs - now) / 1000));
        if (!worst || retryAfterSeconds > worst.retryAfterSeconds) worst = { limit, retryAfterSeconds };
      }
    }
    if (worst) return { ok: false, ...worst };
    for (const limit of limits) {
      let entry = this.#log.get(limit.key);
      if (!entry) {
        entry = { perMs: limit.perMs, times: [] };
        this.#log.set(limit.key, entry);
      }
      entry.perMs = limit.perMs;
      for (let n = 0; n < (limit.cost ?? 1); n++) entry.times.push(now);
      // Only the newest `requests` times can ever matter.
      if (entry.times.length > limit.requests) entry.times.splice(0, entry.times.length - limit.requests);
    }
    return { ok: true };
  }

  /** Drops entries whose every time has left its window (bounds memory to active identities). */
  sweep(now: number): void {
    for (const [key, entry] of this.#log) {
      prune(entry.times, now - entry.perMs);
      if (entry.times.length === 0) this.#log.delete(key);
    }
  }

  get size(): number {
    return this.#log.size;
  }
}

function prune(times: number[], cutoff: number): void {
  let drop = 0;
  while (drop < times.length && (times[drop] ?? 0) <= cutoff) drop++;
  if (drop) times.splice(0, drop);
}
