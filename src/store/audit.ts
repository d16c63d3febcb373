// The tamper-evident audit log's tables (src/audit, docs/audit.md), written once for both engines: request events
// with their chained begin and completion records, notes, checkpoints, retention, search and sink cursors. The
// chained writes go through the engine's writer (AuditWriter: group commit; audit-writer.ts for SQLite,
// pg/chain-writer.ts for PostgreSQL), which decides how a batch is ordered and made durable.
//
// Fail closed: a write resolves only once committed; a completion for an unknown or completed event, a duplicate id
// or an unparseable time is refused. Pruning holds the chain (no writer of any replica appends while the seal is
// checked and the records deleted), and a seal that does not match the record it names prunes nothing.
import { randomUUID } from "node:crypto";
import { canonicalJson, type JsonValue } from "../audit/canonical.ts";
import {
  type ChainHead,
  type ChainRecord,
  NOTE_TYPE,
  REQUEST,
  REQUEST_COMPLETED,
  requestBeginData,
  requestCompletedData,
} from "../audit/chain.ts";
import type {
  AuditCheckpoint,
  AuditCompletion,
  AuditEvent,
  AuditNote,
  AuditQuery,
  AuditRecord,
  AuditSearchResult,
  AuditTable,
  CommitStats,
} from "../audit/types.ts";
import {
  COMPLETE_EVENT,
  checkpointFromRow,
  checkpointParams,
  decodeCursor,
  encodeCursor,
  INSERT_CHECKPOINT,
  INSERT_EVENT,
  num,
  recordFromRow,
  seqOrUndefined,
  timeMs,
} from "./audit-rows.ts";
import { AUDIT_COLUMNS, auditFromRow } from "./rows.ts";
import { type Db, marks, type Param, type Sql } from "./sql.ts";

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export type Append = (
  type: string,
  ref: string,
  time: string,
  data: { [key: string]: JsonValue },
) => ChainRecord;
/** One chained write: its own SQL through `sql` (inside the batch), its records through `append` (synchronously). */
export type ChainWrite<T> = (sql: Sql, append: Append) => Promise<T> | T;

/** The engine's group-commit writer of the chain. */
export interface AuditWriter {
  /**
   * Queues a chained write; resolves once its batch committed. `sync: false` (a completion) need not wait for an
   * fsync of its own; `sql: false` (a note) runs no SQL of its own.
   */
  write<T>(work: ChainWrite<T>, opts?: { sync?: boolean; sql?: boolean }): Promise<T>;
  /** The committed head. */
  head(): Promise<ChainHead>;
  /** Inside a transaction: no writer (of any replica) appends until it ends. */
  lockHead(sql: Sql): Promise<void>;
  /** Resolves once everything queued so far has committed or failed. */
  idle(): Promise<void>;
  /** Hears every committed batch's new head. */
  watch(listener: (head: ChainHead) => void): () => void;
  /** Transactions run and writes carried so far (group commit: fewer transactions than writes). */
  stats(): CommitStats;
}

export class AuditTables implements AuditTable {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #writer: AuditWriter;

  constructor(db: Db, writer: AuditWriter, now: () => number) {
    this.#db = db;
    this.#writer = writer;
    this.#now = now;
  }

