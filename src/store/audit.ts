// The SQLite side of the tamper-evident audit log (src/audit, docs/audit.md): request events with their chained
// begin and completion records, notes, checkpoints, retention and search.
//
// Fail closed: a write resolves only once committed (ChainWriter); a completion for an unknown or completed event,
// a duplicate id or an unparseable time is refused. Pruning refuses a seal that does not match the record it seals,
// so retention can never leave the chain unverifiable.
import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { canonicalJson, type JsonValue } from "../audit/canonical.ts";
import {
  type ChainHead,
  GENESIS_HASH,
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
} from "../audit/types.ts";
import { StatusError } from "../shared/status.ts";
import { ChainWriter, type ChainWriterOptions } from "./audit-writer.ts";
import { AUDIT_COLUMNS, auditFromRow } from "./rows.ts";

type Row = Record<string, unknown>;

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

const num = (v: unknown): number => Number(v);

function recordFromRow(row: Row): AuditRecord {
  return {
    seq: num(row.seq),
    type: String(row.type),
    ref: String(row.ref),
    time: String(row.time),
    body: String(row.body),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

function checkpointFromRow(row: Row): AuditCheckpoint {
  return {
    seq: num(row.seq),
    chainSeq: num(row.chain_seq),
    chainHash: String(row.chain_hash),
    time: String(row.time),
    reason: String(row.reason) as AuditCheckpoint["reason"],
    keyId: String(row.key_id),
    prevHash: String(row.prev_hash),
    body: String(row.body),
    signature: String(row.signature),
  };
}

function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw StatusError.of("BadRequest", `${what} "${text}" is not a date`);
  return ms;
}

export function encodeCursor(timeMs: number, seq: number): string {
  return Buffer.from(`${timeMs}.${seq}`).toString("base64url");
}

function decodeCursor(cursor: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw StatusError.of("BadRequest", "the cursor is not one this server issued");
  return [Number(m[1]), Number(m[2])];
}

export class SqliteAuditTables {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #writer: ChainWriter;

  constructor(db: DatabaseSync, now: () => number, writable: boolean, durability: ChainWriterOptions = {}) {
    this.#db = db;
    this.#now = now;
    this.#writer = new ChainWriter(db, () => this.#readHead(), durability);
    if (writable) this.#chainLegacyEvents();
  }

  #prepared: { insertEvent: StatementSync; completeEvent: StatementSync } | undefined;

  /** Hot statements, prepared once (the write path runs them for every request). */
  #statements(): { insertEvent: StatementSync; completeEvent: StatementSync } {
    if (!this.#prepared) {
      const columns = [...AUDIT_COLUMNS.map(([column]) => column), "chain_seq"];
      this.#prepared = {
        insertEvent: this.#db.prepare(
          `INSERT INTO audit_events (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ),
        completeEvent: this.#db.prepare(
          `UPDATE audit_events SET status = ?, bytes_in = ?, bytes_out = ?, duration_ms = ?, completed_at = ?,
             reason = coalesce(?, reason)
           WHERE id = ? AND completed_at IS NULL RETURNING chain_seq`,
        ),
      };
    }
    return this.#prepared;
  }

  readonly #cache = new Map<string, StatementSync>();

  /** Statements prepared once per SQL text: preparing was a measurable share of every request (bench profile). */
  #statement(sql: string): StatementSync {
    let statement = this.#cache.get(sql);
    if (!statement) {
      // Bounded: the SQL texts are literals or built from a fixed set of filters.
      if (this.#cache.size >= 256) this.#cache.clear();
      statement = this.#db.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params) as Row | undefined;
  }
  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params) as Row[];
  }

  #readHead(): ChainHead {
    const last = this.#get("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1");
    if (last) return { seq: num(last.seq), hash: String(last.hash) };
    // Everything was pruned: the chain continues from the sealing checkpoint.
    const seal = this.#get(
      "SELECT chain_seq, chain_hash FROM audit_checkpoints ORDER BY chain_seq DESC LIMIT 1",
    );
    return seal
      ? { seq: num(seal.chain_seq), hash: String(seal.chain_hash) }
      : { seq: 0, hash: GENESIS_HASH };
  }

  /** Events written before the chain existed are chained once, in their original order, when the store opens. */
  #chainLegacyEvents(): void {
    if (this.#get("SELECT value FROM audit_meta WHERE key = 'chain'")) return;
    const rows = this.#all("SELECT * FROM audit_events WHERE chain_seq IS NULL ORDER BY seq");
    for (const row of rows) {
      const event = auditFromRow(row);
      void this.#writer.write((append) => {
        const begin = append(REQUEST, event.id, event.time, requestBeginData(event));
        this.#db.prepare("UPDATE audit_events SET chain_seq = ? WHERE id = ?").run(begin.seq, event.id);
        if (event.completedAt)
          append(REQUEST_COMPLETED, event.id, event.completedAt, completionData(event, begin.seq, null));
      });
    }
    void this.#writer.write(() =>
      this.#db.prepare("INSERT INTO audit_meta (key, value) VALUES ('chain', '1')").run(),
    );
    this.#writer.flush();
  }

  auditBegin(event: AuditEvent): Promise<void> {
    if (Number.isNaN(Date.parse(event.time)))
      return Promise.reject(new Error(`audit event ${event.id}: time is not a date`));
    return this.#writer.write((append) => {
      // The row and its chained record commit together, in the same savepoint; a record that cannot be encoded
      // throws here and only this event is refused.
      const record = append(REQUEST, event.id, event.time, requestBeginData(event));
      this.#statements().insertEvent.run(...AUDIT_COLUMNS.map(([, read]) => read(event)), record.seq);
    });
  }

  auditComplete(id: string, completion: AuditCompletion): Promise<void> {
    return this.#writer.write(
      (append) => {
        const completedAt = new Date(this.#now()).toISOString();
        const row = this.#statements().completeEvent.get(
          completion.status,
          completion.bytesIn,
          completion.bytesOut,
          completion.durationMs,
          completedAt,
          completion.reason ?? null,
          id,
        );
        // An event is completed once; a second completion or an unknown id is a pipeline bug and must be visible.
        if (!row) throw new Error(`audit event ${id} is unknown or already complete`);
        append(
          REQUEST_COMPLETED,
          id,
          completedAt,
          requestCompletedData(num(row.chain_seq), completion, completedAt),
        );
        // The completion needs no fsync of its own: the next sync'd write or checkpoint makes it durable.
      },
      { sync: false },
    );
  }

  auditNote(note: AuditNote): Promise<AuditRecord> {
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
    return this.#writer.write((append) => append(note.type, randomUUID(), time, data));
  }

  async auditHead(): Promise<ChainHead> {
    return this.#writer.head();
  }

  async auditRecords(q: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]> {
    return this.#all(
      "SELECT * FROM audit_chain WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      q.afterSeq,
      q.toSeq ?? Number.MAX_SAFE_INTEGER,
      q.limit,
    ).map(recordFromRow);
  }

  async auditSeqAt(time: string): Promise<number | undefined> {
    const row = this.#get("SELECT min(seq) AS seq FROM audit_chain WHERE time_ms >= ?", timeMs(time, "time"));
    return row?.seq === null || row?.seq === undefined ? undefined : num(row.seq);
  }

  async auditLastSeqBefore(time: string): Promise<number | undefined> {
    const row = this.#get("SELECT max(seq) AS seq FROM audit_chain WHERE time_ms <= ?", timeMs(time, "time"));
    return row?.seq === null || row?.seq === undefined ? undefined : num(row.seq);
  }

  async auditEventsByIds(ids: string[]): Promise<AuditEvent[]> {
    if (ids.length === 0) return [];
    const out: AuditEvent[] = [];
    // SQLite's default limit on bound parameters is well above 500; chunk so long pages stay under it.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.#all(
        `SELECT * FROM audit_events WHERE id IN (${chunk.map(() => "?").join(",")})`,
        ...chunk,
      );
      out.push(...rows.map(auditFromRow));
    }
    return out;
  }

  async auditUnchained(limit: number): Promise<string[]> {
    return this.#all(
      `SELECT e.id FROM audit_events e
         LEFT JOIN audit_chain c ON c.seq = e.chain_seq AND c.type = '${REQUEST}' AND c.ref = e.id
       WHERE c.seq IS NULL
       ORDER BY e.seq LIMIT ?`,
      limit,
    ).map((r) => String(r.id));
  }

  async auditCheckpointAppend(cp: AuditCheckpoint): Promise<void> {
    this.#insertCheckpoint(cp);
  }

  #insertCheckpoint(cp: AuditCheckpoint): void {
    this.#db
      .prepare(
        `INSERT INTO audit_checkpoints (seq, chain_seq, chain_hash, time, reason, key_id, prev_hash, body, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        cp.seq,
        cp.chainSeq,
        cp.chainHash,
        cp.time,
        cp.reason,
        cp.keyId,
        cp.prevHash,
        cp.body,
        cp.signature,
      );
  }

  async auditCheckpointList(): Promise<AuditCheckpoint[]> {
    return this.#all("SELECT * FROM audit_checkpoints ORDER BY seq").map(checkpointFromRow);
  }

  async auditPrune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }> {
    this.#writer.flush(); // nothing queued may land between the seal and the delete
    const sealed = this.#get("SELECT hash FROM audit_chain WHERE seq = ?", throughSeq);
    if (
      !sealed ||
      seal.chainSeq !== throughSeq ||
      seal.chainHash !== String(sealed.hash) ||
      seal.reason !== "retention"
    ) {
      throw new Error(`audit retention: the seal does not match record ${throughSeq}; nothing was pruned`);
    }
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#insertCheckpoint(seal);
      const events = this.#db
        .prepare("DELETE FROM audit_events WHERE chain_seq <= ?")
        .run(throughSeq).changes;
      const records = this.#db.prepare("DELETE FROM audit_chain WHERE seq <= ?").run(throughSeq).changes;
      this.#db.exec("COMMIT");
      return { records: Number(records), events: Number(events) };
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  async auditSearch(q: AuditQuery): Promise<AuditSearchResult> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
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
    const rows = this.#all(
      `SELECT * FROM audit_events${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY time_ms DESC, seq DESC LIMIT ?`,
      ...params,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(auditFromRow),
      nextCursor: rows.length > limit && last ? encodeCursor(num(last.time_ms), num(last.seq)) : null,
    };
  }

  async auditCursorGet(name: string): Promise<number> {
    const row = this.#get("SELECT seq FROM audit_cursors WHERE name = ?", name);
    return row ? num(row.seq) : 0;
  }

  async auditCursorSet(name: string, seq: number): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO audit_cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
      )
      .run(name, seq);
  }

  auditWatch(listener: (head: ChainHead) => void): () => void {
    return this.#writer.watch(listener);
  }

  /** Commits queued writes; called before the database closes. */
  /** Waits for fsyncs in flight ("fsync" durability) before the database closes. */
  settled(): Promise<void> {
    return this.#writer.settled();
  }

  drain(): void {
    try {
      this.#writer.flush();
    } catch {
      // flush rejects its own writes; nothing else to do on the way out.
    }
  }
}

function completionData(
  event: AuditEvent,
  beginSeq: number,
  reason: string | null,
): { [key: string]: JsonValue } {
  return {
    beginSeq,
    status: event.status,
    bytesIn: event.bytesIn,
    bytesOut: event.bytesOut,
    durationMs: event.durationMs,
    completedAt: event.completedAt,
    reason,
  };
}
