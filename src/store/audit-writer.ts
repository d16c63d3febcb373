// Group commit for the audit chain: every chained write (request begin, completion, note) joins a queue, and all
// writes queued in one turn of the event loop commit in one SQLite transaction — one fsync for many events.
//
// Write-ahead still holds (DESIGN.md invariant 3): each write's promise resolves only after the COMMIT that contains
// it returned, and synchronous=FULL makes that commit durable. Each write runs inside its own SAVEPOINT, so one bad
// event (duplicate id, unknown completion) is refused alone without failing the others in its batch; if the COMMIT
// itself fails (disk full, read-only file), every write of the batch rejects and the in-memory chain head is
// re-read from the database, so the chain never skips or forks.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { JsonValue } from "../audit/canonical.ts";
import { type ChainHead, type ChainRecord, linkRecord } from "../audit/chain.ts";

/** One chained write: runs its SQL inside the batch and appends its records through `append`. */
export type ChainWrite<T> = (
  append: (type: string, ref: string, time: string, data: { [key: string]: JsonValue }) => ChainRecord,
) => T;

interface Pending {
  work: ChainWrite<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class ChainWriter {
  readonly #db: DatabaseSync;
  readonly #readHead: () => ChainHead;
  readonly #listeners = new Set<(head: ChainHead) => void>();
  #head: ChainHead | undefined;
  #queue: Pending[] = [];
  #scheduled = false;
  #insert: StatementSync | undefined;
  #savepointStatements: [StatementSync, StatementSync] | undefined;
  get #savepoint(): StatementSync {
    return (this.#savepointStatements as [StatementSync, StatementSync])[0];
  }
  get #release(): StatementSync {
    return (this.#savepointStatements as [StatementSync, StatementSync])[1];
  }

  constructor(db: DatabaseSync, readHead: () => ChainHead) {
    this.#db = db;
    this.#readHead = readHead;
  }

  head(): ChainHead {
    this.#head ??= this.#readHead();
    return this.#head;
  }

  watch(listener: (head: ChainHead) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  write<T>(work: ChainWrite<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (also called before the store closes). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    let appended = false;
    try {
      let head: ChainHead;
      // Prepared once: parsing SAVEPOINT/RELEASE for every write is a measurable share of the write path.
      this.#savepointStatements ??= [
        this.#db.prepare("SAVEPOINT audit_write"),
        this.#db.prepare("RELEASE audit_write"),
      ];
      this.#insert ??= this.#db.prepare(
        "INSERT INTO audit_chain (seq, type, ref, time, time_ms, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      const insert = this.#insert;
      this.#db.exec("BEGIN IMMEDIATE");
      // Re-read under the write lock: another connection to the same file (a second process, a test) may have
      // appended since our last batch, and the chain must continue from the real head, never fork.
      head = this.#readHead();
      const startSeq = head.seq;
      for (const op of batch) {
        const before = head;
        this.#savepoint.run();
        try {
          const value = op.work((type, ref, time, data) => {
            const record = linkRecord(head, type, ref, time, data);
            insert.run(
              record.seq,
              type,
              ref,
              time,
              Date.parse(time),
              record.body,
              record.prevHash,
              record.hash,
            );
            head = { seq: record.seq, hash: record.hash };
            return record;
          });
          this.#release.run();
          outcomes.push({ ok: true, value });
        } catch (err) {
          this.#db.exec("ROLLBACK TO audit_write");
          this.#db.exec("RELEASE audit_write");
          head = before;
          outcomes.push({ ok: false, err });
        }
      }
      this.#db.exec("COMMIT");
      appended = head.seq !== startSeq;
      this.#head = head;
    } catch (err) {
      // The batch did not commit: nothing of it is durable, so nothing of it may be acknowledged.
      try {
        if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch {
        // The handle is unusable; the rejection below is what matters.
      }
      this.#head = undefined;
      for (const op of batch) op.reject(err);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) op.resolve(outcome.value);
      else op.reject(outcome?.err);
    });
    if (appended && this.#head) {
      const head = this.#head;
      for (const listener of this.#listeners) {
        try {
          listener(head);
        } catch {
          // A listener (sink, checkpointer) must never fail a committed write.
        }
      }
    }
  }
}
