// The PostgreSQL store: the engine several gateway replicas share (identities, reviews, audit, sessions and
// recordings' metadata). The tables are written once (tables.ts); this opens the pool, migrates, and builds them over it with
// the chain writer that orders all replicas (chain-writer.ts).
//
// Fail closed as the SQLite engine: every write resolves only after its COMMIT, a failed write rejects, a closed store
// rejects everything. The connection URL (it carries a password) never appears in a log line or error we raise.

import { storeTables, type TableOptions } from "../tables.ts";
import type { Store } from "../types.ts";
import { PgChainWriter } from "./chain-writer.ts";
import { Db, type PgOptions } from "./db.ts";
import { migratePg } from "./schema.ts";

export interface PostgresStoreOptions extends PgOptions, TableOptions {}

/** Opens the pool, applies migrations (refusing a newer schema) and returns the store. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const db = new Db(opts);
  try {
    await migratePg(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const writer = new PgChainWriter(db);
  return {
    ...storeTables(db, writer, opts),
    async close() {
      if (db.closed) return;
      await writer.idle().catch(() => {});
      await db.close();
    },
  };
}
