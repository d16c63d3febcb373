// The SQL runner (sql.ts) on node:sqlite: one synchronous connection behind the async interface every table uses.
//
// Isolation on one connection: a transaction's body awaits between statements, and other callers' statements would
// otherwise run inside it (reading its uncommitted rows, or being rolled back with it after they were acknowledged).
// So a transaction — and the audit writer's batch — holds the connection: statements from outside wait until it
// commits or rolls back. node:sqlite blocks the event loop per statement anyway; this only orders the callers.
// Hence a transaction's body must use the `sql` it is handed: a call to the Db itself from inside waits for the
// transaction to end, which is never.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { Db, Dialect, Param, Row, Sql } from "./sql.ts";

export const SQLITE: Dialect = {
  name: "sqlite",
  forUpdate: "",
  byteOrder: "",
  insertionOrder: "rowid",
  // node:sqlite reports the extended result code: SQLITE_CONSTRAINT_UNIQUE (2067) or _PRIMARYKEY (1555).
  isUniqueViolation: (err) => {
    const code = (err as { errcode?: unknown } | null)?.errcode;
    return code === 2067 || code === 1555;
  },
  sessionKey: (key) => key,
};

export class SqliteDb implements Db {
  readonly dialect = SQLITE;
  /** The connection, for what only this engine does (pragmas, migrations, the audit writer's batch statements). */
  readonly raw: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #held: Promise<void> | undefined;
  /** Runs statements at once: used by whoever holds the connection. */
  readonly #direct: Sql;

  constructor(raw: DatabaseSync) {
    this.raw = raw;
    this.#direct = {
      all: async (text, params = []) => this.statement(text).all(...bind(params)) as Row[],
      get: async (text, params = []) => this.statement(text).get(...bind(params)) as Row | undefined,
      run: async (text, params = []) => Number(this.statement(text).run(...bind(params)).changes),
    };
  }

  get closed(): boolean {
    return !this.raw.isOpen;
  }

  /** Statements prepared once per SQL text: preparing was a measurable share of every request (bench profile). */
  statement(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      // Bounded: the SQL texts are literals or built from a fixed set of filters.
      if (this.#statements.size >= 256) this.#statements.clear();
      statement = this.raw.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  async all(text: string, params?: readonly Param[]): Promise<Row[]> {
    while (this.#held) await this.#held;
    return this.#direct.all(text, params);
  }

  async get(text: string, params?: readonly Param[]): Promise<Row | undefined> {
    while (this.#held) await this.#held;
    return this.#direct.get(text, params);
  }

  async run(text: string, params?: readonly Param[]): Promise<number> {
    while (this.#held) await this.#held;
    return this.#direct.run(text, params);
  }

  /** Runs `work` holding the connection: no other caller's statement runs until it settles. */
  async exclusive<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    while (this.#held) await this.#held;
    let release = () => {};
    this.#held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      return await work(this.#direct);
    } finally {
      this.#held = undefined;
      release();
    }
  }

  relaxedTx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.exclusive(async (sql) => {
      // The connection's level is FULL (sqlite.ts); the audit writer's batches switch the same way (audit-writer.ts).
      this.statement("PRAGMA synchronous = NORMAL").run();
      try {
        this.statement("BEGIN IMMEDIATE").run();
        try {
          const result = await work(sql);
          this.statement("COMMIT").run();
          return result;
        } catch (err) {
          if (this.raw.isOpen && this.raw.isTransaction) this.raw.exec("ROLLBACK");
          throw err;
        }
      } finally {
        if (this.raw.isOpen) this.statement("PRAGMA synchronous = FULL").run();
      }
    });
  }

  tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.exclusive(async (sql) => {
      this.statement("BEGIN IMMEDIATE").run();
      try {
        const result = await work(sql);
        this.statement("COMMIT").run();
        return result;
      } catch (err) {
        if (this.raw.isOpen && this.raw.isTransaction) this.raw.exec("ROLLBACK");
        throw err;
      }
    });
  }
}

function bind(params: readonly Param[]): SQLInputValue[] {
  // Arrays are PostgreSQL-only (sql.ts); no SQLite statement binds one.
  return params as SQLInputValue[];
}
