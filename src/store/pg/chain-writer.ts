// Group commit for the audit chain on PostgreSQL, safe with several writers (replicas) on one database.
//
// Ordering: every batch runs in one transaction that first locks the single row of audit_chain_head
// (SELECT … FOR UPDATE). Whoever holds the lock reads the current head, appends its records after it and moves the
// head before COMMIT; the next writer (this replica's next batch or another replica's) blocks on the row until then
// and reads the moved head. So all writers share one gap-free order, and no record is ever linked to a stale head.
// The in-memory head of the SQLite writer would be wrong here: another replica may have appended since.
//
// Write-ahead (DESIGN.md invariant 3): a write's promise resolves only after the COMMIT holding it returned
// (synchronous_commit must stay on; see docs/storage.md). Each write with SQL of its own runs inside a SAVEPOINT, so
// one bad event (duplicate id, unknown completion) is refused alone; if the COMMIT fails, the whole batch rejects.
import { type ChainHead, type ChainRecord, linkRecord } from "../../audit/chain.ts";
import type { CommitStats } from "../../audit/types.ts";
import type { Append, AuditWriter, ChainWrite } from "../audit.ts";
import type { Sql } from "../sql.ts";
import type { Client, Db } from "./db.ts";

interface Pending {
  work: ChainWrite<unknown>;
  /** False when the write runs no SQL of its own (a note): it needs no savepoint. */
  sql: boolean;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 500;

export class PgChainWriter implements AuditWriter {
  readonly #db: Db;
  readonly #listeners = new Set<(head: ChainHead) => void>();
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  readonly #stats: CommitStats = { batches: 0, writes: 0 };

  stats(): CommitStats {
    return { ...this.#stats };
  }

  constructor(db: Db) {
    this.#db = db;
  }

  watch(listener: (head: ChainHead) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The committed head, read from the database: another replica may have appended since this one did. */
  async head(): Promise<ChainHead> {
    const row = await this.#db.get("SELECT seq, hash FROM audit_chain_head WHERE id = 1");
    if (!row) throw new Error("store: the audit chain head row is missing");
    return { seq: Number(row.seq), hash: String(row.hash) };
  }

  /** The chain-head row lock: every replica's writer waits until the caller's transaction ends. */
  async lockHead(sql: Sql): Promise<void> {
    await sql.run("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE");
  }

  write<T>(work: ChainWrite<T>, opts: { sync?: boolean; sql?: boolean } = {}): Promise<T> {
    if (this.#db.closed) return Promise.reject(new Error("store: the PostgreSQL store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, sql: opts.sql ?? true, resolve: resolve as (v: unknown) => void, reject });
      // Writes arriving while a batch commits wait for the next one: that is what makes it a group commit.
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  /** Resolves once everything queued so far has committed or failed. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        this.#stats.batches += 1;
        this.#stats.writes += batch.length;
        await this.#commit(batch);
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    let head: ChainHead;
    let start: ChainHead;
    let records: ChainRecord[] = [];
    let client: Client | undefined;
    try {
      client = await this.#db.connect();
      const sql = client.sql;
      await sql.run("BEGIN");
      const row = await sql.get("SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE");
      if (!row) throw new Error("store: the audit chain head row is missing");
      start = { seq: Number(row.seq), hash: String(row.hash) };
      head = start;
      for (const op of batch) {
        const before = head;
        const kept = records.length;
        const append: Append = (type, ref, time, data) => {
          const record = linkRecord(head, type, ref, time, data);
          records.push(record);
          head = { seq: record.seq, hash: record.hash };
          return record;
        };
        if (op.sql) await sql.run("SAVEPOINT audit_write");
        try {
          const value = await op.work(sql, append);
          if (op.sql) await sql.run("RELEASE SAVEPOINT audit_write");
          outcomes.push({ ok: true, value });
        } catch (err) {
          if (op.sql) {
            await sql.run("ROLLBACK TO SAVEPOINT audit_write");
            await sql.run("RELEASE SAVEPOINT audit_write");
          }
          records = records.slice(0, kept);
          head = before;
          outcomes.push({ ok: false, err });
        }
      }
      if (records.length) {
        // One statement for the whole batch: arrays unnested into rows.
        await sql.run(
          `INSERT INTO audit_chain (seq, type, ref, time, time_ms, body, prev_hash, hash)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
             $7::text[], $8::text[])`,
          [
            records.map((r) => r.seq),
            records.map((r) => r.type),
            records.map((r) => r.ref),
            records.map((r) => r.time),
            records.map((r) => Date.parse(r.time)),
            records.map((r) => r.body),
            records.map((r) => r.prevHash),
            records.map((r) => r.hash),
          ],
        );
        await sql.run("UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1", [head.seq, head.hash]);
      }
      await sql.run("COMMIT");
    } catch (err) {
      // The batch did not commit: nothing of it is durable, so nothing of it may be acknowledged.
      await client?.query("ROLLBACK").catch(() => {});
      client?.release(true);
      for (const op of batch) op.reject(err);
      return;
    }
    client.release();
    batch.forEach((op, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) op.resolve(outcome.value);
      else op.reject(outcome?.err);
    });
    if (records.length) {
      const committed = head;
      for (const listener of this.#listeners) {
        try {
          listener(committed);
        } catch {
          // A listener (sink, checkpointer) must never fail a committed write.
        }
      }
    }
  }
}
