// Throttling sign-in and token minting (issue 15): console sign-in and session-credential minting are limited per
// source address (failed attempts: guessing tokens) and per identity (successful mints: an agent or a stolen token
// minting without end). Fixed windows: in memory with one replica (SQLite); in the store with several (PostgreSQL),
// so an address or identity has one budget however the load balancer spreads its attempts (issue 16 §7).
//
// Stance: a throttled attempt is answered 429 with Retry-After before any token is checked, so guessing costs the
// same whether the guess is right or wrong. Each key that is throttled gets one audit note per window (`onThrottled`),
// never one per attempt, so a flood cannot flood the audit log. Memory is bounded: past MAX_KEYS the oldest keys are
// dropped (each source is still limited while it is tracked; identities are few).

import { dependencyUnavailable } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { type CounterRows, SharedCounters } from "../shared/shared-counter.ts";

export interface ThrottleLimits {
  /** Failed attempts a source address may make per window. */
  failuresPerSource: number;
  /** Successful sign-ins or mints an identity may make per window. */
  attemptsPerIdentity: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  failuresPerSource: 10,
  attemptsPerIdentity: 30,
  windowSeconds: 60,
};

export type ThrottleVerdict =
  | { ok: true }
  | { ok: false; retryAfterSeconds: number; scope: "source" | "identity"; limit: number };

export interface ThrottledEvent {
  endpoint: string;
  scope: "source" | "identity";
  /** The source address or identity name. */
  key: string;
  limit: number;
  windowSeconds: number;
  until: string;
}

const MAX_KEYS = 50_000;

interface Window {
  start: number;
  count: number;
  noted: boolean;
}

export class AttemptThrottle {
  readonly limits: ThrottleLimits;
  readonly #now: () => number;
  readonly #onThrottled: (event: ThrottledEvent) => void;
  readonly #windows = new Map<string, Window>();
  readonly #shared: SharedCounters | undefined;

  constructor(opts: {
    limits?: Partial<ThrottleLimits>;
    now?: () => number;
    onThrottled?: (event: ThrottledEvent) => void;
    /** Several replicas: the windows live in the store they share (src/shared/shared-counter.ts). */
    shared?: CounterRows;
  }) {
    this.limits = { ...DEFAULT_THROTTLE, ...opts.limits };
    this.#now = opts.now ?? Date.now;
    this.#onThrottled = opts.onThrottled ?? (() => {});
    this.#shared = opts.shared ? new SharedCounters(opts.shared) : undefined;
  }

  #local(key: string): Window {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.limits.windowSeconds * 1000) {
      if (w) this.#windows.delete(key);
      w = { start: now, count: 0, noted: false };
      if (this.#windows.size >= MAX_KEYS) {
        const oldest = this.#windows.keys().next().value;
        if (oldest !== undefined) this.#windows.delete(oldest);
      }
      this.#windows.set(key, w);
    }
    return w;
  }

  /** Applies `f` to the key's current window: this process's, or the one the replicas share (written if changed). */
  async #with<R>(parts: string[], f: (w: Window) => R): Promise<R> {
    if (!this.#shared) return f(this.#local(parts.join("\u0000")));
    const windowMs = this.limits.windowSeconds * 1000;
    try {
      return await this.#shared.update<Window, R>(`throttle ${JSON.stringify(parts)}`, (stored) => {
        const now = this.#now();
        const w =
          stored && now - stored.start < windowMs ? { ...stored } : { start: now, count: 0, noted: false };
        const before = JSON.stringify(w);
        const result = f(w);
        if (JSON.stringify(w) === before) return { result };
        return { result, write: { state: w, expiresMs: w.start + windowMs } };
      });
    } catch {
      // Fail closed: without the shared count nobody may try (the store being down stops sign-in anyway).
      throw new StatusError(
        dependencyUnavailable(
          "sign-in and token-minting throttles cannot be checked: the store the gateway replicas share is unavailable; retry shortly",
        ),
      );
    }
  }

  async #check(endpoint: string, scope: "source" | "identity", key: string, limit: number, count: boolean) {
    const windowMs = this.limits.windowSeconds * 1000;
    const { verdict, note } = await this.#with([endpoint, scope, key], (w) => {
      if (w.count < limit) {
        if (count) w.count++;
        return { verdict: { ok: true } as ThrottleVerdict, note: undefined };
      }
      const endsMs = w.start + windowMs;
      const retryAfterSeconds = Math.max(1, Math.ceil((endsMs - this.#now()) / 1000));
      const verdict: ThrottleVerdict = { ok: false, retryAfterSeconds, scope, limit };
      if (w.noted) return { verdict, note: undefined };
      w.noted = true;
      return { verdict, note: new Date(endsMs).toISOString() };
    });
    // Once per key and window, on whichever replica noted it first.
    if (note) {
      this.#onThrottled({
        endpoint,
        scope,
        key,
        limit,
        windowSeconds: this.limits.windowSeconds,
        until: note,
      });
    }
    return verdict;
  }

  /** Before checking a token: may this source still try? */
  checkSource(endpoint: string, source: string): Promise<ThrottleVerdict> {
    return this.#check(endpoint, "source", source, this.limits.failuresPerSource, false);
  }

  /** A failed attempt from `source` (an unknown, revoked or wrong-kind token). */
  async failed(endpoint: string, source: string): Promise<void> {
    await this.#with([endpoint, "source", source], (w) => {
      w.count++;
    });
  }

  /** Once the token is known: may this identity sign in or mint again? Counts the attempt when it may. */
  attempt(endpoint: string, identity: string): Promise<ThrottleVerdict> {
    return this.#check(endpoint, "identity", identity, this.limits.attemptsPerIdentity, true);
  }
}

/** The refusal a throttled caller gets (a Status message; the code is 429 with Retry-After). */
export function throttledMessage(
  what: string,
  verdict: Extract<ThrottleVerdict, { ok: false }>,
  windowSeconds: number,
): string {
  const who = verdict.scope === "source" ? "failed attempts from one address" : "attempts by one identity";
  return `${what} is throttled: at most ${verdict.limit} ${who} per ${windowSeconds}s; retry in ${verdict.retryAfterSeconds}s`;
}
