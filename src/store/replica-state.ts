// The state several gateway replicas share besides identities and reviews (issue 16 §7), written once for both
// engines: console sign-in sessions and the counters of rate limits and sign-in throttles.
//
// Counters are compare-and-set rows: a version and a JSON state. A writer reads the row, computes the next state and
// writes it only if the version is unchanged (one statement, atomic in both engines: PostgreSQL locks the row it
// updates, so of two replicas writing the same version exactly one succeeds); when another replica wrote first it
// reads again. What the state means is the caller's (src/policy/shared-limiter.ts, src/identity/throttle.ts).

import type { Db, Row } from "./sql.ts";
import type { ConsoleSessionRow, ConsoleSessionTable, CounterTable } from "./types.ts";

function consoleSessionFromRow(row: Row): ConsoleSessionRow {
  return {
    digest: String(row.digest),
    credentialId: String(row.credential_id),
    identityName: String(row.identity_name),
    csrfToken: String(row.csrf_token),
    createdMs: Number(row.created_ms),
    lastSeenMs: Number(row.last_seen_ms),
  };
}

export class ConsoleSessionTables implements ConsoleSessionTable {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Saves a new console session; first drops sessions idle or opened before the cut-offs, and the oldest past `max`. */
  async create(
    s: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void> {
    await this.#db.run("DELETE FROM console_sessions WHERE last_seen_ms < ? OR created_ms < ?", [
      keep.seenSinceMs,
      keep.createdSinceMs,
    ]);
    await this.#db.run(
      `DELETE FROM console_sessions WHERE digest NOT IN
         (SELECT digest FROM console_sessions ORDER BY created_ms DESC LIMIT ?)`,
      [Math.max(0, keep.max - 1)],
    );
    await this.#db.run(
      `INSERT INTO console_sessions (digest, credential_id, identity_name, csrf_token, created_ms, last_seen_ms)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [s.digest, s.credentialId, s.identityName, s.csrfToken, s.createdMs, s.lastSeenMs],
    );
  }

  async get(digest: string): Promise<ConsoleSessionRow | undefined> {
    const row = await this.#db.get("SELECT * FROM console_sessions WHERE digest = ?", [digest]);
    return row ? consoleSessionFromRow(row) : undefined;
  }

  async touch(digest: string, lastSeenMs: number): Promise<void> {
    await this.#db.run("UPDATE console_sessions SET last_seen_ms = ? WHERE digest = ? AND last_seen_ms < ?", [
      lastSeenMs,
      digest,
      lastSeenMs,
    ]);
  }

  async delete(digest: string): Promise<void> {
    await this.#db.run("DELETE FROM console_sessions WHERE digest = ?", [digest]);
  }

  /** Ends every console session opened with this credential. */
  async deleteForCredential(credentialId: string): Promise<void> {
    await this.#db.run("DELETE FROM console_sessions WHERE credential_id = ?", [credentialId]);
  }
}

export class CounterTables implements CounterTable {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** A shared counter's state (rate limits, sign-in throttles): its version and JSON, or undefined. */
  async get(key: string): Promise<{ version: number; state: string } | undefined> {
    const row = await this.#db.get("SELECT version, state_json FROM shared_counters WHERE key = ?", [key]);
    return row ? { version: Number(row.version), state: String(row.state_json) } : undefined;
  }

  /**
   * Compare-and-set: writes `state` (version + 1) only when the row is still at `version` (0: when there is no row
   * yet). True when written; false when another replica wrote first (read again and retry).
   */
  async swap(key: string, version: number, state: string, expiresMs: number): Promise<boolean> {
    if (version === 0) {
      const inserted = await this.#db.run(
        `INSERT INTO shared_counters (key, version, state_json, expires_ms) VALUES (?, 1, ?, ?)
         ON CONFLICT (key) DO NOTHING`,
        [key, state, expiresMs],
      );
      return inserted === 1;
    }
    const updated = await this.#db.run(
      "UPDATE shared_counters SET version = version + 1, state_json = ?, expires_ms = ? WHERE key = ? AND version = ?",
      [state, expiresMs, key, version],
    );
    return updated === 1;
  }

  /** Drops counters that expired before `nowMs`; the number dropped. */
  purge(nowMs: number): Promise<number> {
    return this.#db.run("DELETE FROM shared_counters WHERE expires_ms < ?", [nowMs]);
  }
}
