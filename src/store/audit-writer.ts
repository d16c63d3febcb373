// Group commit for the audit chain on SQLite: every chained write (request begin, completion, note) joins a queue,
// and all writes queued in one turn of the event loop commit in one SQLite transaction — one fsync for many events.
// The batch holds the connection (SqliteDb.exclusive), so no other caller's statement lands inside it.
//
// Write-ahead still holds (DESIGN.md invariant 3): each write's promise resolves only after the COMMIT that contains
// it returned. How durable that commit is depends on `durability` (docs/audit.md):
// - "commit": WAL with synchronous=NORMAL. The COMMIT has written the transaction to the WAL file, so it survives a
//   crash or SIGKILL of the gateway; an OS crash or power loss may lose the last transactions.
// - "fsync": additionally, a write marked `sync` (a request's begin record, a note) resolves only after the WAL file
//   was fsync'd. The fsync runs on libuv's thread pool, not the event loop, and concurrent batches share one fsync.
//   A completion record never waits for its own fsync: the next fsync or checkpoint covers it.
// Each write runs inside its own SAVEPOINT, so one bad
// event (duplicate id, unknown completion) is refused alone without failing the others in its batch; if the COMMIT
// itself fails (disk full, read-only file), every write of the batch rejects and the in-memory chain head is
// re-read from the database, so the chain never skips or forks.
import { open } from "node:fs/promises";
import type { StatementSync } from "node:sqlite";
import { type ChainHead, linkRecord } from "../audit/chain.ts";
import type { CommitStats } from "../audit/types.ts";
import type { AuditWriter, ChainWrite } from "./audit.ts";
import type { Sql } from "./sql.ts";
import type { SqliteDb } from "./sqlite-db.ts";