  /** Appends a request's event and its chained begin record; resolves once both are committed (write-ahead). */
  begin(event: AuditEvent): Promise<void> {
    if (Number.isNaN(Date.parse(event.time)))
      return Promise.reject(new Error(`audit event ${event.id}: time is not a date`));
    return this.#writer.write(async (sql, append) => {
      // The row and its chained record commit together; a record that cannot be encoded throws here and only this
      // event is refused.
      const record = append(REQUEST, event.id, event.time, requestBeginData(event));
      await sql.run(INSERT_EVENT, [...AUDIT_COLUMNS.map(([, read]) => read(event)), record.seq]);
    });
  }

  /** Completes a request's event with its chained completion record. */
  complete(id: string, completion: AuditCompletion): Promise<void> {
    return this.#writer.write(
      async (sql, append) => {
        const completedAt = new Date(this.#now()).toISOString();
        const row = await sql.get(COMPLETE_EVENT, [
          completion.status,
          completion.bytesIn,
          completion.bytesOut,
          completion.durationMs,
          completedAt,
          completion.reason ?? null,
          id,
        ]);
        // An event is completed once; a second completion or an unknown id is a pipeline bug and must be visible.
        if (!row) throw new Error(`audit event ${id} is unknown or already complete`);
        append(
          REQUEST_COMPLETED,
          id,
          completedAt,
          requestCompletedData(num(row.chain_seq), completion, completedAt),
        );
      },
      // The completion needs no fsync of its own: the next sync'd write or checkpoint makes it durable.
      { sync: false },
    );
  }

  /** Appends a chained note; resolves once it is committed. */
  note(note: AuditNote): Promise<AuditRecord> {
    if (!NOTE_TYPE.test(note.type)) {
      return Promise.reject(
        new Error(`audit note type "${note.type}" is not dotted lower-case (e.g. review.approved)`),
      );
    }
    const time = note.time ?? new Date(this.#now()).toISOString();
    let data: { [key: string]: JsonValue };
    try {
      timeMs(time, "note time");
      data = {
        actor: note.actor,
        subject: note.subject,
        detail: (note.detail ?? {}) as { [key: string]: JsonValue },
      };
      canonicalJson(data); // refuse what cannot be hashed before it joins a batch
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#writer.write((_sql, append) => append(note.type, randomUUID(), time, data), { sql: false });
  }

  /** The last record, or seq 0 and the genesis hash (or the sealing checkpoint's) when there is none. */
  head(): Promise<ChainHead> {
    return this.#writer.head();
  }

  /** Records with afterSeq < seq <= toSeq, in seq order. */
  async records(q: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]> {
    const rows = await this.#db.all(
      "SELECT * FROM audit_chain WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      [q.afterSeq, q.toSeq ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
    return rows.map(recordFromRow);
  }

  /** The first record at or after a time, for `verify --from TIME`. */
  async seqAt(time: string): Promise<number | undefined> {
    return seqOrUndefined(
      await this.#db.get("SELECT min(seq) AS seq FROM audit_chain WHERE time_ms >= ?", [
        timeMs(time, "time"),
      ]),
    );
  }

  /** The last record written at or before a time, for retention by age. */
  async lastSeqBefore(time: string): Promise<number | undefined> {
    return seqOrUndefined(
      await this.#db.get("SELECT max(seq) AS seq FROM audit_chain WHERE time_ms <= ?", [
        timeMs(time, "time"),
      ]),
    );
  }

  /** Request events by id, as stored now (the verifier compares them with their chained records). */
  async eventsByIds(ids: string[]): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    // Chunked so a long page stays under either engine's limit on bound parameters.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.#db.all(
        `SELECT * FROM audit_events WHERE id IN (${marks(chunk.length)})`,
        chunk,
      );
      out.push(...rows.map(auditFromRow));
    }
    return out;
  }

  /** Ids of request events that no chained "request" record accounts for (inserted rows). */
  async unchained(limit: number): Promise<string[]> {
    const rows = await this.#db.all(
      `SELECT e.id FROM audit_events e
         LEFT JOIN audit_chain c ON c.seq = e.chain_seq AND c.type = ? AND c.ref = e.id
       WHERE c.seq IS NULL
       ORDER BY e.seq LIMIT ?`,
      [REQUEST, limit],
    );
    return rows.map((r) => String(r.id));
  }

  async appendCheckpoint(cp: AuditCheckpoint): Promise<void> {
    await this.#db.run(INSERT_CHECKPOINT, checkpointParams(cp));
  }

  /** All checkpoints in seq order. */
  async checkpoints(): Promise<AuditCheckpoint[]> {
    return (await this.#db.all("SELECT * FROM audit_checkpoints ORDER BY seq")).map(checkpointFromRow);
  }

  /** Deletes records with seq <= throughSeq (and their request events) after storing `seal`, in one transaction. */
  async prune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }> {
    await this.#writer.idle(); // nothing this replica queued may land between the seal and the delete
    return this.#db.tx(async (sql) => {
      await this.#writer.lockHead(sql);
      const sealed = await sql.get("SELECT hash FROM audit_chain WHERE seq = ?", [throughSeq]);
      if (
        !sealed ||
        seal.chainSeq !== throughSeq ||
        seal.chainHash !== String(sealed.hash) ||
        seal.reason !== "retention"
      ) {
        throw new Error(`audit retention: the seal does not match record ${throughSeq}; nothing was pruned`);
      }
      await sql.run(INSERT_CHECKPOINT, checkpointParams(seal));
      const events = await sql.run("DELETE FROM audit_events WHERE chain_seq <= ?", [throughSeq]);
      const records = await sql.run("DELETE FROM audit_chain WHERE seq <= ?", [throughSeq]);
      return { records, events };
    });
  }

  /** Request events, newest first, by any of the query's filters; a page and the cursor of the next. */
  async search(q: AuditQuery): Promise<AuditSearchResult> {
    const where: string[] = [];
    const params: Param[] = [];
    const eq = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    eq("identity_name", q.identityName);
    eq("verb", q.verb);
    eq("resource", q.resource);
    eq("namespace", q.namespace);
    eq("decision", q.decision);
    if (q.since !== undefined) {
      where.push("time_ms >= ?");
      params.push(timeMs(q.since, "since"));
    }
    if (q.until !== undefined) {
      where.push("time_ms < ?");
      params.push(timeMs(q.until, "until"));
    }
    if (q.cursor !== undefined) {
      const [ms, seq] = decodeCursor(q.cursor);
      where.push("(time_ms < ? OR (time_ms = ? AND seq < ?))");
      params.push(ms, ms, seq);
    }
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_AUDIT_LIMIT), 1), MAX_AUDIT_LIMIT);
    const rows = await this.#db.all(
      `SELECT * FROM audit_events${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY time_ms DESC, seq DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(auditFromRow),
      nextCursor: rows.length > limit && last ? encodeCursor(num(last.time_ms), num(last.seq)) : null,
    };
  }

  /** The first page of `search`. */
  async list(query: AuditQuery): Promise<AuditEvent[]> {
    return (await this.search(query)).items;
  }

  /** A sink's delivery position (0 when it has none). */
  async cursorGet(name: string): Promise<number> {
    const row = await this.#db.get("SELECT seq FROM audit_cursors WHERE name = ?", [name]);
    return row ? num(row.seq) : 0;
  }

  async cursorSet(name: string, seq: number): Promise<void> {
    await this.#db.run(
      "INSERT INTO audit_cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
      [name, seq],
    );
  }

  /** Hears every committed batch's new head (sinks, the checkpointer). */
  watch(listener: (head: ChainHead) => void): () => void {
    return this.#writer.watch(listener);
  }

  commitStats(): CommitStats {
    return this.#writer.stats();
  }
}
