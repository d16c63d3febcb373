// Rate limits counted across gateway replicas (issue 16 §7): the same sliding window as RateLimiter (ratelimit.ts),
// kept in the store several replicas share, so three replicas do not triple an agent's budget.
//
// Each (identity, policy, rule) is one shared counter (src/shared/shared-counter.ts): the times of the requests it
// admitted, as [time, count] pairs. A request is admitted when the pairs still in the window (time + per > now) plus
// its cost fit the limit; the pair is written with compare-and-set, so two replicas admitting at once cannot both take
// the last place. Times are rounded UP to 1/64 of the window, which bounds a counter to ~65 pairs and only ever keeps
// a request counted a little longer than it was (a Retry-After up to per/64 later; never one request too many).
// Several limits are admitted all or nothing: those taken before a refusal are given back.
//
// Fail closed: when the store cannot be read or written, the request is refused (429, Retry-After 5 s, the message
// says why) rather than admitted uncounted. Cost: one round trip per request that a rate-limited rule matches (a burst
// of one key on one replica shares one), none for the others (docs/operations.md "Several replicas" has the design and what batching would take).

import type { CounterRows } from "../shared/shared-counter.ts";
import { SharedCounters } from "../shared/shared-counter.ts";
import type { Limit, Limiter, LimitVerdict } from "./ratelimit.ts";

/** [time in epoch ms (rounded up), how many requests] */
type Pair = [number, number];
interface State {
  pairs: Pair[];
}

const SLOTS = 64;
const UNAVAILABLE_RETRY_SECONDS = 5;
const PURGE_EVERY = 1024;

export interface SharedLimiterLog {
  warn(obj: object, msg: string): void;
}

/** The shared counter's key: readable, and free of the NUL bytes the in-process keys use (PostgreSQL TEXT has none). */
export function counterKey(limit: Limit): string {
  return `rate ${JSON.stringify(limit.key.split("\u0000"))}`;
}

function slotOf(now: number, perMs: number): number {
  const slot = Math.max(1, Math.floor(perMs / SLOTS));
  return Math.ceil(now / slot) * slot;
}

export class SharedRateLimiter implements Limiter {
  readonly #counters: SharedCounters;
  readonly #rows: CounterRows;
  readonly #log: SharedLimiterLog | undefined;
  #calls = 0;

  constructor(rows: CounterRows, log?: SharedLimiterLog) {
    this.#rows = rows;
    this.#counters = new SharedCounters(rows);
    this.#log = log;
  }

  async admit(limits: readonly Limit[], now: number): Promise<LimitVerdict> {
    if (++this.#calls % PURGE_EVERY === 0) {
      this.#rows.counters
        .purge?.(now)
        .catch((err: Error) => this.#log?.warn({ err: err.message }, "purge failed"));
    }
    const taken: { limit: Limit; at: number }[] = [];
    try {
      for (const limit of limits) {
        const verdict = await this.#take(limit, now);
        if (!verdict.ok) {
          await this.#giveBack(taken);
          return verdict;
        }
        taken.push({ limit, at: verdict.at });
      }
      return { ok: true };
    } catch (err) {
      this.#log?.warn(
        { err: (err as Error).message },
        "rate limit counters in the store cannot be used; request refused",
      );
      await this.#giveBack(taken);
      return {
        ok: false,
        limit: limits[0] as Limit,
        retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS,
        unavailable: true,
      };
    }
  }

  #take(limit: Limit, now: number): Promise<{ ok: true; at: number } | Extract<LimitVerdict, { ok: false }>> {
    const cost = limit.cost ?? 1;
    return this.#counters.update<State, { ok: true; at: number } | Extract<LimitVerdict, { ok: false }>>(
      counterKey(limit),
      (state) => {
        const pairs = (state?.pairs ?? []).filter(([at]) => at + limit.perMs > now);
        const used = pairs.reduce((n, [, c]) => n + c, 0);
        if (used + cost > limit.requests) {
          // Room for `cost` more once enough of the oldest pairs have left the window.
          let freed = 0;
          let until = now;
          for (const [at, c] of pairs) {
            freed += c;
            until = at + limit.perMs;
            if (used - freed + cost <= limit.requests) break;
          }
          const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
          return { result: { ok: false, limit, retryAfterSeconds } };
        }
        const at = slotOf(now, limit.perMs);
        const last = pairs.at(-1);
        if (last && last[0] === at) pairs[pairs.length - 1] = [at, last[1] + cost];
        else pairs.push([at, cost]);
        return { result: { ok: true, at }, write: { state: { pairs }, expiresMs: at + limit.perMs } };
      },
    );
  }

  /** Returns what was taken for limits before one refused (best effort: a failure only over-counts). */
  async #giveBack(taken: readonly { limit: Limit; at: number }[]): Promise<void> {
    for (const { limit, at } of taken) {
      const cost = limit.cost ?? 1;
      await this.#counters
        .update<State, void>(counterKey(limit), (state) => {
          const pairs = (state?.pairs ?? []).map(([t, c]): Pair => [t, t === at ? Math.max(0, c - cost) : c]);
          const kept = pairs.filter(([, c]) => c > 0);
          const expiresMs = (kept.at(-1)?.[0] ?? at) + limit.perMs;
          return { result: undefined, write: { state: { pairs: kept }, expiresMs } };
        })
        .catch((err: Error) => this.#log?.warn({ err: err.message }, "rate limit budget not given back"));
    }
  }
}
