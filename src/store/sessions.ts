// Sessions and recordings (src/recording, docs/recordings.md), written once for both engines: the session rows the
// tracker saves in batches, the recordings' metadata, and a session's timeline read from the audit events.
//
// A session or recording is stored whole as JSON beside the columns lookups need, so fields can be added without a
// migration; rows that do not parse throw: a corrupt row must not become a half-filled session. Several replicas may
// save the same session (its requests reached both): the last save wins, as it does on one replica. The key column
// is stored as the dialect says (sql.ts: PostgreSQL text cannot hold the NUL that joins a key's parts).
import type { AuditEvent } from "../audit/types.ts";
import { badRequest } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type {
  RecordingRecord,
  RecordingTable,
  SessionQuery,
  SessionRecord,
  SessionTable,
} from "../recording/types.ts";
import { auditFromRow } from "./rows.ts";
import { type Db, type Param, type Row, relaxedTx } from "./sql.ts";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isSession = (v: unknown) =>
  isObject(v) && typeof v.id === "string" && typeof v.key === "string" && isObject(v.decisions);
const isRecording = (v: unknown) =>
  isObject(v) && typeof v.id === "string" && typeof v.sessionId === "string" && typeof v.file === "string";

function parse<T>(row: Row, check: (v: unknown) => boolean, what: string): T {
  const value: unknown = JSON.parse(String(row.data_json));
  if (!check(value)) throw new Error(`store: a ${what} row has an unexpected shape`);
  return value as T;
}
const session = (row: Row) => parse<SessionRecord>(row, isSession, "session");
const recording = (row: Row) => parse<RecordingRecord>(row, isRecording, "recording");

function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new StatusError(badRequest(`${what} "${text}" is not a date`));
  return ms;
}

export class SessionTables implements SessionTable {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Inserts or replaces a session (the tracker saves its counters in batches, once a second). Advisory: the audit
   * chain is the record of what happened, so the save commits without an fsync (relaxedTx).
   */
  async save(s: SessionRecord): Promise<void> {
    await relaxedTx(this.#db, (sql) =>
      sql.run(
        `INSERT INTO sessions (id, kind, key, identity_id, identity_name, cluster, started_at, last_seen_at,
         last_seen_ms, data_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_seen_ms = excluded.last_seen_ms,
         data_json = excluded.data_json`,
        [
          s.id,
          s.kind,
          this.#db.dialect.sessionKey(s.key),
          s.identityId,
          s.identityName,
          s.cluster,
          s.startedAt,
          s.lastSeenAt,
          timeMs(s.lastSeenAt, "lastSeenAt"),
          JSON.stringify(s),
        ],
      ),
    );
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.get("SELECT data_json FROM sessions WHERE id = ?", [id]);
    return row ? session(row) : undefined;
  }

  /** Newest activity first. */
  async list(query: SessionQuery): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (query.identityName !== undefined) {
      params.push(query.identityName);
      where.push(`identity_name = ?`);
    }
    if (query.since !== undefined) {
      params.push(timeMs(query.since, "since"));
      where.push(`last_seen_ms >= ?`);
    }
    params.push(Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT));
    const rows = await this.#db.all(
      `SELECT data_json FROM sessions${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY last_seen_ms DESC, seq DESC LIMIT ?`,
      params,
    );
    return rows.map(session);
  }

  /** The most recent session with this key whose last request is at or after `activeSince`. */
  async findRecent(key: string, activeSince: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.get(
      "SELECT data_json FROM sessions WHERE key = ? AND last_seen_ms >= ? ORDER BY last_seen_ms DESC LIMIT 1",
      [this.#db.dialect.sessionKey(key), timeMs(activeSince, "activeSince")],
    );
    return row ? session(row) : undefined;
  }

  /** The session's request events in arrival order (its timeline). */
  async events(sessionId: string, limit: number): Promise<AuditEvent[]> {
    const n = Math.min(Math.max(Math.trunc(limit), 1), 10_000);
    const rows = await this.#db.all("SELECT * FROM audit_events WHERE session_id = ? ORDER BY seq LIMIT ?", [
      sessionId,
      n,
    ]);
    return rows.map(auditFromRow);
  }
}

export class RecordingTables implements RecordingTable {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Inserts or replaces a recording's metadata. */
  async save(r: RecordingRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO recordings (id, session_id, request_id, data_json) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET data_json = excluded.data_json`,
      [r.id, r.sessionId, r.requestId, JSON.stringify(r)],
    );
  }

  async get(id: string): Promise<RecordingRecord | undefined> {
    const row = await this.#db.get("SELECT data_json FROM recordings WHERE id = ?", [id]);
    return row ? recording(row) : undefined;
  }

  /** A session's recordings, oldest first. */
  async list(sessionId: string): Promise<RecordingRecord[]> {
    const rows = await this.#db.all("SELECT data_json FROM recordings WHERE session_id = ? ORDER BY seq", [
      sessionId,
    ]);
    return rows.map(recording);
  }
}
