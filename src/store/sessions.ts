// The SQLite side of sessions and recordings (src/recording, docs/recordings.md): the session rows the tracker
// saves in batches, the recordings' metadata, and a session's timeline read from the audit events.
//
// A session or recording is stored whole as JSON beside the columns lookups need, so fields can be added without a
// migration. Rows that do not parse throw: a corrupt row must not become a half-filled session.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { AuditEvent } from "../audit/types.ts";
import type { RecordingRecord, SessionQuery, SessionRecord } from "../recording/types.ts";
import { StatusError } from "../shared/status.ts";
import { auditFromRow } from "./rows.ts";

type Row = Record<string, unknown>;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function parseJson<T>(row: Row, check: (v: unknown) => boolean, what: string): T {
  const value: unknown = JSON.parse(String(row.data_json));
  if (!check(value)) throw new Error(`store: a ${what} row has an unexpected shape`);
  return value as T;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isSession = (v: unknown) =>
  isObject(v) && typeof v.id === "string" && typeof v.key === "string" && isObject(v.decisions);
const isRecording = (v: unknown) =>
  isObject(v) && typeof v.id === "string" && typeof v.sessionId === "string" && typeof v.file === "string";

function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw StatusError.of("BadRequest", `${what} "${text}" is not a date`);
  return ms;
}

export class SqliteSessionTables {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#db.prepare(sql).get(...params) as Row | undefined;
  }

  async sessionSave(s: SessionRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO sessions (id, kind, key, identity_id, identity_name, cluster, started_at, last_seen_at,
           last_seen_ms, data_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_seen_ms = excluded.last_seen_ms,
           data_json = excluded.data_json`,
      )
      .run(
        s.id,
        s.kind,
        s.key,
        s.identityId,
        s.identityName,
        s.cluster,
        s.startedAt,
        s.lastSeenAt,
        timeMs(s.lastSeenAt, "lastSeenAt"),
        JSON.stringify(s),
      );
  }

  async sessionGet(id: string): Promise<SessionRecord | undefined> {
    const row = this.#get("SELECT data_json FROM sessions WHERE id = ?", id);
    return row ? parseJson<SessionRecord>(row, isSession, "session") : undefined;
  }

  async sessionList(query: SessionQuery): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.identityName !== undefined) {
      where.push("identity_name = ?");
      params.push(query.identityName);
    }
    if (query.since !== undefined) {
      where.push("last_seen_ms >= ?");
      params.push(timeMs(query.since, "since"));
    }
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const sql =
      "SELECT data_json FROM sessions" +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      " ORDER BY last_seen_ms DESC, seq DESC LIMIT ?";
    return this.#all(sql, ...params, limit).map((r) => parseJson<SessionRecord>(r, isSession, "session"));
  }

  async sessionFindRecent(key: string, activeSince: string): Promise<SessionRecord | undefined> {
    const row = this.#get(
      "SELECT data_json FROM sessions WHERE key = ? AND last_seen_ms >= ? ORDER BY last_seen_ms DESC LIMIT 1",
      key,
      timeMs(activeSince, "activeSince"),
    );
    return row ? parseJson<SessionRecord>(row, isSession, "session") : undefined;
  }

  async sessionEvents(sessionId: string, limit: number): Promise<AuditEvent[]> {
    const n = Math.min(Math.max(Math.trunc(limit), 1), 10_000);
    return this.#all(
      "SELECT * FROM audit_events WHERE session_id = ? ORDER BY seq LIMIT ?",
      sessionId,
      n,
    ).map(auditFromRow);
  }

  async recordingSave(r: RecordingRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO recordings (id, session_id, request_id, data_json) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET data_json = excluded.data_json`,
      )
      .run(r.id, r.sessionId, r.requestId, JSON.stringify(r));
  }

  async recordingGet(id: string): Promise<RecordingRecord | undefined> {
    const row = this.#get("SELECT data_json FROM recordings WHERE id = ?", id);
    return row ? parseJson<RecordingRecord>(row, isRecording, "recording") : undefined;
  }

  async recordingList(sessionId: string): Promise<RecordingRecord[]> {
    return this.#all("SELECT data_json FROM recordings WHERE session_id = ? ORDER BY seq", sessionId).map(
      (r) => parseJson<RecordingRecord>(r, isRecording, "recording"),
    );
  }
}
