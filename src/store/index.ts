// Opens the configured store engine: SQLite (embedded, one replica) or PostgreSQL (shared by several replicas).
// Callers depend on the `Store` interface only; docs/storage.md describes both engines.
//
// Secrets: a PostgreSQL URL carries a password. It may come from a file (urlFile) so it stays out of airlock.yaml;
// it is never logged, and an error about it names the file, not its content.
import { readFile } from "node:fs/promises";
import type { StoreConfig } from "./pg/config.ts";
import { openPostgresStore } from "./pg/store.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite.ts";
import type { Store } from "./types.ts";

export type StoreOptions =
  | {
      kind: "sqlite";
      /** The database file, usually `<data dir>/airlock.db`. */
      path: string;
      /** Open without write access: reads work and every write (including `audit.begin`) rejects. */
      readOnly?: boolean;
      /** The clock, in epoch milliseconds; tests move it. */
      now?: () => number;
      /** audit.durability: "commit" (default) or "fsync" (src/store/audit-writer.ts). */
      durability?: "commit" | "fsync";
    }
  | PostgresOptions;

export interface PostgresOptions {
  kind: "postgres";
  /** postgres://user:password@host:port/database (exactly one of url and urlFile). */
  url?: string;
  /** A file holding the URL (first line), e.g. a mounted secret. */
  urlFile?: string;
  /** The schema holding Airlock's tables (default "airlock"). */
  schema?: string;
  /** Connections per replica (default 10). */
  poolSize?: number;
  now?: () => number;
  /** Errors of idle pooled connections (logged by the gateway; the next query reconnects). */
  onError?: (err: Error) => void;
}

/** The PostgreSQL URL of the options: `url`, or the first line of `urlFile`. */
export async function postgresUrl(opts: Pick<PostgresOptions, "url" | "urlFile">): Promise<string> {
  if (opts.url !== undefined) return opts.url;
  if (opts.urlFile === undefined) throw new Error("store: postgres needs url or urlFile");
  let text: string;
  try {
    text = await readFile(opts.urlFile, "utf8");
  } catch (err) {
    throw new Error(
      `store: cannot read the PostgreSQL URL file ${opts.urlFile}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  const url = text.split("\n")[0]?.trim() ?? "";
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`store: ${opts.urlFile} does not start with a postgres:// URL`);
  }
  return url;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  switch (opts.kind) {
    case "sqlite": {
      const sqlite: SqliteStoreOptions = { path: opts.path };
      if (opts.readOnly !== undefined) sqlite.readOnly = opts.readOnly;
      if (opts.now !== undefined) sqlite.now = opts.now;
      if (opts.durability !== undefined) sqlite.durability = opts.durability;
      return openSqliteStore(sqlite);
    }
    case "postgres":
      return openPostgresStore({
        url: await postgresUrl(opts),
        ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
        ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
        ...(opts.now !== undefined ? { now: opts.now } : {}),
        ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
      });
  }
}

/** The store options for the `store:` section of airlock.yaml (src/store/pg/config.ts). */
export function storeOptionsFor(
  config: StoreConfig,
  dataDir: string,
  log?: { warn(obj: object, msg: string): void },
): StoreOptions {
  if (config.kind === "sqlite") return { kind: "sqlite", path: `${dataDir}/airlock.db` };
  return {
    ...config,
    // The pool reconnects by itself; the error is worth a line, never the URL.
    onError: (err) => log?.warn({ error: err.message }, "store: a pooled PostgreSQL connection failed"),
  };
}
