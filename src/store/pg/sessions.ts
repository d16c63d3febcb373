// The PostgreSQL side of sessions and recordings: the SQLite engine's semantics (src/store/sessions.ts). A session or
// recording is stored whole as JSON beside the columns lookups need; rows that do not parse throw. Several replicas
// may save the same session (its requests reached both): the last save wins, as it does on one replica.
// A session key joins its parts with NUL, which PostgreSQL text cannot hold: the key column stores the key as a JSON
// string (NUL escaped), an exact and reversible encoding, so lookups by key stay exact.
import type { AuditEvent } from "../../audit/types.ts";
import type { RecordingRecord, SessionQuery, SessionRecord } from "../../recording/types.ts";
import { StatusError } from "../../shared/status.ts";
import { auditFromRow } from "../rows.ts";
import type { Db, Param, Row } from "./db.ts";

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

const keyColumn = (key: string): string => JSON.stringify(key);

function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw StatusError.of("BadRequest", `${what} "${text}" is not a date`);
  return ms;
}

export class PgSessionTables {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async sessionSave(s: SessionRecord): Promise<void> {
    await this.#db.sql(
      `INSERT INTO sessions (id, kind, key, identity_id, identity_name, cluster, started_at, last_seen_at,
         last_seen_ms, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_seen_ms = excluded.last_seen_ms,
         data_json = excluded.data_json`,
      [
        s.id,
        s.kind,
        keyColumn(s.key),
        s.identityId,
        s.identityName,
        s.cluster,
        s.startedAt,
        s.lastSeenAt,
        timeMs(s.lastSeenAt, "lastSeenAt"),
        JSON.stringify(s),
      ],
    );
  }

  async sessionGet(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.#db.sql("SELECT data_json FROM sessions WHERE id = $1", [id]);
    return row ? session(row) : undefined;
  }

  async sessionList(query: SessionQuery): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (query.identityName !== undefined) {
      params.push(query.identityName);
      where.push(`identity_name = $${params.length}`);
    }
    if (query.since !== undefined) {
      params.push(timeMs(query.since, "since"));
      where.push(`last_seen_ms >= $${params.length}`);
    }
    params.push(Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT));
    const rows = await this.#db.sql(
      `SELECT data_json FROM sessions${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
       ORDER BY last_seen_ms DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(session);
  }

  async sessionFindRecent(key: string, activeSince: string): Promise<SessionRecord | undefined> {
    const [row] = await this.#db.sql(
      "SELECT data_json FROM sessions WHERE key = $1 AND last_seen_ms >= $2 ORDER BY last_seen_ms DESC LIMIT 1",
      [keyColumn(key), timeMs(activeSince, "activeSince")],
    );
    return row ? session(row) : undefined;
  }

  async sessionEvents(sessionId: string, limit: number): Promise<AuditEvent[]> {
    const n = Math.min(Math.max(Math.trunc(limit), 1), 10_000);
    const rows = await this.#db.sql(
      "SELECT * FROM audit_events WHERE session_id = $1 ORDER BY seq LIMIT $2",
      [sessionId, n],
    );
    return rows.map(auditFromRow);
  }

  async recordingSave(r: RecordingRecord): Promise<void> {
    await this.#db.sql(
      `INSERT INTO recordings (id, session_id, request_id, data_json) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET data_json = excluded.data_json`,
      [r.id, r.sessionId, r.requestId, JSON.stringify(r)],
    );
  }

  async recordingGet(id: string): Promise<RecordingRecord | undefined> {
    const [row] = await this.#db.sql("SELECT data_json FROM recordings WHERE id = $1", [id]);
    return row ? recording(row) : undefined;
  }

  async recordingList(sessionId: string): Promise<RecordingRecord[]> {
    const rows = await this.#db.sql("SELECT data_json FROM recordings WHERE session_id = $1 ORDER BY seq", [
      sessionId,
    ]);
    return rows.map(recording);
  }
}
