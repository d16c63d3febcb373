// The PostgreSQL connection pool the store runs on: parameterised queries, transactions, and what a closed store
// does (every call rejects). All of Airlock's tables live in one schema (default "airlock"), set as the search_path of
// every connection, so several Airlock installations (or test runs) can share one database without seeing each other.
//
// Secrets: the connection URL carries a password. It is never logged or put in an error message; `redactUrl` is the
// only form of it that may be shown.
import pg from "pg";

export type Row = Record<string, unknown>;
export type Param = string | number | boolean | null | string[] | number[];

/** A query runner: the pool, or one client inside a transaction. */
export interface Sql {
  (text: string, params?: readonly Param[]): Promise<Row[]>;
  /** Rows changed by an UPDATE/DELETE/INSERT. */
  count(text: string, params?: readonly Param[]): Promise<number>;
}

export interface PgOptions {
  /** postgres://user:password@host:port/database?sslmode=… */
  url: string;
  /** The schema holding Airlock's tables; created when missing. */
  schema?: string;
  /** Connections per replica (default 10). */
  poolSize?: number;
  /** Where connection errors of idle clients go (they would otherwise crash the process). */
  onError?: (err: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates a schema name: it is interpolated into SQL (identifiers cannot be bound), so only plain names pass. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`store: schema "${schema}" is not a plain lower-case SQL name ([a-z_][a-z0-9_]*)`);
  }
  return schema;
}

/** The URL with its password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparseable URL)";
  }
}

// BIGINT (int8) columns hold sequence numbers and epoch milliseconds, all far below 2^53: read them as numbers.
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export function clientConfig(opts: PgOptions): pg.ClientConfig {
  const schema = checkSchemaName(opts.schema ?? "airlock");
  return {
    connectionString: opts.url,
    types,
    // search_path is a connection option, so every pooled connection sees only this schema.
    options: `-c search_path=${schema}`,
    application_name: "airlock",
  };
}

function runner(client: pg.Pool | pg.PoolClient): Sql {
  const sql = (async (text: string, params: readonly Param[] = []) =>
    (await client.query(text, params as unknown[])).rows as Row[]) as Sql;
  sql.count = async (text, params = []) => (await client.query(text, params as unknown[])).rowCount ?? 0;
  return sql;
}

export class Db {
  readonly schema: string;
  readonly #pool: pg.Pool;
  #closed = false;
  readonly sql: Sql;

  constructor(opts: PgOptions) {
    this.schema = checkSchemaName(opts.schema ?? "airlock");
    this.#pool = new pg.Pool({ ...clientConfig(opts), max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    this.#pool.on("error", (err) => opts.onError?.(err));
    const pooled = runner(this.#pool);
    const guarded = ((text: string, params?: readonly Param[]) => {
      if (this.#closed) return Promise.reject(new Error("store: the PostgreSQL store is closed"));
      return pooled(text, params);
    }) as Sql;
    guarded.count = (text, params) => {
      if (this.#closed) return Promise.reject(new Error("store: the PostgreSQL store is closed"));
      return pooled.count(text, params);
    };
    this.sql = guarded;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async tx<T>(work: (sql: Sql) => Promise<T>, isolation = "READ COMMITTED"): Promise<T> {
    const client = await this.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(runner(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** A dedicated connection (the chain writer holds one per batch); the caller releases it. */
  async connect(): Promise<pg.PoolClient & { sql: Sql }> {
    if (this.#closed) throw new Error("store: the PostgreSQL store is closed");
    const client = await this.#pool.connect();
    return Object.assign(client, { sql: runner(client) });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/** True for PostgreSQL's unique_violation: the caller turns it into AlreadyExists or a refused write. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "23505";
}
