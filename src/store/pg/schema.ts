// The PostgreSQL schema and its migrations, numbered in the table airlock_schema_version.
//
// The same tables and column names as the SQLite engine (src/store/schema.ts), so the row mappers (rows.ts) serve
// both; times are ISO 8601 text beside BIGINT epoch-millisecond columns for ordering and ranges. Migrations only ever
// append. They run at start inside one transaction holding an advisory lock, so replicas starting together migrate
// once; a database from a newer Airlock (a version above what this code knows) is refused rather than misread.
import { GENESIS_HASH } from "../../audit/chain.ts";
import type { Db } from "./db.ts";

const MIGRATIONS: string[] = [
  // 1: everything the SQLite engine has at its version 5: identities and credentials (hashes only), request events,
  // the audit chain with its head row (the lock every chained write takes), checkpoints, sink cursors, reviews with
  // their events and grants, sessions and recordings.
  `
  CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('agent', 'human')),
    groups_json TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT,
    owner TEXT,
    description TEXT NOT NULL DEFAULT '',
    expires_at TEXT,
    disabled_at TEXT
  );

  CREATE TABLE credentials (
    seq BIGSERIAL NOT NULL,
    id TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL REFERENCES identities (id),
    kind TEXT NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'certificate')),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT,
    last_used_at TEXT,
    scopes_json TEXT NOT NULL DEFAULT '{}',
    serial TEXT
  );
  CREATE INDEX credentials_by_identity ON credentials (identity_id, seq);

  CREATE TABLE audit_events (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    identity_id TEXT,
    identity_name TEXT,
    identity_kind TEXT,
    credential_id TEXT,
    source_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    kubectl_command TEXT,
    kubectl_session TEXT,
    cluster TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    verb TEXT NOT NULL,
    api_group TEXT NOT NULL,
    api_version TEXT NOT NULL,
    namespace TEXT NOT NULL,
    resource TEXT NOT NULL,
    subresource TEXT NOT NULL,
    name TEXT NOT NULL,
    exec_command_json TEXT,
    decision TEXT NOT NULL CHECK (decision IN ('allow', 'deny', 'error')),
    policy TEXT,
    rule TEXT,
    reason TEXT,
    status INTEGER,
    bytes_in BIGINT,
    bytes_out BIGINT,
    duration_ms BIGINT,
    completed_at TEXT,
    justification TEXT,
    on_behalf_of TEXT,
    identity_groups_json TEXT,
    session_id TEXT,
    chain_seq BIGINT
  );
  CREATE INDEX audit_by_time ON audit_events (time_ms, seq);
  CREATE INDEX audit_by_identity_time ON audit_events (identity_name, time_ms, seq);
  CREATE INDEX audit_events_by_chain ON audit_events (chain_seq);
  CREATE INDEX audit_events_by_session ON audit_events (session_id, seq);

  CREATE TABLE audit_chain (
    seq BIGINT PRIMARY KEY,
    type TEXT NOT NULL,
    ref TEXT NOT NULL,
    time TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_chain_by_time ON audit_chain (time_ms, seq);

  -- One row: the last record's seq and hash. Every chained write locks it (SELECT ... FOR UPDATE), which puts all
  -- writers of all replicas in one order; pruning leaves it alone, so the chain continues past a retention seal.
  CREATE TABLE audit_chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

  CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    chain_seq BIGINT NOT NULL,
    chain_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    reason TEXT NOT NULL,
    key_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL
  );

  CREATE TABLE audit_cursors (name TEXT PRIMARY KEY, seq BIGINT NOT NULL);

  CREATE TABLE reviews (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_json TEXT NOT NULL
  );
  CREATE INDEX reviews_by_fingerprint ON reviews (fingerprint, state);
  CREATE INDEX reviews_by_state ON reviews (state, seq);

  CREATE TABLE review_events (
    seq BIGSERIAL PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES reviews (id),
    time TEXT NOT NULL,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX review_events_by_review ON review_events (review_id, seq);

  CREATE TABLE grants (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    review_id TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    identity_name TEXT NOT NULL,
    cluster TEXT NOT NULL,
    verb TEXT NOT NULL,
    api_group TEXT NOT NULL,
    resource TEXT NOT NULL,
    namespace TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
  );
  CREATE INDEX grants_by_identity ON grants (identity_id, expires_ms);

  CREATE TABLE sessions (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    identity_name TEXT NOT NULL,
    cluster TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    data_json TEXT NOT NULL
  );
  CREATE INDEX sessions_by_key ON sessions (key, last_seen_ms);
  CREATE INDEX sessions_by_last_seen ON sessions (last_seen_ms, seq);
  CREATE INDEX sessions_by_identity ON sessions (identity_name, last_seen_ms);

  CREATE TABLE recordings (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    data_json TEXT NOT NULL
  );
  CREATE INDEX recordings_by_session ON recordings (session_id, seq);
  `,
  // 2 (issue 15, SQLite's 6): delegations (a human's consent that an agent acts for them) and why a grant ended early.
  `
  CREATE TABLE delegations (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    human TEXT NOT NULL,
    human_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
  );
  CREATE INDEX delegations_by_agent ON delegations (agent, human, expires_ms);
  CREATE INDEX delegations_by_human ON delegations (human, expires_ms);
  ALTER TABLE grants ADD COLUMN ended_reason TEXT;
  `,
  // 3 (issue 16 §7, SQLite's 7): console sessions and the counters replicas share (rate limits, sign-in throttles).
  `
  CREATE TABLE console_sessions (
    digest TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL,
    identity_name TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
  );
  CREATE INDEX console_sessions_by_credential ON console_sessions (credential_id);
  CREATE INDEX console_sessions_by_created ON console_sessions (created_ms);

  CREATE TABLE shared_counters (
    key TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    state_json TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
  );
  CREATE INDEX shared_counters_by_expiry ON shared_counters (expires_ms);
  `,
  // 4 (issue 20 §2, SQLite's 8): the namespace MCP tools use for an identity when a call names none.
  `
  ALTER TABLE identities ADD COLUMN default_namespace TEXT;
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

// Any constant works as long as every replica uses the same one; this is "arlk" in ASCII.
const MIGRATION_LOCK = 0x61726c6b;

/** Creates the schema if needed and brings it up to date. Throws on a database newer than this code. */
export async function migratePg(db: Db): Promise<void> {
  await db.tx(async (sql) => {
    await sql.run("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK]);
    // The schema name passed checkSchemaName in Db: identifiers cannot be bound parameters.
    await sql.run(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await sql.run("CREATE TABLE IF NOT EXISTS airlock_schema_version (version INTEGER NOT NULL)");
    const rows = await sql.all("SELECT version FROM airlock_schema_version");
    const current = rows.length ? Number(rows[0]?.version) : 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the database schema is version ${current}, newer than this Airlock understands (${MIGRATIONS.length}); ` +
          "upgrade Airlock or point it at another database",
      );
    }
    if (current === MIGRATIONS.length) return;
    for (let version = current; version < MIGRATIONS.length; version++)
      await sql.run(MIGRATIONS[version] ?? "");
    if (rows.length) await sql.run("UPDATE airlock_schema_version SET version = ?", [MIGRATIONS.length]);
    else await sql.run("INSERT INTO airlock_schema_version (version) VALUES (?)", [MIGRATIONS.length]);
  });
}
