// The embedded engine: one SQLite file in the data directory (node:sqlite, WAL). It opens the file, sets the pragmas,
// migrates, and builds the tables (tables.ts) over the SQLite runner (sqlite-db.ts) with the group-commit audit writer.
//
// Fail closed: every write commits before its promise resolves, so a resolved `audit.begin` is committed (write-ahead
// audit, DESIGN.md invariant 3): in the WAL, which survives a gateway crash, with durability "commit"
// (synchronous=NORMAL); and fsync'd, which also survives power loss, with "fsync" (docs/audit.md). A failed write (read-only file, closed handle, full disk) rejects. The one write
// that is allowed to fail quietly is the "last used" timestamp: it is advisory, and an unwritable store must still
// refuse requests with 503 at the audit step rather than 401 at authentication.
// Tokens are never stored, only SHA-256 hashes (invariant 7); a hash is found by index and then re-compared in
// constant time.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { GENESIS_HASH, REQUEST, REQUEST_COMPLETED, requestBeginData } from "../audit/chain.ts";
import { type AuditDurability, ChainWriter } from "./audit-writer.ts";
import { databaseFileGuard } from "./faults.ts";
import { auditFromRow } from "./rows.ts";
import { migrate, SCHEMA_VERSION } from "./schema.ts";
import { SqliteDb } from "./sqlite-db.ts";
import { storeTables, type TableOptions } from "./tables.ts";
import type { Store } from "./types.ts";

export interface SqliteStoreOptions extends TableOptions {
  /** The database file, or ":memory:" for a throw-away store. */
  path: string;
  /** Open an existing database without write access: reads work, every write rejects. */
  readOnly?: boolean;
  /**
   * "commit" (default): committed to the WAL before a write resolves, survives a gateway crash; an OS crash or power
   * loss may lose the last transactions. "fsync": also fsync'd before a request's audit record resolves.
   */
  durability?: AuditDurability;
}

/** How long a statement waits for another process's lock before it fails (see openSqliteStore). */
export const BUSY_TIMEOUT_MS = 1000;

export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const memory = opts.path === ":memory:";
  if (!memory && !opts.readOnly) {
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is 0600 from its first byte: it holds token hashes and the audit log.
    closeSync(openSync(opts.path, "a", 0o600));
  }
  const raw = new DatabaseSync(opts.path, {
    readOnly: opts.readOnly ?? false,
    enableForeignKeyConstraints: true,
  });
  try {
    // node:sqlite is synchronous: a lock held by another process (a backup, a sqlite3 shell) blocks the event loop
    // for up to this long per statement. One second bounds that freeze; past it the write fails and the request is
    // refused with 503 (fail closed) instead of every client of the gateway waiting.
    raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (opts.readOnly) {
      const row = raw.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
      if (row?.user_version !== SCHEMA_VERSION) throw new Error(`${opts.path} is not an Airlock database`);
    } else {
      if (!memory) raw.exec("PRAGMA journal_mode = WAL");
      // FULL for the store's own writes (identities, reviews: rare). The audit chain's batches commit at NORMAL — to
      // the WAL, without an fsync — and "fsync" syncs them off the event loop (audit-writer.ts). Measured: a
      // connection left at NORMAL made every audit commit ~0.4 ms slower than switching per batch (store-level
      // loop, begin 0.51 vs 0.11 ms p50), so the switch is per batch in both modes.
      raw.exec("PRAGMA synchronous = FULL");
      migrate(raw);
    }
  } catch (err) {
    raw.close();
    throw err;
  }
  const db = new SqliteDb(raw);
  const writer = new ChainWriter(db, () => readHead(db), {
    durability: opts.durability ?? "commit",
    ...(memory ? {} : { walPath: `${opts.path}-wal` }),
    // The file removed under a running gateway: fail closed instead of writing records that vanish at restart.
    ...(memory || opts.readOnly ? {} : { beforeBatch: databaseFileGuard(opts.path) }),
  });
  const tables = storeTables(db, writer, opts);
  if (!opts.readOnly) await chainLegacyEvents(db, writer);
  return {
    ...tables,
    async close() {
      if (raw.isOpen) await writer.idle();
      await writer.settled();
      if (raw.isOpen) raw.close();
    },
  };
}

/** The last chained record, or the sealing checkpoint's when everything was pruned, or the genesis. */
function readHead(db: SqliteDb): { seq: number; hash: string } {
  // Synchronous (the writer re-reads it inside its batch); statements prepared once, as every batch runs it.
  const last = db.statement("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1").get();
  if (last) return { seq: Number(last.seq), hash: String(last.hash) };
  const seal = db
    .statement("SELECT chain_seq, chain_hash FROM audit_checkpoints ORDER BY chain_seq DESC LIMIT 1")
    .get();
  return seal
    ? { seq: Number(seal.chain_seq), hash: String(seal.chain_hash) }
    : { seq: 0, hash: GENESIS_HASH };
}

/** Events written before the chain existed (schema 3 and older) are chained once, in their original order. */
async function chainLegacyEvents(db: SqliteDb, writer: ChainWriter): Promise<void> {
  if (await db.get("SELECT value FROM audit_meta WHERE key = 'chain'")) return;
  const rows = await db.all("SELECT * FROM audit_events WHERE chain_seq IS NULL ORDER BY seq");
  const writes: Promise<unknown>[] = [];
  for (const row of rows) {
    const event = auditFromRow(row);
    writes.push(
      writer.write(async (sql, append) => {
        const begin = append(REQUEST, event.id, event.time, requestBeginData(event));
        await sql.run("UPDATE audit_events SET chain_seq = ? WHERE id = ?", [begin.seq, event.id]);
        if (event.completedAt) {
          append(REQUEST_COMPLETED, event.id, event.completedAt, {
            beginSeq: begin.seq,
            status: event.status,
            bytesIn: event.bytesIn,
            bytesOut: event.bytesOut,
            durationMs: event.durationMs,
            completedAt: event.completedAt,
            reason: null,
          });
        }
      }),
    );
  }
  writes.push(writer.write((sql) => sql.run("INSERT INTO audit_meta (key, value) VALUES ('chain', '1')")));
  await Promise.all(writes);
}
