// The SQL runner's contract (src/store/sql.ts), run against both engines' runners: what every table relies on.
// Transactions are all-or-nothing, and a transaction is isolated from statements issued while it is open — on
// SQLite's one connection that takes the runner holding the connection (sqlite-db.ts); without it an outside write
// would land inside the transaction and be rolled back with it after it was acknowledged.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Db } from "../../src/store/sql.ts";

export function runnerContract(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let n = 0;
  const withDb = async (work: (db: Db, table: string) => Promise<void>) => {
    const { db, close } = await open();
    const table = `runner_t${++n}`;
    try {
      await db.run(`CREATE TABLE ${table} (v TEXT PRIMARY KEY)`);
      await work(db, table);
    } finally {
      await close();
    }
  };
  const values = async (db: Db, table: string) =>
    (await db.all(`SELECT v FROM ${table} ORDER BY v`)).map((r) => String(r.v));

  describe(`SQL runner contract: ${name}`, () => {
    test("a transaction commits all its statements, or none when it throws", () =>
      withDb(async (db, table) => {
        await db.tx(async (sql) => {
          await sql.run(`INSERT INTO ${table} (v) VALUES (?)`, ["a"]);
          await sql.run(`INSERT INTO ${table} (v) VALUES (?)`, ["b"]);
        });
        await assert.rejects(
          db.tx(async (sql) => {
            await sql.run(`INSERT INTO ${table} (v) VALUES (?)`, ["c"]);
            throw new Error("changed my mind");
          }),
          /changed my mind/,
        );
        assert.deepEqual(await values(db, table), ["a", "b"]);
      }));

    test("statements issued while a transaction is open are not part of it: a rollback keeps their write and hides its own", () =>
      withDb(async (db, table) => {
        let inserted: () => void = () => {};
        const insertedInside = new Promise<void>((resolve) => {
          inserted = resolve;
        });
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const rolledBack = db.tx(async (sql) => {
          await sql.run(`INSERT INTO ${table} (v) VALUES (?)`, ["inside"]);
          inserted();
          await gate;
          throw new Error("roll back");
        });
        await insertedInside;
        // Issued while the transaction is open (it waits on the gate between two of its statements).
        const write = db.run(`INSERT INTO ${table} (v) VALUES (?)`, ["outside"]);
        const read = db.get(`SELECT v FROM ${table} WHERE v = ?`, ["inside"]);
        release();
        await assert.rejects(rolledBack, /roll back/);
        assert.equal(await write, 1);
        assert.equal(
          await read,
          undefined,
          "an uncommitted row that was rolled back was never visible outside",
        );
        assert.deepEqual(await values(db, table), ["outside"]);
      }));

    test("a ? inside quoted text is data, not a placeholder", () =>
      withDb(async (db) => {
        const row = await db.get("SELECT '?' AS q, CAST(? AS TEXT) AS v", ["x"]);
        assert.deepEqual({ q: row?.q, v: row?.v }, { q: "?", v: "x" });
      }));

    test("run counts the rows a write changed; RETURNING rows come back from get", () =>
      withDb(async (db, table) => {
        await db.run(`INSERT INTO ${table} (v) VALUES (?), (?)`, ["a", "b"]);
        assert.equal(await db.run(`UPDATE ${table} SET v = v || '!' WHERE v <> ?`, ["zz"]), 2);
        assert.deepEqual(
          { ...(await db.get(`DELETE FROM ${table} WHERE v = ? RETURNING v`, ["a!"])) },
          { v: "a!" },
        );
        assert.equal(await db.run(`DELETE FROM ${table} WHERE v = ?`, ["nothing"]), 0);
      }));

    test("the dialect recognises a unique violation, and only that", () =>
      withDb(async (db, table) => {
        await db.run(`INSERT INTO ${table} (v) VALUES (?)`, ["once"]);
        const duplicate = await db
          .run(`INSERT INTO ${table} (v) VALUES (?)`, ["once"])
          .catch((err: unknown) => err);
        assert.ok(duplicate instanceof Error);
        assert.equal(db.dialect.isUniqueViolation(duplicate), true);
        const syntax = await db.run("SELEKT 1").catch((err: unknown) => err);
        assert.ok(syntax instanceof Error);
        assert.equal(db.dialect.isUniqueViolation(syntax), false);
      }));
  });
}
