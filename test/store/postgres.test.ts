// The PostgreSQL engine: the store contract (as SQLite runs it), plus what only a shared database has — migrations
// applied once by replicas starting together, a newer schema refused, the write-ahead guarantee seen from another
// connection and across a killed process, and one valid audit chain from several concurrent writers.
//
// Needs PostgreSQL: AIRLOCK_TEST_PG_URL, or the Debian binaries for a throwaway cluster (test/helpers/postgres.ts).
// Without either these tests fail with a message saying how to install it; they are never skipped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import pg from "pg";
import { GENESIS_HASH } from "../../src/audit/chain.ts";
import { generateSigningKey } from "../../src/audit/signing.ts";
import { verifyAuditLog } from "../../src/audit/verify.ts";
import { hashToken } from "../../src/shared/tokens.ts";
import { openStore } from "../../src/store/index.ts";
import { Db, redactUrl } from "../../src/store/pg/db.ts";
import type { Store } from "../../src/store/types.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { auditEvent, storeContract } from "./contract.ts";
import { runnerContract } from "./contract-runner.ts";

let server: TestPostgres | undefined;
const ready = startTestPostgres().then((s) => {
  server = s;
  return s;
});
// Surfaced by the first test that needs the server, not as an unhandled rejection.
ready.catch(() => {});
after(async () => {
  await server?.stop();
});

let n = 0;
const freshSchema = () => `t${process.pid}_${++n}`;
const open = async (schema: string, now?: () => number): Promise<Store> =>
  openStore({ kind: "postgres", url: (await ready).url, schema, ...(now ? { now } : {}) });

before(async () => {
  await ready; // fail here, loudly, when PostgreSQL is missing
});

storeContract("postgres", { open: (now) => open(freshSchema(), now) });
runnerContract("postgres", async () => {
  const schema = freshSchema();
  const db = new Db({ url: (await ready).url, schema });
  await db.run(`CREATE SCHEMA ${schema}`);
  return { db, close: () => db.close() };
});

async function query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: (await ready).url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test("replicas starting together migrate once, and a reopened database keeps its data", async () => {
  const schema = freshSchema();
  const [a, b] = await Promise.all([open(schema), open(schema)]);
  try {
    const { token } = await a.identities.create({ name: "shared", kind: "agent", groups: ["g"] });
    assert.equal((await b.identities.authenticateToken(hashToken(token)))?.identity.name, "shared");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  const again = await open(schema);
  try {
    assert.equal((await again.identities.get("shared"))?.groups[0], "g");
    const rows = await query(`SELECT version FROM ${schema}.airlock_schema_version`);
    assert.equal(rows.length, 1);
  } finally {
    await again.close();
  }
});

test("a database from a newer Airlock is refused rather than misread", async () => {
  const schema = freshSchema();
  await (await open(schema)).close();
  await query(`UPDATE ${schema}.airlock_schema_version SET version = 999`);
  await assert.rejects(open(schema), /newer than this Airlock understands/);
});

test("an audit event is visible to another connection as soon as audit.begin resolves", async () => {
  const schema = freshSchema();
  const store = await open(schema);
  try {
    const event = auditEvent({ id: "seen-elsewhere" });
    await store.audit.begin(event);
    const rows = await query(`SELECT id, chain_seq FROM ${schema}.audit_events WHERE id = $1`, [event.id]);
    assert.equal(rows[0]?.id, "seen-elsewhere");
    const chain = await query(`SELECT type, ref FROM ${schema}.audit_chain WHERE seq = $1`, [
      Number(rows[0]?.chain_seq),
    ]);
    assert.deepEqual(chain[0], { type: "request", ref: "seen-elsewhere" });
  } finally {
    await store.close();
  }
});

test("an audit event is committed once audit.begin resolves, even if the process is killed right after", async () => {
  const schema = freshSchema();
  await (await open(schema)).close();
  const url = (await ready).url;
  const script = `
    const { openStore } = await import(${JSON.stringify(new URL("../../src/store/index.ts", import.meta.url).href)});
    const store = await openStore({ kind: "postgres", url: process.env.PG_URL, schema: ${JSON.stringify(schema)} });
    await store.audit.begin(${JSON.stringify(auditEvent({ id: "before-kill" }))});
    process.kill(process.pid, "SIGKILL");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: "inherit",
    env: { ...process.env, PG_URL: url },
  });
  const [, signal] = await once(child, "exit");
  assert.equal(signal, "SIGKILL");
  const store = await open(schema);
  try {
    assert.deepEqual(
      (await store.audit.list({})).map((e) => e.id),
      ["before-kill"],
    );
  } finally {
    await store.close();
  }
});

test("two stores writing the audit chain in parallel on one database produce one valid chain", async () => {
  const schema = freshSchema();
  const [a, b] = await Promise.all([open(schema), open(schema)]);
  try {
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      for (const [name, store] of [
        ["a", a],
        ["b", b],
      ] as const) {
        const id = `${name}-${i}`;
        writes.push(
          store.audit
            .begin(auditEvent({ id }))
            .then(() => store.audit.complete(id, { status: 200, bytesIn: 1, bytesOut: 2, durationMs: 3 })),
        );
        if (i % 10 === 0)
          writes.push(store.audit.note({ type: "policy.changed", actor: name, subject: `p${i}` }));
      }
    }
    await Promise.all(writes);
    const head = await a.audit.head();
    assert.deepEqual(await b.audit.head(), head, "both replicas read the same head");
    assert.equal(head.seq, 2 * 60 * 2 + 2 * 6, "every write is one record (begin, completion, note)");
    const records = await a.audit.records({ afterSeq: 0, limit: 1000 });
    assert.deepEqual(
      records.map((r) => r.seq),
      records.map((_, i) => i + 1),
      "no gaps and no duplicates",
    );
    let prev = GENESIS_HASH;
    for (const r of records) {
      assert.equal(r.prevHash, prev, `record ${r.seq} links to the one before it`);
      prev = r.hash;
    }
    const writers = new Set(records.map((r) => r.ref.slice(0, 1)));
    assert.ok(writers.has("a") && writers.has("b"));
    const report = await verifyAuditLog(a, generateSigningKey().publicKey);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.records, head.seq);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("a failed connection names the server but never the password", async () => {
  const url = new URL((await ready).url);
  url.password = "wrong-secret-password";
  const attempt = openStore({ kind: "postgres", url: url.toString(), schema: freshSchema() });
  const err = await attempt.then(
    () => assert.fail("a wrong password must not open the store"),
    (e: unknown) => e as Error,
  );
  assert.ok(!String(err.message).includes("wrong-secret-password"), err.message);
  assert.ok(!String(err.stack).includes("wrong-secret-password"));
  assert.ok(!redactUrl(url.toString()).includes("wrong-secret-password"));
});

test("a schema name that is not a plain SQL name is refused before any SQL runs", async () => {
  await assert.rejects(
    openStore({ kind: "postgres", url: (await ready).url, schema: "x; DROP TABLE y" }),
    /not a plain lower-case SQL name/,
  );
});

test("without PostgreSQL binaries or AIRLOCK_TEST_PG_URL the helper fails, saying to install postgresql", async () => {
  await assert.rejects(
    startTestPostgres({ externalUrl: undefined, binRoot: "/nonexistent/postgresql" }),
    /install the Debian package \(apt-get install -y postgresql/,
  );
});
