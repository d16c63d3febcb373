// Shared set-up for the audit tests: a fresh SQLite store in a temp directory, filled with a mix of allowed, denied
// and errored requests and a note, plus a signing key and a raw second connection for tampering.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Checkpointer } from "../../src/audit/checkpoint.ts";
import { generateSigningKey, type SigningKey } from "../../src/audit/signing.ts";
import type { AuditEvent } from "../../src/audit/types.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { auditEvent } from "../store/contract.ts";

export interface AuditFixture {
  dir: string;
  path: string;
  store: Store;
  key: SigningKey;
  events: AuditEvent[];
  checkpointer: Checkpointer;
  /** A second connection to the same file, the way an attacker with file access would edit it. */
  raw(): DatabaseSync;
  close(): Promise<void>;
}

const BASE = Date.parse("2026-03-01T10:00:00.000Z");

export async function auditFixture(
  opts: { requests?: number; now?: () => number } = {},
): Promise<AuditFixture> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-audit-"));
  const path = join(dir, "airlock.db");
  const store = await openStore({ kind: "sqlite", path, ...(opts.now ? { now: opts.now } : {}) });
  const key = generateSigningKey();
  const events: AuditEvent[] = [];
  const n = opts.requests ?? 6;
  for (let i = 0; i < n; i++) {
    const denied = i % 3 === 1;
    const event = auditEvent({
      id: `req-${i}`,
      time: new Date(BASE + i * 1000).toISOString(),
      identityGroups: ["airlock:agents", "agents"],
      verb: denied ? "delete" : "get",
      method: denied ? "DELETE" : "GET",
      path: `/api/v1/namespaces/default/pods/web-${i}`,
      name: `web-${i}`,
      decision: denied ? "deny" : "allow",
      rule: denied ? "no-deletes" : "read-everything",
      reason: denied ? "deletes are not allowed" : null,
    });
    await store.audit.begin(event);
    await store.audit.complete(event.id, {
      status: denied ? 403 : 200,
      bytesIn: 0,
      bytesOut: 100 + i,
      durationMs: i,
    });
    events.push(event);
  }
  await store.audit.note({
    type: "identity.revoked",
    actor: "admin",
    subject: "agent-1",
    detail: { reason: "test" },
  });
  const checkpointer = new Checkpointer({ store, key, everyRecords: 1000, everySeconds: 3600 });
  const dbs: DatabaseSync[] = [];
  return {
    dir,
    path,
    store,
    key,
    events,
    checkpointer,
    raw() {
      const db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 5000");
      dbs.push(db);
      return db;
    },
    async close() {
      for (const db of dbs) if (db.isOpen) db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
