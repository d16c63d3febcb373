// Counters several gateway replicas share through the store (issue 16 §7): rate limits (src/policy/shared-limiter.ts)
// and sign-in throttles (src/identity/throttle.ts).
//
// Each counter is one row holding a version and a JSON state. An update reads the row, computes the next state and
// writes it with compare-and-set (one statement: "UPDATE … WHERE version = v"); when another replica wrote first the
// write changes nothing and the update reads again. So every update is applied to the state every other replica left,
// whatever the interleaving, with no lock held across round trips. Within one process updates of one key queue behind
// each other (no replica races itself) and those that pile up while one is in flight are applied together and written
// once; the last state a replica wrote is remembered, so an uncontended update is one round trip. A decision to write
// nothing is never taken on a remembered state: it is read fresh first.
// Store errors reject: the callers fail closed.
export interface CounterRows {
  /** The store's counters table (store.counters, src/store/replica-state.ts), structurally. */
  counters: {
    get(key: string): Promise<{ version: number; state: string } | undefined>;
    swap(key: string, version: number, state: string, expiresMs: number): Promise<boolean>;
    purge?(nowMs: number): Promise<number>;
  };
}

/** What an update decides: its result, and the state to write (none: leave the row as it is). */
export interface CounterStep<S, R> {
  result: R;
  write?: { state: S; expiresMs: number };
}

const MAX_ATTEMPTS = 20;
const MAX_REMEMBERED = 10_000;

interface Waiting {
  step: (state: unknown) => CounterStep<unknown, unknown>;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

export class SharedCounters {
  readonly #rows: CounterRows;
  readonly #remembered = new Map<string, { version: number; state: string }>();
  /** Per key: the updates waiting for the one in flight to finish. */
  readonly #waiting = new Map<string, Waiting[]>();

  constructor(rows: CounterRows) {
    this.#rows = rows;
  }

  /**
   * Applies `step` to the counter's current state (undefined: no row yet) and writes what it decides. Updates of one
   * key that arrive while another is in flight are applied together, in arrival order, and written once: a burst
   * costs one round trip, not one each. `step` must be pure (it runs again when another replica wrote first).
   */
  update<S, R>(key: string, step: (state: S | undefined) => CounterStep<S, R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry = { step, resolve, reject } as unknown as Waiting;
      const queue = this.#waiting.get(key);
      if (queue) {
        queue.push(entry);
        return;
      }
      this.#waiting.set(key, [entry]);
      void this.#drain(key);
    });
  }

  async #drain(key: string): Promise<void> {
    for (;;) {
      const batch = this.#waiting.get(key) ?? [];
      if (!batch.length) {
        this.#waiting.delete(key);
        return;
      }
      this.#waiting.set(key, []);
      try {
        const results = await this.#apply(key, batch);
        for (const [i, w] of batch.entries()) w.resolve(results[i]);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  }

  /** Runs the steps one after another on the state and writes the outcome with compare-and-set (retrying). */
  async #apply(key: string, batch: readonly Waiting[]): Promise<unknown[]> {
    let row = this.#remembered.get(key);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!row) {
        row = (await this.#rows.counters.get(key)) ?? { version: 0, state: "" };
        fresh = true;
      }
      let state: unknown = row.state ? JSON.parse(row.state) : undefined;
      let write: { state: unknown; expiresMs: number } | undefined;
      const results: unknown[] = [];
      for (const { step } of batch) {
        const decided = step(state);
        results.push(decided.result);
        if (decided.write) {
          write = decided.write;
          state = decided.write.state;
        }
      }
      if (!write) {
        if (fresh) return results;
        row = undefined;
        continue;
      }
      const json = JSON.stringify(write.state);
      if (await this.#rows.counters.swap(key, row.version, json, write.expiresMs)) {
        this.#remember(key, { version: row.version + 1, state: json });
        return results;
      }
      row = undefined;
    }
    this.#remembered.delete(key);
    throw new Error(`shared counter ${key}: gave up after ${MAX_ATTEMPTS} conflicting writes`);
  }

  #remember(key: string, row: { version: number; state: string }): void {
    this.#remembered.delete(key);
    if (this.#remembered.size >= MAX_REMEMBERED) {
      const oldest = this.#remembered.keys().next().value;
      if (oldest !== undefined) this.#remembered.delete(oldest);
    }
    this.#remembered.set(key, row);
  }
}
