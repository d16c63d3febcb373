// Counters several gateway replicas share through the store (issue 16 §7): rate limits (src/policy/shared-limiter.ts)
// and sign-in throttles (src/identity/throttle.ts).
//
// Each counter is one row holding a version and a JSON state. An update reads the row, computes the next state and
// writes it with compare-and-set (one statement: "UPDATE … WHERE version = v"); when another replica wrote first the
// write changes nothing and the update reads again. So every update is applied to the state every other replica left,
// whatever the interleaving, with no lock held across round trips. Within one process updates of one key queue behind
// each other (no replica races itself), and the last state it wrote is remembered, so an uncontended update is one
// round trip. A decision to write nothing is never taken on a remembered state: it is read fresh first.
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

export class SharedCounters {
  readonly #rows: CounterRows;
  readonly #remembered = new Map<string, { version: number; state: string }>();
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(rows: CounterRows) {
    this.#rows = rows;
  }

  /** Applies `step` to the counter's current state (undefined: no row yet) and writes what it decides. */
  update<S, R>(key: string, step: (state: S | undefined) => CounterStep<S, R>): Promise<R> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.#update(key, step));
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return run;
  }

  async #update<S, R>(key: string, step: (state: S | undefined) => CounterStep<S, R>): Promise<R> {
    let row = this.#remembered.get(key);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!row) {
        row = (await this.#rows.counters.get(key)) ?? { version: 0, state: "" };
        fresh = true;
      }
      const decided = step(row.state ? (JSON.parse(row.state) as S) : undefined);
      if (!decided.write) {
        if (fresh) return decided.result;
        row = undefined;
        continue;
      }
      const state = JSON.stringify(decided.write.state);
      if (await this.#rows.counters.swap(key, row.version, state, decided.write.expiresMs)) {
        this.#remember(key, { version: row.version + 1, state });
        return decided.result;
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