interface Pending {
  work: ChainWrite<unknown>;
  sync: boolean;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface TransactionStatements {
  begin: StatementSync;
  commit: StatementSync;
  normal: StatementSync;
  full: StatementSync;
}

/** "commit": durable against a gateway crash; "fsync": also against an OS crash or power loss. */
export type AuditDurability = "commit" | "fsync";

export interface ChainWriterOptions {
  durability?: AuditDurability;
  /** The database's WAL file, fsync'd in "fsync" mode; absent for an in-memory database (nothing to sync). */
  walPath?: string;
  /** Runs before each batch; throwing refuses the batch (the database file removed under us: src/store/faults.ts). */
  beforeBatch?: () => void;
}

/** fsync of a file by path: Linux syncs the inode, so any descriptor works, including a read-only one. */
async function fsyncPath(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (err) {
    // No WAL file: the last connection closed, which checkpoints into the database file and syncs it first.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class ChainWriter implements AuditWriter {
  readonly #store: SqliteDb;
  readonly #db: SqliteDb["raw"];
  readonly #readHead: () => ChainHead;
  readonly #listeners = new Set<(head: ChainHead) => void>();
  #head: ChainHead | undefined;
  #queue: Pending[] = [];
  #scheduled = false;
  readonly #walPath: string | undefined;
  readonly #beforeBatch: (() => void) | undefined;
  #syncWaiters: Array<{ resolve(): void; reject(err: unknown): void }> = [];
  #syncing: Promise<void> | undefined;
  #insert: StatementSync | undefined;
  #savepointStatements: [StatementSync, StatementSync] | undefined;
  get #savepoint(): StatementSync {
    return (this.#savepointStatements as [StatementSync, StatementSync])[0];
  }
  get #release(): StatementSync {
    return (this.#savepointStatements as [StatementSync, StatementSync])[1];
  }

  readonly #inflight = new Set<Promise<void>>();
  readonly #stats: CommitStats = { batches: 0, writes: 0 };

  stats(): CommitStats {
    return { ...this.#stats };
  }

  constructor(db: SqliteDb, readHead: () => ChainHead, opts: ChainWriterOptions = {}) {
    this.#store = db;
    this.#db = db.raw;
    this.#readHead = readHead;
    this.#walPath = opts.durability === "fsync" ? opts.walPath : undefined;
    this.#beforeBatch = opts.beforeBatch;
  }

  /** Resolves once every fsync requested so far has finished (the store waits for it before closing). */
  async settled(): Promise<void> {
    while (this.#syncing) await this.#syncing;
  }

  async head(): Promise<ChainHead> {
    // Read holding the connection: a batch in flight must not show its uncommitted records.
    this.#head ??= await this.#store.exclusive(async () => this.#readHead());
    return this.#head;
  }

  /** Nothing to do: the caller's transaction (BEGIN IMMEDIATE, holding the connection) already excludes the writer. */
  async lockHead(_sql: Sql): Promise<void> {}

  /** Commits what is queued and resolves once every batch started so far has settled. */
  async idle(): Promise<void> {
    void this.flush();
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
  }

  watch(listener: (head: ChainHead) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Queues a chained write. `sync` marks a write whose durability others rely on (a request's begin record before
   * forwarding, a note): in "fsync" mode it resolves after the fsync. A completion passes `sync: false`.
   */
  write<T>(work: ChainWrite<T>, opts: { sync?: boolean; sql?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, sync: opts.sync ?? true, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Commits everything queued now (also called before the store closes); never rejects (the writes do). */
  flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return Promise.resolve();
    this.#stats.batches += 1;
    this.#stats.writes += batch.length;
    const done = this.#store.exclusive((sql) => this.#commit(batch, sql));
    this.#inflight.add(done);
    void done.finally(() => this.#inflight.delete(done));
    return done;
  }

  async #commit(batch: Pending[], sql: Sql): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    let appended = false;
    try {
      this.#beforeBatch?.();
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
      // The connection runs at FULL for the store's other writes; the chain's batches commit at NORMAL (to the WAL,
      // no fsync) and, in "fsync" mode, are synced off the event loop instead (#runSyncs).
      const tx = this.#transactionStatements();
      tx.normal.run();
      tx.begin.run();
      // Re-read under the write lock: another connection to the same file (a second process, a test) may have
      // appended since our last batch, and the chain must continue from the real head, never fork.
      head = this.#readHead();
      const startSeq = head.seq;
      for (const op of batch) {
        const before = head;
        this.#savepoint.run();
        try {
          const value = await op.work(sql, (type, ref, time, data) => {
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
      tx.commit.run();
      tx.full.run();
      appended = head.seq !== startSeq;
      this.#head = head;
    } catch (err) {
      // The batch did not commit: nothing of it is durable, so nothing of it may be acknowledged.
      try {
        if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec("ROLLBACK");
        if (this.#db.isOpen) this.#db.exec("PRAGMA synchronous = FULL");
      } catch {
        // The handle is unusable; the rejection below is what matters.
      }
      this.#head = undefined;
      for (const op of batch) op.reject(err);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i];
      if (!outcome?.ok) op.reject(outcome?.err);
      else if (op.sync && this.#walPath !== undefined) this.#afterSync(op, outcome.value);
      else op.resolve(outcome.value);
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

  #tx: TransactionStatements | undefined;

  /** The statements every batch runs, prepared once (parsing them per batch showed in the c=32 profile). */
  #transactionStatements(): TransactionStatements {
    this.#tx ??= {
      begin: this.#db.prepare("BEGIN IMMEDIATE"),
      commit: this.#db.prepare("COMMIT"),
      normal: this.#db.prepare("PRAGMA synchronous = NORMAL"),
      full: this.#db.prepare("PRAGMA synchronous = FULL"),
    };
    return this.#tx;
  }

  /** Resolves `op` after an fsync of the WAL that started after its COMMIT (group commit for the fsync too). */
  #afterSync(op: Pending, value: unknown): void {
    this.#syncWaiters.push({ resolve: () => op.resolve(value), reject: op.reject });
    this.#syncing ??= this.#runSyncs();
  }

  async #runSyncs(): Promise<void> {
    const walPath = this.#walPath as string;
    while (this.#syncWaiters.length > 0) {
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      try {
        await fsyncPath(walPath);
      } catch (err) {
        // Committed but not known to be on stable storage: refuse, so the request is not forwarded (fail closed).
        for (const w of waiters) w.reject(err);
        continue;
      }
      for (const w of waiters) w.resolve();
    }
    this.#syncing = undefined;
  }
}
