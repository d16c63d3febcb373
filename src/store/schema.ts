// The SQLite schema and its migrations, numbered by `PRAGMA user_version`.
//
// Migrations only ever append: a database written by an older Airlock is upgraded in place, and a database from a
// newer Airlock (user_version above what we know) is refused rather than misread.
import type { DatabaseSync } from "node:sqlite";

const MIGRATIONS: string[] = [
  // 1: identities, their credentials (token hashes only) and the audit log.
  `
  CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('agent', 'human')),
    groups_json TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
  ) STRICT;

  CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL REFERENCES identities (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
  ) STRICT;
  CREATE INDEX credentials_by_identity ON credentials (identity_id);

  CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
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
    bytes_in INTEGER,
    bytes_out INTEGER,
    duration_ms INTEGER,
    completed_at TEXT
  ) STRICT;
  CREATE INDEX audit_by_time ON audit_events (time_ms, seq);
  CREATE INDEX audit_by_identity_time ON audit_events (identity_name, time_ms, seq);
  `,
  // 2: reviews (the whole review as JSON, with the columns lookups need), their event trail, and grants.
  `
  CREATE TABLE reviews (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_json TEXT NOT NULL
  ) STRICT;
  CREATE INDEX reviews_by_fingerprint ON reviews (fingerprint, state);
  CREATE INDEX reviews_by_state ON reviews (state, seq);

  CREATE TABLE review_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id TEXT NOT NULL REFERENCES reviews (id),
    time TEXT NOT NULL,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
  ) STRICT;
  CREATE INDEX review_events_by_review ON review_events (review_id, seq);

  CREATE TABLE grants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
    expires_ms INTEGER NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
  ) STRICT;
  CREATE INDEX grants_by_identity ON grants (identity_id, expires_ms);
  `,
  // 4: the tamper-evident audit chain (src/audit): every audit record (request begin, request completion, note)
  // chained by hash, signed checkpoints over the chain, sink delivery positions, and the request events' link to
  // their begin record.
  `
  CREATE TABLE audit_chain (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    ref TEXT NOT NULL,
    time TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_chain_by_time ON audit_chain (time_ms, seq);

  CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    chain_seq INTEGER NOT NULL,
    chain_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    reason TEXT NOT NULL,
    key_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL
  ) STRICT;

  CREATE TABLE audit_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
  CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

  ALTER TABLE audit_events ADD COLUMN chain_seq INTEGER;
  ALTER TABLE audit_events ADD COLUMN identity_groups_json TEXT;
  CREATE INDEX audit_events_by_chain ON audit_events (chain_seq);
  `,
  // 4: the identity lifecycle (owner, description, expiry, disable), credential kinds (tokens and client
  // certificates) with their own expiry, scopes and names, and who a session credential spoke for in the audit log.
  `
  ALTER TABLE identities ADD COLUMN owner TEXT;
  ALTER TABLE identities ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE identities ADD COLUMN expires_at TEXT;
  ALTER TABLE identities ADD COLUMN disabled_at TEXT;
  ALTER TABLE credentials ADD COLUMN kind TEXT NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'certificate'));
  ALTER TABLE credentials ADD COLUMN name TEXT NOT NULL DEFAULT '';
  ALTER TABLE credentials ADD COLUMN expires_at TEXT;
  ALTER TABLE credentials ADD COLUMN scopes_json TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE credentials ADD COLUMN serial TEXT;
  ALTER TABLE audit_events ADD COLUMN justification TEXT;
  ALTER TABLE audit_events ADD COLUMN on_behalf_of TEXT;
  `,
  // 5: sessions (requests grouped by Kubectl-Session or identity and idle window) and their recordings (metadata; the
  // bytes are append-only files under <dataDir>/recordings/), and each request event's session.
  `
  CREATE TABLE sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    identity_name TEXT NOT NULL,
    cluster TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    data_json TEXT NOT NULL
  ) STRICT;
  CREATE INDEX sessions_by_key ON sessions (key, last_seen_ms);
  CREATE INDEX sessions_by_last_seen ON sessions (last_seen_ms, seq);
  CREATE INDEX sessions_by_identity ON sessions (identity_name, last_seen_ms);

  CREATE TABLE recordings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    data_json TEXT NOT NULL
  ) STRICT;
  CREATE INDEX recordings_by_session ON recordings (session_id, seq);

  ALTER TABLE audit_events ADD COLUMN session_id TEXT;
  CREATE INDEX audit_events_by_session ON audit_events (session_id, seq);
  `,
  // 6 (issue 15): delegations (a human's consent that an agent acts for them) and why a grant ended early.
  `
  CREATE TABLE delegations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    human TEXT NOT NULL,
    human_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
  ) STRICT;
  CREATE INDEX delegations_by_agent ON delegations (agent, human, expires_ms);
  CREATE INDEX delegations_by_human ON delegations (human, expires_ms);
  ALTER TABLE grants ADD COLUMN ended_reason TEXT;
  `,
  // 7 (issue 16 §7): console sessions (the cookie's SHA-256, never the cookie) and the counters replicas share.
  `
  CREATE TABLE console_sessions (
    digest TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL,
    identity_name TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX console_sessions_by_credential ON console_sessions (credential_id);
  CREATE INDEX console_sessions_by_created ON console_sessions (created_ms);

  CREATE TABLE shared_counters (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    state_json TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX shared_counters_by_expiry ON shared_counters (expires_ms);
  `,
  // 8 (issue 20 §2): the namespace MCP tools use for an identity when a call names none.
  `
  ALTER TABLE identities ADD COLUMN default_namespace TEXT;
  `,
];

/** Brings the schema up to date inside one transaction. Throws on a database newer than this code. */
export function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  const current = row?.user_version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database schema is version ${current}, newer than this Airlock understands (${MIGRATIONS.length}); ` +
        "upgrade Airlock or point it at another data directory",
    );
  }
  if (current === MIGRATIONS.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version] ?? "");
    // PRAGMA does not take bound parameters; the value is our own integer.
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;
