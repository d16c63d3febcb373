// The PostgreSQL side of the tamper-evident audit log: request events with their chained begin and completion
// records, notes, checkpoints, retention, search — the SQLite engine's semantics (src/store/audit.ts).
//
// Fail closed: a write resolves only once committed (PgChainWriter); a completion for an unknown or completed event,
// a duplicate id or an unparseable time is refused. Pruning takes the chain-head lock, so no replica appends while
// the seal is checked and the records deleted, and a seal that does not match the record it names prunes nothing.
import { randomUUID } from "node:crypto";
import { canonicalJson, type JsonValue } from "../../audit/canonical.ts";
import {
  type ChainHead,
  NOTE_TYPE,
  REQUEST,
  REQUEST_COMPLETED,
  requestBeginData,
  requestCompletedData,
} from "../../audit/chain.ts";
import type {
  AuditCheckpoint,
  AuditCompletion,
  AuditEvent,
  AuditNote,
  AuditQuery,
  AuditRecord,
  AuditSearchResult,
} from "../../audit/types.ts";
import { StatusError } from "../../shared/status.ts";
import { DEFAULT_AUDIT_LIMIT, encodeCursor, MAX_AUDIT_LIMIT } from "../audit.ts";
import { AUDIT_COLUMNS, auditFromRow } from "../rows.ts";
import { PgChainWriter } from "./chain-writer.ts";
import type { Db, Param, Row, Sql } from "./db.ts";

const num = (v: unknown): number => Number(v);

const recordFromRow = (row: Row): AuditRecord => ({
  seq: num(row.seq),
  type: String(row.type),
  ref: String(row.ref),
  time: String(row.time),
  body: String(row.body),
  prevHash: String(row.prev_hash),
  hash: String(row.hash),
});

const checkpointFromRow = (row: Row): AuditCheckpoint => ({
  seq: num(row.seq),
  chainSeq: num(row.chain_seq),
  chainHash: String(row.chain_hash),
  time: String(row.time),
  reason: String(row.reason) as AuditCheckpoint["reason"],
  keyId: String(row.key_id),
  prevHash: String(row.prev_hash),
  body: String(row.body),
  signature: String(row.signature),
});

function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw StatusError.of("BadRequest", `${what} "${text}" is not a date`);
  return ms;
}

function decodeCursor(cursor: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw StatusError.of("BadRequest", "the cursor is not one this server issued");
  return [Number(m[1]), Number(m[2])];
}

const EVENT_COLUMNS = [...AUDIT_COLUMNS.map(([column]) => column), "chain_seq"];
const INSERT_EVENT = `INSERT INTO audit_events (${EVENT_COLUMNS.join(", ")})
  VALUES (${EVENT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;
const COMPLETE_EVENT = `UPDATE audit_events SET status = $1, bytes_in = $2, bytes_out = $3, duration_ms = $4,
    completed_at = $5, reason = coalesce($6, reason)
  WHERE id = $7 AND completed_at IS NULL RETURNING chain_seq`;
const INSERT_CHECKPOINT = `INSERT INTO audit_checkpoints
  (seq, chain_seq, chain_hash, time, reason, key_id, prev_hash, body, signature)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

const checkpointParams = (cp: AuditCheckpoint): Param[] => [
  cp.seq,
  cp.chainSeq,
  cp.chainHash,
  cp.time,
  cp.reason,
  cp.keyId,
  cp.prevHash,
  cp.body,
  cp.signature,
];

