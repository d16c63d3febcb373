// Faults in the PostgreSQL store, with a real server (test/helpers/postgres.ts) reached through the TCP fault proxy
// (test/helpers/fault-proxy.ts), the stable address the gateway is configured with: the server stopped and started
// again, the gateway's connections killed (pg_terminate_backend), and a failover — the primary gone, a streaming
// replica (pg_basebackup -R) promoted, the proxy re-pointed to it. In each case no request is forwarded without its
// audit record (503 naming PostgreSQL, the simulator sees nothing), the gateway recovers by itself (its pool
// reconnects; no restart), and `audit verify` passes afterwards — on the promoted server too.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import pg from "pg";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { httpsJson } from "../helpers/https-json.ts";
import { type PostgresCluster, startPostgresCluster } from "../helpers/postgres.ts";

let dir: string;
let primary: PostgresCluster;
let replica: PostgresCluster | undefined;
let proxy: FaultProxy;
let sim: Simulator;
let gateway: Gateway;
let adminToken: string;
let token: string;

const call = (method: string, path: string, bearer: string, body?: unknown) =>
  httpsJson({ url: gateway.url, ca: gateway.caPem }, method, path, bearer, body);

function simPaths(): Promise<string[]> {
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
          resolve(JSON.parse(text).items.map((r: { path: string }) => r.path.split("?")[0])),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Refused with the store down: 503, a Status naming PostgreSQL, and the cluster never saw the request. */
async function assertRefused(path: string): Promise<void> {
  const refused = await call("GET", path, token);
  assert.equal(refused.code, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.kind, "Status");
  assert.match(
    refused.body.message,
    // Authentication reads the store first (identities live there), so most refusals come from that step; one that
    // passes it is refused at the audit step. Either way: 503, the store named, nothing sent.
    /airlock: the (store cannot be used|audit log cannot be written) \(the PostgreSQL server cannot be reached\), so the request was not sent/,
  );
  assert.ok(!(await simPaths()).includes(path), `the cluster saw ${path} without its audit record`);
}

/**
 * The gateway back by itself: within `seconds`, a request is recorded and forwarded (404: the configmap does not
 * exist in the cluster). Any answer before that is a 503 naming PostgreSQL; none of those reached the cluster.
 */
async function assertRecovers(prefix: string, seconds = 15): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  for (let i = 0; ; i++) {
    const path = `/api/v1/namespaces/prod/configmaps/${prefix}-${i}`;
    const answer = await call("GET", path, token);
    if (answer.code === 404) {
      assert.ok((await simPaths()).includes(path));
      return i;
    }
    assert.equal(answer.code, 503, JSON.stringify(answer.body));
    assert.match(answer.body.message, /PostgreSQL/);
    assert.ok(!(await simPaths()).includes(path), `the cluster saw ${path} without its audit record`);
    assert.ok(Date.now() < deadline, `the gateway did not recover within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function assertVerifies(): Promise<number> {
  const verify = await call("GET", "/airlock/v1/audit/verify", adminToken);
  assert.equal(verify.code, 200, JSON.stringify(verify.body));
  assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
  return verify.body.records;
}

async function adminQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-pg-faults-"));
  primary = await startPostgresCluster();
  proxy = await startFaultProxy({ port: primary.port });
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  // The gateway knows only the proxy's address: the stable address a failover keeps.
  const url = new URL(primary.adminUrl);
  url.port = String(proxy.port);
  url.pathname = "/airlock";
  await adminQuery(primary.adminUrl, "CREATE DATABASE airlock");
  const validated = validateConfig(
    {
      listen: { address: "127.0.0.1", port: 0 },
      dataDir: join(dir, "gateway"),
      clusters: [{ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }],
      policy: { builtin: "allow-authenticated" },
      store: { kind: "postgres", url: url.toString(), poolSize: 4 },
      log: { level: "error" },
    },
    dir,
  );
  if (!validated.ok) throw new Error(validated.errors.join("; "));
  gateway = await startGateway(validated.config, {
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  adminToken = (await readFile(gateway.adminTokenPath, "utf8")).trim();
  ({ token } = await gateway.store.identities.create({
    name: "pg-agent",
    kind: "agent",
    groups: ["agents"],
  }));
  assert.equal((await call("GET", "/api/v1/namespaces/prod/pods", token)).code, 200);
});

after(async () => {
  await gateway?.close();
  await proxy?.close();
  await sim?.close();
  await replica?.stop();
  await primary?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the server stopped: 503 naming PostgreSQL, nothing forwarded; started again: the pool reconnects by itself", async () => {
  await primary.stopServer("fast");
  await assertRefused("/api/v1/namespaces/prod/configmaps/stopped-1");
  await assertRefused("/api/v1/namespaces/prod/configmaps/stopped-2");
  await primary.startServer();
  await assertRecovers("restarted");
  await assertVerifies();
});

test("the gateway's connections killed (pg_terminate_backend): recovery by itself, nothing forwarded unrecorded", async () => {
  const killed = await adminQuery(
    primary.adminUrl,
    "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'airlock'",
  );
  assert.ok(killed.length > 0, "the gateway had connections to kill");
  await assertRecovers("terminated");
  // And every connection it uses now is new.
  const left = await adminQuery(
    primary.adminUrl,
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'airlock'",
  );
  assert.ok(Number(left[0]?.n) > 0, "the gateway reconnected");
  await assertVerifies();
});

test("failover: the primary gone, a promoted replica behind the same address; the chain continues and verifies", async () => {
  replica = await primary.replicate();
  // Traffic while the replica streams; then wait until it has replayed everything the primary wrote.
  for (let i = 0; i < 5; i++) {
    assert.equal((await call("GET", `/api/v1/namespaces/prod/configmaps/before-${i}`, token)).code, 404);
  }
  const before = await assertVerifies();
  const [lsn] = await adminQuery(primary.adminUrl, "SELECT pg_current_wal_lsn()::text AS lsn");
  for (let i = 0; ; i++) {
    const [caught] = await adminQuery(
      replica.adminUrl,
      `SELECT pg_last_wal_replay_lsn() >= '${lsn?.lsn}'::pg_lsn AS ok`,
    );
    if (caught?.ok === true) break;
    assert.ok(i < 100, "the replica did not catch up");
    await new Promise((r) => setTimeout(r, 100));
  }

  // The primary dies (as a crash), the replica is promoted, the stable address now leads to it.
  await primary.stopServer("immediate");
  await assertRefused("/api/v1/namespaces/prod/configmaps/failover-1");
  await replica.promote();
  proxy.retarget(replica.port);
  proxy.dropAll();
  await assertRecovers("promoted");
  const afterFailover = await assertVerifies();
  assert.ok(
    afterFailover > before,
    `the chain continued on the promoted server (${before} -> ${afterFailover})`,
  );
  const verified = await adminQuery(
    replica.adminUrl.replace(/\/postgres$/, "/airlock"),
    "SELECT count(*)::int AS n FROM airlock.audit_events WHERE path LIKE '%/before-%'",
  );
  assert.equal(Number(verified[0]?.n), 5, "what was written before the failover is on the promoted server");
});
