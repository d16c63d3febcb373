// The store's tables, one object per table family (store/types.ts), built once over either engine's runner (sql.ts).
import { AuditTables, type AuditWriter } from "./audit.ts";
import { CredentialTables } from "./credentials.ts";
import { DelegationTables } from "./delegations.ts";
import { IdentityTables } from "./identities.ts";
import { ConsoleSessionTables, CounterTables } from "./replica-state.ts";
import { GrantTables, ReviewTables } from "./reviews.ts";
import { RecordingTables, SessionTables } from "./sessions.ts";
import type { Db } from "./sql.ts";
import type { Store } from "./types.ts";

/** Every table of the store; the engine adds `close`. */
export type StoreTables = Omit<Store, "close">;

export interface TableOptions {
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /** "Last used" is written at most this often per credential, so authentication does not cost a write per request. */
  lastUsedResolutionMs?: number;
}

export function storeTables(db: Db, writer: AuditWriter, opts: TableOptions = {}): StoreTables {
  const now = opts.now ?? Date.now;
  return {
    identities: new IdentityTables(db, now, opts.lastUsedResolutionMs ?? 60_000),
    credentials: new CredentialTables(db, now),
    reviews: new ReviewTables(db),
    grants: new GrantTables(db, now),
    delegations: new DelegationTables(db, now),
    audit: new AuditTables(db, writer, now),
    sessions: new SessionTables(db),
    recordings: new RecordingTables(db),
    consoleSessions: new ConsoleSessionTables(db),
    counters: new CounterTables(db),
  };
}