export class PgAuditTables {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #writer: PgChainWriter;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#writer = new PgChainWriter(db);
  }

  auditBegin(event: AuditEvent): Promise<void> {
    if (Number.isNaN(Date.parse(event.time)))
      return Promise.reject(new Error(`audit event ${event.id}: time is not a date`));
    return this.#writer.write(async (sql, append) => {
      // The row and its chained record commit together; a record that cannot be encoded throws here and only this
      // event is refused.
      const record = append(REQUEST, event.id, event.time, requestBeginData(event));
      await sql(INSERT_EVENT, [...AUDIT_COLUMNS.map(([, read]) => read(event)), record.seq]);
    });
  }

  auditComplete(id: string, completion: AuditCompletion): Promise<void> {
    return this.#writer.write(async (sql, append) => {
      const completedAt = new Date(this.#now()).toISOString();
      const [row] = await sql(COMPLETE_EVENT, [
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
    });
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
    return this.#writer.write((_sql, append) => append(note.type, randomUUID(), time, data), { sql: false });
  }

  /** The committed head, read from the database: another replica may have appended since this one did. */
  async auditHead(): Promise<ChainHead> {
    const [row] = await this.#db.sql("SELECT seq, hash FROM audit_chain_head WHERE id = 1");
    if (!row) throw new Error("store: the audit chain head row is missing");
    return { seq: num(row.seq), hash: String(row.hash) };
  }

  async auditRecords(q: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]> {
    const rows = await this.#db.sql(
      "SELECT * FROM audit_chain WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
      [q.afterSeq, q.toSeq ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
    return rows.map(recordFromRow);
  }

  async auditSeqAt(time: string): Promise<number | undefined> {
    const [row] = await this.#db.sql("SELECT min(seq) AS seq FROM audit_chain WHERE time_ms >= $1", [
      timeMs(time, "time"),
    ]);
    return row?.seq === null || row?.seq === undefined ? undefined : num(row.seq);
  }

  async auditLastSeqBefore(time: string): Promise<number | undefined> {
    const [row] = await this.#db.sql("SELECT max(seq) AS seq FROM audit_chain WHERE time_ms <= $1", [
      timeMs(time, "time"),
    ]);
    return row?.seq === null || row?.seq === undefined ? undefined : num(row.seq);
  }

  async auditEventsByIds(ids: string[]): Promise<AuditEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db.sql("SELECT * FROM audit_events WHERE id = ANY($1::text[])", [ids]);
    return rows.map(auditFromRow);
  }

  async auditUnchained(limit: number): Promise<string[]> {
    const rows = await this.#db.sql(
      `SELECT e.id FROM audit_events e
         LEFT JOIN audit_chain c ON c.seq = e.chain_seq AND c.type = $1 AND c.ref = e.id
       WHERE c.seq IS NULL
       ORDER BY e.seq LIMIT $2`,
      [REQUEST, limit],
    );
    return rows.map((r) => String(r.id));
  }

  async auditCheckpointAppend(cp: AuditCheckpoint): Promise<void> {
    await this.#db.sql(INSERT_CHECKPOINT, checkpointParams(cp));
  }

  async auditCheckpointList(): Promise<AuditCheckpoint[]> {
    return (await this.#db.sql("SELECT * FROM audit_checkpoints ORDER BY seq")).map(checkpointFromRow);
  }

  async auditPrune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }> {
    await this.#writer.idle(); // nothing this replica queued may land between the seal and the delete
    return this.#db.tx(async (sql: Sql) => {
      // The chain-head lock: other replicas' writers wait until the prune commits.
      await sql("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE");
      const [sealed] = await sql("SELECT hash FROM audit_chain WHERE seq = $1", [throughSeq]);
      if (
        !sealed ||
        seal.chainSeq !== throughSeq ||
        seal.chainHash !== String(sealed.hash) ||
        seal.reason !== "retention"
      ) {
        throw new Error(`audit retention: the seal does not match record ${throughSeq}; nothing was pruned`);
      }
      await sql(INSERT_CHECKPOINT, checkpointParams(seal));
      const events = await sql.count("DELETE FROM audit_events WHERE chain_seq <= $1", [throughSeq]);
      const records = await sql.count("DELETE FROM audit_chain WHERE seq <= $1", [throughSeq]);
      return { records, events };
    });
  }

  async auditSearch(q: AuditQuery): Promise<AuditSearchResult> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (clause: (n: () => string) => string) => where.push(clause(() => `$${params.length}`));
    const eq = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      params.push(value);
      add((n) => `${column} = ${n()}`);
    };
    eq("identity_name", q.identityName);
    eq("verb", q.verb);
    eq("resource", q.resource);
    eq("namespace", q.namespace);
    eq("decision", q.decision);
    if (q.since !== undefined) {
      params.push(timeMs(q.since, "since"));
      add((n) => `time_ms >= ${n()}`);
    }
    if (q.until !== undefined) {
      params.push(timeMs(q.until, "until"));
      add((n) => `time_ms < ${n()}`);
    }
    if (q.cursor !== undefined) {
      const [ms, seq] = decodeCursor(q.cursor);
      params.push(ms, seq);
      const m = `$${params.length - 1}`;
      const s = `$${params.length}`;
      where.push(`(time_ms < ${m} OR (time_ms = ${m} AND seq < ${s}))`);
    }
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_AUDIT_LIMIT), 1), MAX_AUDIT_LIMIT);
    params.push(limit + 1);
    const rows = await this.#db.sql(
      `SELECT * FROM audit_events${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY time_ms DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(auditFromRow),
      nextCursor: rows.length > limit && last ? encodeCursor(num(last.time_ms), num(last.seq)) : null,
    };
  }

  /** The request-event list of the original store interface: newest first, by identity and time. */
  async auditList(query: AuditQuery): Promise<AuditEvent[]> {
    const { items } = await this.auditSearch({
      ...(query.identityName !== undefined ? { identityName: query.identityName } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
    });
    return items;
  }

  async auditCursorGet(name: string): Promise<number> {
    const [row] = await this.#db.sql("SELECT seq FROM audit_cursors WHERE name = $1", [name]);
    return row ? num(row.seq) : 0;
  }

  async auditCursorSet(name: string, seq: number): Promise<void> {
    await this.#db.sql(
      "INSERT INTO audit_cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
      [name, seq],
    );
  }

  auditWatch(listener: (head: ChainHead) => void): () => void {
    return this.#writer.watch(listener);
  }

  /** Waits for queued writes to commit; called before the pool closes. */
  drain(): Promise<void> {
    return this.#writer.idle();
  }
}
