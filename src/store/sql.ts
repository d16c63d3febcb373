// The one SQL runner every table is written against, and the dialect object that says where SQLite and PostgreSQL
// differ. Tables (identities.ts, reviews.ts, audit.ts, …) are written once with `?` placeholders; the PostgreSQL
// runner numbers them ($1, $2, …), the SQLite runner binds them as they are.
//
// Why not Kysely: measured in the spike (docs/storage.md, "How the store is written"): node:sqlite's StatementSync is not the
// better-sqlite3 shape Kysely's SqliteDialect expects (an adapter is needed), each query is built and compiled on
// the request path, and the audit chain's group commit needs a savepoint per write inside one batch transaction on a
// connection the writer holds — raw SQL on this runner keeps that as it was.
//
// Fail closed: a closed store rejects every call; a transaction that throws rolls back and rejects.

export type Row = Record<string, unknown>;
/** A bound value. Arrays only on PostgreSQL (the chain writer's unnest). */
export type Param = string | number | boolean | null | readonly string[] | readonly number[];

export interface Sql {
  /** Every row of a query. */
  all(text: string, params?: readonly Param[]): Promise<Row[]>;
  /** The first row, or undefined. */
  get(text: string, params?: readonly Param[]): Promise<Row | undefined>;
  /** Runs a write; resolves with the number of rows it changed. */
  run(text: string, params?: readonly Param[]): Promise<number>;
}

/** What the two engines write differently. */
export interface Dialect {
  readonly name: "sqlite" | "postgres";
  /**
   * Appended to a SELECT whose row the transaction goes on to change: a row lock on PostgreSQL, so another replica
   * cannot change it in between; nothing on SQLite, whose BEGIN IMMEDIATE already holds the one write lock.
   */
  readonly forUpdate: string;
  /** Appended to an ORDER BY on text: byte order on both (PostgreSQL would otherwise sort by the locale). */
  readonly byteOrder: string;
  /** The column that orders rows of a table without a seq column by insertion. */
  readonly insertionOrder: string;
  /** True for a unique-index violation: the caller turns it into AlreadyExists. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * A session key as stored. Keys join their parts with NUL, which PostgreSQL text cannot hold: there the column
   * holds the key as a JSON string (exact and reversible); SQLite stores it as it is.
   */
  sessionKey(key: string): string;
}

/** A database: the runner outside any transaction, plus transactions. */
export interface Db extends Sql {
  readonly dialect: Dialect;
  readonly closed: boolean;
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  tx<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * As tx, for advisory writes whose loss in a power cut costs nothing (session counters, last-used marks): SQLite
   * commits them at synchronous=NORMAL — in the WAL, so they survive a crash of the process, not a power loss —
   * instead of an fsync that stalls the event loop (node:sqlite is synchronous; ~14 ms a commit, up to 81 ms, on a
   * loaded VM). Engines without the distinction leave it out: callers then use tx.
   */
  relaxedTx?<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

/** `db.relaxedTx` where the engine has it, else `db.tx`. */
export function relaxedTx<T>(db: Db, work: (sql: Sql) => Promise<T>): Promise<T> {
  return db.relaxedTx ? db.relaxedTx(work) : db.tx(work);
}

/** `count` placeholders for an IN list. */
export const marks = (count: number): string => Array.from({ length: count }, () => "?").join(", ");

/** The statement's `?` placeholders numbered $1, $2, … (outside quoted text), for PostgreSQL. */
export function numberPlaceholders(text: string): string {
  let n = 0;
  let out = "";
  let quote: string | undefined;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") out += `$${++n}`;
    else out += c;
  }
  return out;
}
