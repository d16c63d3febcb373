// Throttling sign-in and token minting (issue 15): console sign-in and session-credential minting are limited per
// source address (failed attempts: guessing tokens) and per identity (successful mints: an agent or a stolen token
// minting without end). Fixed windows, in memory, per replica. Pure apart from the clock.
//
// Stance: a throttled attempt is answered 429 with Retry-After before any token is checked, so guessing costs the
// same whether the guess is right or wrong. Each key that is throttled gets one audit note per window (`onThrottled`),
// never one per attempt, so a flood cannot flood the audit log. Memory is bounded: past MAX_KEYS the oldest keys are
// dropped (each source is still limited while it is tracked; identities are few).

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

  constructor(opts: {
    limits?: Partial<ThrottleLimits>;
    now?: () => number;
    onThrottled?: (event: ThrottledEvent) => void;
  }) {
    this.limits = { ...DEFAULT_THROTTLE, ...opts.limits };
    this.#now = opts.now ?? Date.now;
    this.#onThrottled = opts.onThrottled ?? (() => {});
  }

  #window(key: string): Window {
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

  #check(endpoint: string, scope: "source" | "identity", key: string, limit: number): ThrottleVerdict {
    const w = this.#window(`${endpoint}\u0000${scope}\u0000${key}`);
    if (w.count < limit) return { ok: true };
    const endsMs = w.start + this.limits.windowSeconds * 1000;
    const retryAfterSeconds = Math.max(1, Math.ceil((endsMs - this.#now()) / 1000));
    if (!w.noted) {
      w.noted = true;
      this.#onThrottled({
        endpoint,
        scope,
        key,
        limit,
        windowSeconds: this.limits.windowSeconds,
        until: new Date(endsMs).toISOString(),
      });
    }
    return { ok: false, retryAfterSeconds, scope, limit };
  }

  /** Before checking a token: may this source still try? */
  checkSource(endpoint: string, source: string): ThrottleVerdict {
    return this.#check(endpoint, "source", source, this.limits.failuresPerSource);
  }

  /** A failed attempt from `source` (an unknown, revoked or wrong-kind token). */
  failed(endpoint: string, source: string): void {
    this.#window(`${endpoint}\u0000source\u0000${source}`).count++;
  }

  /** Once the token is known: may this identity sign in or mint again? Counts the attempt when it may. */
  attempt(endpoint: string, identity: string): ThrottleVerdict {
    const verdict = this.#check(endpoint, "identity", identity, this.limits.attemptsPerIdentity);
    if (verdict.ok) this.#window(`${endpoint}\u0000identity\u0000${identity}`).count++;
    return verdict;
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
