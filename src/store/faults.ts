// What went wrong with the store, in words an agent's client can show: the audit step refuses a request with 503 when
// its record cannot be written (fail closed), and the message names the store and the fault so an operator reading a
// client's error knows where to look. Only the kind of fault is named — never a path, a URL or a server message.
//
// Also: the SQLite database file removed (or replaced) under a running gateway. SQLite keeps writing to the open,
// unlinked inode, so every record written from then on would vanish at the next restart; the store checks before
// each audit batch that the path still names the file it opened, and refuses the batch otherwise (docs/operations.md
// "Store faults").
import { type Stats, statSync } from "node:fs";
import { storeFault } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";

/** An error the store raises itself (not SQLite's or PostgreSQL's), with a reason phrase for `describeStoreFailure`. */
export class StoreFault extends Error {
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.name = "StoreFault";
    this.reason = reason;
  }
}

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;

// PostgreSQL SQLSTATE classes and codes that mean "the server is not there (now)".
const PG_UNAVAILABLE = new Set([
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
  "53300",
]);
const PG_READ_ONLY = "25006";

/** A short phrase naming the store and what is wrong with it, for the 503 a refused request gets. */
export function describeStoreFailure(err: unknown): string {
  return storeFaultReason(err) ?? "the store failed";
}

/**
 * The answer for a request that failed because the store did (authentication, sessions, reviews read it before the
 * audit step): 503 naming the store, instead of a 500 "internal error"; undefined for any other error.
 */
export function storeUnavailableStatus(err: unknown): Status | undefined {
  const reason = storeFaultReason(err);
  if (reason === undefined) return undefined;
  return storeFault(reason);
}

/** The phrase for a fault recognised as the store's, or undefined. */
export function storeFaultReason(err: unknown): string | undefined {
  if (err instanceof StoreFault) return err.reason;
  const e = (err ?? {}) as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === "ERR_SQLITE_ERROR" && typeof e.errcode === "number") {
    switch (e.errcode & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return "the SQLite database is locked by another process";
      case SQLITE_FULL:
        return "the disk holding the SQLite database is full";
      case SQLITE_READONLY:
        return "the SQLite database is read-only";
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
        return "the SQLite database cannot be written (I/O error)";
      case SQLITE_CORRUPT:
        return "the SQLite database is damaged";
    }
    return "the SQLite database refused the write";
  }
  if (typeof e.code === "string") {
    if (e.code === PG_READ_ONLY) return "the PostgreSQL server is read-only (a standby?)";
    if (
      PG_UNAVAILABLE.has(e.code) ||
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE)$/.test(e.code)
    ) {
      return "the PostgreSQL server cannot be reached";
    }
    if (/^[0-9A-Z]{5}$/.test(e.code)) return "the PostgreSQL server refused the write";
  }
  const message = typeof e.message === "string" ? e.message : "";
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return "the PostgreSQL server cannot be reached";
  }
  if (/PostgreSQL store is closed/.test(message)) return "the PostgreSQL store is closed";
  return undefined;
}

/**
 * A check that the database file at `path` is still the one that was opened (same device and inode): throws a
 * StoreFault when it was removed or replaced. A stat per audit batch (a few microseconds).
 */
export function databaseFileGuard(path: string): () => void {
  const opened = statSync(path);
  const same = (now: Stats | undefined) =>
    now !== undefined && now.ino === opened.ino && now.dev === opened.dev;
  return () => {
    if (same(statSync(path, { throwIfNoEntry: false }))) return;
    throw new StoreFault(
      `store: the SQLite database file ${path} was removed or replaced while the gateway had it open; ` +
        "records written now would be lost at restart, so writes are refused (docs/operations.md, Store faults)",
      "the SQLite database file was removed or replaced",
    );
  };
}
