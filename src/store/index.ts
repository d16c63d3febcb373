// Opens the configured store engine. Callers depend on the `Store` interface only, so a PostgreSQL engine can be
// added here without touching the gateway or the admin API.
import type { Store } from "../gateway/contracts.ts";
import { SqliteStore } from "./sqlite.ts";

export type StoreOptions = {
  kind: "sqlite";
  /** The database file, usually `<data dir>/airlock.db`. */
  path: string;
  /** Open without write access: reads work and every write (including `auditBegin`) rejects. */
  readOnly?: boolean;
  /** The clock, in epoch milliseconds; tests move it. */
  now?: () => number;
};

export async function openStore(opts: StoreOptions): Promise<Store> {
  switch (opts.kind) {
    case "sqlite": {
      const sqlite: ConstructorParameters<typeof SqliteStore>[0] = { path: opts.path };
      if (opts.readOnly !== undefined) sqlite.readOnly = opts.readOnly;
      if (opts.now !== undefined) sqlite.now = opts.now;
      return new SqliteStore(sqlite);
    }
  }
}
