// Group commit of the audit chain, end to end on both engines (a real gateway, the simulator, real HTTP/2 streams):
// the begin records of concurrent requests commit in fewer transactions than there are requests, every record is
// there and the chain verifies; and when a batch's COMMIT fails, every request of that batch is refused with a
// Status and none of them reaches the cluster (write-ahead: nothing is forwarded before its record is durable).
//
// The failing COMMIT is real: a trigger on audit_chain inserts a row breaking a DEFERRED foreign key, which both
// engines check only at COMMIT — after every write of the batch succeeded in its own savepoint.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import http2 from "node:http2";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import pg from "pg";
import { loadOrCreateSigningKey } from "../../src/audit/signing.ts";
import { verifyAuditLog } from "../../src/audit/verify.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { allAuditEvents } from "../reliability/support.ts";

let dir: string;
let sim: Simulator;
let pgServer: TestPostgres | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-group-commit-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
});

after(async () => {
  await sim?.close();
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** What the simulator answered so far: method and path of each request. */
function simSaw(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}/sim/v1/requests`,
      { ca: sim.caPem, headers: { authorization: `Bearer ${sim.adminToken}` } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () =>
          resolve(
            (JSON.parse(text).items as { method: string; path: string }[]).map(
              (r) => `${r.method} ${r.path}`,
            ),
          ),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** `paths` as concurrent streams of one HTTP/2 connection (as kubectl and client-go send them). */
async function concurrently(
  gateway: Gateway,
  token: string,
  paths: string[],
): Promise<{ code: number; body: { kind?: string; message?: string } }[]> {
  const session = http2.connect(gateway.url, { ca: gateway.caPem });
  try {
    return await Promise.all(
      paths.map(
        (path) =>
          new Promise<{ code: number; body: { kind?: string; message?: string } }>((resolve, reject) => {
            const stream = session.request({ ":path": path, authorization: `Bearer ${token}` });
            let code = 0;
            let text = "";
            stream.on("response", (headers) => {
              code = Number(headers[":status"]);
            });
            stream.setEncoding("utf8").on("data", (d: string) => {
              text += d;
            });
            stream.on("end", () => resolve({ code, body: JSON.parse(text) }));
            stream.on("error", reject);
            stream.end();
          }),
      ),
    );
  } finally {
    session.close();
  }
}

interface Engine {
  name: string;
  store(): Promise<Record<string, unknown>>;
  /** Makes every later COMMIT that appends to the chain fail (true) or succeed again (false). */
  breakCommits(gateway: Gateway, broken: boolean): Promise<void>;
}

const sqlite: Engine = {
  name: "sqlite",
  store: async () => ({ kind: "sqlite" }),
  async breakCommits(gateway, broken) {
    const db = new DatabaseSync(join(gateway.runtime.config.dataDir, "airlock.db"), {
      enableForeignKeyConstraints: true,
    });
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec(
        broken
          ? `CREATE TABLE IF NOT EXISTS gc_parent (id INTEGER PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS gc_orphan (parent INTEGER REFERENCES gc_parent (id) DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER gc_break AFTER INSERT ON audit_chain BEGIN INSERT INTO gc_orphan VALUES (1); END;`
          : "DROP TRIGGER gc_break",
      );
    } finally {
      db.close();
    }
  },
};

const postgres: Engine = {
  name: "postgres",
  async store() {
    pgServer ??= await startTestPostgres();
    return { kind: "postgres", url: await pgServer.createDatabase("gc") };
  },
  async breakCommits(gateway, broken) {
    const store = gateway.runtime.config.store as { url: string };
    const client = new pg.Client({ connectionString: store.url });
    await client.connect();
    try {
      await client.query(
        broken
          ? `CREATE TABLE IF NOT EXISTS airlock.gc_parent (id int PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS airlock.gc_orphan
               (parent int REFERENCES airlock.gc_parent (id) DEFERRABLE INITIALLY DEFERRED);
             CREATE OR REPLACE FUNCTION airlock.gc_break() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN INSERT INTO airlock.gc_orphan VALUES (1); RETURN NULL; END $$;
             CREATE TRIGGER gc_break AFTER INSERT ON airlock.audit_chain
               FOR EACH STATEMENT EXECUTE FUNCTION airlock.gc_break();`
          : "DROP TRIGGER gc_break ON airlock.audit_chain",
      );
    } finally {
      await client.end();
    }
  },
};

for (const engine of [sqlite, postgres]) {
  describe(`group commit (${engine.name})`, () => {
    let gateway: Gateway;
    let token: string;

    before(async () => {
      const validated = validateConfig(
        {
          listen: { address: "127.0.0.1", port: 0 },
          dataDir: join(dir, `gateway-${engine.name}`),
          clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
          store: await engine.store(),
          policy: { builtin: "allow-authenticated" },
          log: { level: "silent" },
        },
        dir,
      );
      if (!validated.ok) throw new Error(validated.errors.join("; "));
      gateway = await startGateway(validated.config);
      ({ token } = await gateway.store.identities.create({
        name: `bot-${engine.name}`,
        kind: "agent",
        groups: ["agents"],
      }));
    });

    after(async () => {
      await gateway?.close(0);
    });

    test("32 concurrent requests: fewer transactions than requests, every record there, the chain verifies", async () => {
      const before = gateway.store.audit.commitStats();
      const paths = Array.from({ length: 32 }, (_, i) => `/api/v1/namespaces/prod/configmaps/gc-ok-${i}`);
      const answers = await concurrently(gateway, token, paths);
      assert.deepEqual(
        answers.map((a) => a.code),
        paths.map(() => 404),
        "every request was forwarded and answered by the cluster",
      );
      // Completions are written after each answer: wait for all 32, then count.
      const events = await eventually(
        "every event to be complete",
        async () => {
          const found = (await allAuditEvents(gateway.store)).filter((e) => e.path.includes("/gc-ok-"));
          return found.length === 32 && found.every((e) => e.completedAt !== null) ? found : undefined;
        },
        { timeoutMs: 10_000 },
      );
      assert.ok(events.every((e) => e.status === 404));
      const afterStats = gateway.store.audit.commitStats();
      const batches = afterStats.batches - before.batches;
      const writes = afterStats.writes - before.writes;
      assert.ok(writes >= 64, `${writes} chained writes: 32 begin and 32 completion records at least`);
      assert.ok(batches < 32, `${batches} transactions carried the ${writes} writes of 32 requests`);
      const key = await loadOrCreateSigningKey(gateway.runtime.config.dataDir);
      const report = await verifyAuditLog(gateway.store, key.publicKey);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
    });

    test("a COMMIT that fails refuses every request of its batch with a Status; none reaches the cluster", async () => {
      const before = gateway.store.audit.commitStats();
      await engine.breakCommits(gateway, true);
      const paths = Array.from({ length: 12 }, (_, i) => `/api/v1/namespaces/prod/configmaps/gc-fail-${i}`);
      let answers: Awaited<ReturnType<typeof concurrently>>;
      try {
        answers = await concurrently(gateway, token, paths);
      } finally {
        await engine.breakCommits(gateway, false);
      }
      for (const answer of answers) {
        assert.equal(answer.code, 503, JSON.stringify(answer.body));
        assert.equal(answer.body.kind, "Status");
        assert.match(answer.body.message ?? "", /audit|store|database/i);
      }
      const batches = gateway.store.audit.commitStats().batches - before.batches;
      assert.ok(batches < 12, `the 12 refused requests shared ${batches} failed transactions`);
      assert.deepEqual(
        (await simSaw()).filter((r) => r.includes("/gc-fail-")),
        [],
        "the cluster saw none of them",
      );
      // Nothing of the failed batches is in the log, and the chain goes on unbroken.
      assert.equal(
        (await allAuditEvents(gateway.store)).filter((e) => e.path.includes("/gc-fail-")).length,
        0,
      );
      const next = await concurrently(gateway, token, ["/api/v1/namespaces/prod/configmaps/gc-after"]);
      assert.equal(next[0]?.code, 404);
      const key = await loadOrCreateSigningKey(gateway.runtime.config.dataDir);
      const report = await verifyAuditLog(gateway.store, key.publicKey);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
    });
  });
}
