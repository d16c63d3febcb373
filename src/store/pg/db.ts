// The PostgreSQL connection pool the store runs on: parameterised queries, transactions, and what a closed store
// does (every call rejects). All of Airlock's tables live in one schema (default "airlock"), set as the search_path of
// every connection, so several Airlock installations (or test runs) can share one database without seeing each other.
//
// Secrets: the connection URL carries a password. It is never logged or put in an error message; `redactUrl` is the
// only form of it that may be shown.
import pg from "pg";
import {
  type Dialect,
  numberPlaceholders,
  type Param,
  type Row,
  type Sql,
  type Db as SqlDb,
} from "../sql.ts";

/** A dedicated connection with the runner on it (the chain writer holds one per batch). */
export type Client = pg.PoolClient & { sql: Sql };

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

export const POSTGRES: Dialect = {
  name: "postgres",
  forUpdate: " FOR UPDATE",
  byteOrder: ' COLLATE "C"',
  insertionOrder: "seq",
  isUniqueViolation: (err) => isUniqueViolation(err),
  sessionKey: (key) => JSON.stringify(key),
};

// Statement texts numbered once: the texts are literals or built from a fixed set of filters (bounded below).
const numbered = new Map<string, string>();
function pgText(text: string): string {
  let out = numbered.get(text);
  if (out === undefined) {
    if (numbered.size >= 512) numbered.clear();
    out = numberPlaceholders(text);
    numbered.set(text, out);
  }
  return out;
}

function runner(client: pg.Pool | pg.PoolClient): Sql {
  const query = (text: string, params: readonly Param[] = []) =>
    client.query(pgText(text), params as unknown[]);
  return {
    all: async (text, params) => (await query(text, params)).rows as Row[],
    get: async (text, params) => (await query(text, params)).rows[0] as Row | undefined,
    run: async (text, params) => (await query(text, params)).rowCount ?? 0,
  };
}

const closedError = () => new Error("store: the PostgreSQL store is closed");

export class Db implements SqlDb {
  readonly dialect = POSTGRES;
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #pooled: Sql;
  #closed = false;

  constructor(opts: PgOptions) {
    this.schema = checkSchemaName(opts.schema ?? "airlock");
    this.#pool = new pg.Pool({
      ...clientConfig(opts),
      max: opts.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      // A server that does not answer (a dead host, a partition) fails the query in 5 s: the request gets its 503
      // instead of hanging, and the next attempt connects again (perhaps to a failed-over server).
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    this.#pool.on("error", (err) => opts.onError?.(err));
    this.#pooled = runner(this.#pool);
  }

  get closed(): boolean {
    return this.#closed;
  }

  all(text: string, params?: readonly Param[]): Promise<Row[]> {
    return this.#closed ? Promise.reject(closedError()) : this.#pooled.all(text, params);
  }

  get(text: string, params?: readonly Param[]): Promise<Row | undefined> {
    return this.#closed ? Promise.reject(closedError()) : this.#pooled.get(text, params);
  }

  run(text: string, params?: readonly Param[]): Promise<number> {
    return this.#closed ? Promise.reject(closedError()) : this.#pooled.run(text, params);
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
      const result = await work(client.sql);
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
  async connect(): Promise<Client> {
    if (this.#closed) throw closedError();
    const client = await this.#pool.connect();
    // pg-pool listens for errors of idle clients only: a checked-out connection lost between two queries (server
    // stopped, pg_terminate_backend) would emit "error" with no listener and crash the process. Listen while it is
    // out, and hand it back as broken so the pool drops it instead of lending it again.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on("error", onError);
    const release = client.release.bind(client);
    client.release = ((err?: Error | boolean) => {
      client.off("error", onError);
      return release(err ?? lost);
    }) as typeof client.release;
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
