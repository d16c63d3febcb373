// audit.durability on the embedded store: "commit" commits the write-ahead record to the WAL (synchronous=NORMAL),
// "fsync" also waits for an fsync of the WAL, run off the event loop, before a request's record resolves.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { GENESIS_HASH } from "../../src/audit/chain.ts";
import { type AuditDurability, ChainWriter } from "../../src/store/audit-writer.ts";
import { openStore } from "../../src/store/index.ts";
import { SqliteDb } from "../../src/store/sqlite-db.ts";
import { auditEvent } from "./contract.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-durability-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `s${++n}`, "airlock.db");

for (const durability of ["commit", "fsync"] as const) {
  test(`durability ${durability}: an audit record survives a SIGKILL right after audit.begin resolves`, async () => {
    const path = freshPath();
    await (await openStore({ kind: "sqlite", path })).close();
    const script = `
      const { openStore } = await import(${JSON.stringify(new URL("../../src/store/index.ts", import.meta.url).href)});
      const store = await openStore({ kind: "sqlite", path: ${JSON.stringify(path)}, durability: "${durability}" });
      await store.audit.begin(${JSON.stringify(auditEvent({ id: `kill-${durability}` }))});
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
    const [, signal] = await once(child, "exit");
    assert.equal(signal, "SIGKILL");
    const store = await openStore({ kind: "sqlite", path });
    try {
      assert.deepEqual(
        (await store.audit.list({})).map((e) => e.id),
        [`kill-${durability}`],
      );
    } finally {
      await store.close();
    }
  });
}

/** A writer on a throw-away table whose WAL path is given, so a test can make the fsync fail. */
function writerWith(durability: AuditDurability, walPath: string): { writer: ChainWriter; db: DatabaseSync } {
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE TABLE audit_chain (seq INTEGER PRIMARY KEY, type TEXT, ref TEXT, time TEXT, time_ms INTEGER,
    body TEXT, prev_hash TEXT, hash TEXT)`);
  const readHead = () => {
    const row = db.prepare("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1").get();
    return row ? { seq: Number(row.seq), hash: String(row.hash) } : { seq: 0, hash: GENESIS_HASH };
  };
  return { writer: new ChainWriter(new SqliteDb(db), readHead, { durability, walPath }), db };
}

const now = () => new Date().toISOString();

test("under fsync a begin record resolves only after the WAL fsync, and a failed fsync refuses it (fail closed)", async () => {
  // A path below a regular file cannot be opened (ENOTDIR): the fsync fails.
  const { writer, db } = writerWith("fsync", join(import.meta.filename, "not-a-wal"));
  try {
    await assert.rejects(
      writer.write((_sql, append) => append("request", "r1", now(), {})),
      /ENOTDIR/,
    );
    // The record is committed (other readers may see it) but was never acknowledged as durable.
    assert.equal(db.prepare("SELECT count(*) AS n FROM audit_chain").get()?.n, 1);
  } finally {
    db.close();
  }
});

test("under fsync a completion (sync: false) resolves without waiting for an fsync", async () => {
  const { writer, db } = writerWith("fsync", join(import.meta.filename, "not-a-wal"));
  try {
    await writer.write((_sql, append) => append("request.completed", "r1", now(), {}), { sync: false });
  } finally {
    db.close();
  }
});

test("under commit no fsync is attempted: the same unusable WAL path does not fail the write", async () => {
  const { writer, db } = writerWith("commit", join(import.meta.filename, "not-a-wal"));
  try {
    const record = await writer.write((_sql, append) => append("request", "r1", now(), {}));
    assert.equal(record.seq, 1);
  } finally {
    db.close();
  }
});

test("under fsync concurrent begin records share fsyncs and all resolve in order of the chain", async () => {
  const path = freshPath();
  const store = await openStore({ kind: "sqlite", path, durability: "fsync" });
  try {
    const events = Array.from({ length: 50 }, (_, i) => auditEvent({ id: `c-${i}` }));
    await Promise.all(events.map((e) => store.audit.begin(e)));
    await Promise.all(
      events.map((e) => store.audit.complete(e.id, { status: 200, bytesIn: 0, bytesOut: 1, durationMs: 1 })),
    );
    assert.equal((await store.audit.head()).seq, 100);
  } finally {
    await store.close();
  }
});
