import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { hashToken } from "../../src/shared/tokens.ts";
import { openStore } from "../../src/store/index.ts";
import { SqliteDb } from "../../src/store/sqlite-db.ts";
import { auditEvent, storeContract } from "./contract.ts";
import { runnerContract } from "./contract-runner.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `s${++n}`, "airlock.db");

storeContract("sqlite", { open: (now) => openStore({ kind: "sqlite", path: freshPath(), now }) });
runnerContract("sqlite", async () => {
  const raw = new DatabaseSync(":memory:");
  return { db: new SqliteDb(raw), close: async () => raw.close() };
});

test("the database file is created 0600 and in WAL mode", async () => {
  const path = freshPath();
  const store = await openStore({ kind: "sqlite", path });
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const db = new DatabaseSync(path, { readOnly: true });
    assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    db.close();
  } finally {
    await store.close();
  }
});

test("identities and audit events survive closing and reopening the store", async () => {
  const path = freshPath();
  const first = await openStore({ kind: "sqlite", path });
  const { token } = await first.identities.create({ name: "kept", kind: "agent", groups: ["g"] });
  await first.audit.begin(auditEvent({ id: "kept-event" }));
  await first.close();
  const second = await openStore({ kind: "sqlite", path });
  try {
    assert.equal((await second.identities.authenticateToken(hashToken(token)))?.identity.name, "kept");
    assert.deepEqual(
      (await second.audit.list({})).map((e) => e.id),
      ["kept-event"],
    );
  } finally {
    await second.close();
  }
});

test("an audit event is on disk once audit.begin resolves, even if the process is killed right after", async () => {
  const path = freshPath();
  (await openStore({ kind: "sqlite", path })).close();
  const script = `
    const { openStore } = await import(${JSON.stringify(new URL("../../src/store/index.ts", import.meta.url).href)});
    const store = await openStore({ kind: "sqlite", path: ${JSON.stringify(path)} });
    await store.audit.begin(${JSON.stringify(auditEvent({ id: "before-kill" }))});
    process.kill(process.pid, "SIGKILL");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
  const [, signal] = await once(child, "exit");
  assert.equal(signal, "SIGKILL");
  const store = await openStore({ kind: "sqlite", path });
  try {
    assert.deepEqual(
      (await store.audit.list({})).map((e) => e.id),
      ["before-kill"],
    );
  } finally {
    await store.close();
  }
});

test("a read-only store still authenticates but rejects audit.begin (how a failing audit write is simulated)", async () => {
  const path = freshPath();
  const writable = await openStore({ kind: "sqlite", path });
  const { token } = await writable.identities.create({ name: "ro", kind: "agent", groups: [] });
  await writable.close();
  const readOnly = await openStore({ kind: "sqlite", path, readOnly: true });
  try {
    assert.equal((await readOnly.identities.authenticateToken(hashToken(token)))?.identity.name, "ro");
    await assert.rejects(readOnly.audit.begin(auditEvent()), /readonly/);
    await assert.rejects(readOnly.identities.create({ name: "new", kind: "agent", groups: [] }), /readonly/);
    assert.deepEqual(await readOnly.audit.list({}), []);
  } finally {
    await readOnly.close();
  }
});

test("a database from a newer Airlock is refused rather than misread", async () => {
  const path = freshPath();
  (await openStore({ kind: "sqlite", path })).close();
  const db = new DatabaseSync(path);
  db.exec("PRAGMA user_version = 999");
  db.close();
  await assert.rejects(openStore({ kind: "sqlite", path }), /newer than this Airlock understands/);
});

test("last-used is written at most once a minute per credential", async () => {
  let now = Date.parse("2026-03-01T10:00:00.000Z");
  const store = await openStore({ kind: "sqlite", path: freshPath(), now: () => now });
  try {
    const { token } = await store.identities.create({ name: "busy", kind: "agent", groups: [] });
    const first = new Date(now).toISOString();
    await store.identities.authenticateToken(hashToken(token));
    now += 30_000;
    assert.equal((await store.identities.authenticateToken(hashToken(token)))?.identity.lastUsedAt, first);
    now += 31_000;
    await store.identities.authenticateToken(hashToken(token));
    assert.equal((await store.identities.get("busy"))?.lastUsedAt, new Date(now).toISOString());
  } finally {
    await store.close();
  }
});

test("session saves and last-used marks commit without an fsync (synchronous=NORMAL); every other write stays FULL", async () => {
  // The level each statement of interest ran at, read on the same connection just before it runs.
  const seen = new Map<string, number>();
  const original = SqliteDb.prototype.statement;
  SqliteDb.prototype.statement = function (this: SqliteDb, text: string) {
    const kind = /INSERT INTO sessions|UPDATE credentials SET last_used_at|INSERT INTO identities/.exec(
      text,
    )?.[0];
    if (kind) {
      const row = this.raw.prepare("PRAGMA synchronous").get() as { synchronous: number };
      seen.set(kind, row.synchronous);
    }
    return original.call(this, text);
  };
  const store = await openStore({ kind: "sqlite", path: freshPath() });
  try {
    const { token, identity } = await store.identities.create({ name: "relaxed", kind: "agent", groups: [] });
    await store.identities.authenticateToken(hashToken(token));
    const at = new Date().toISOString();
    await store.sessions.save({
      id: "s1",
      kind: "window",
      key: "k",
      identityId: identity.id,
      identityName: "relaxed",
      cluster: "sim",
      startedAt: at,
      lastSeenAt: at,
      requests: 1,
      decisions: { allow: 1, deny: 0, review: 0 },
      commands: [],
      actions: [],
      claimMismatches: [],
    } as never);
    // A write after the relaxed ones: the connection is back at FULL.
    await store.identities.create({ name: "after", kind: "agent", groups: [] });
    assert.equal(seen.get("INSERT INTO identities"), 2, "identity writes stay FULL");
    assert.equal(seen.get("UPDATE credentials SET last_used_at"), 1, "last-used mark at NORMAL");
    assert.equal(seen.get("INSERT INTO sessions"), 1, "session save at NORMAL");
    assert.equal((await store.sessions.get("s1"))?.requests, 1);
  } finally {
    SqliteDb.prototype.statement = original;
    await store.close();
  }
});
