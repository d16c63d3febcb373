// `airlock serve` with two worker processes (workers: 2; src/server/workers.ts) on one data directory, with the SQLite
// store and with PostgreSQL, in front of the simulator: both workers serve, and what must behave as one does — a rate limit is one budget, a revocation
// made through one worker closes the identity's streams on the other within a second and refuses its next request
// there, a policy change through one is in force on the other within a second, one audit chain verifies, and a worker
// that crashes is replaced while the gateway keeps answering. Requests are pinned to a worker by keeping an HTTP/1.1
// connection whose /healthz answer named it (`airlock-worker`).
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { loadOrCreateSigningKey } from "../../src/audit/signing.ts";
import { verifyAuditLog } from "../../src/audit/verify.ts";
import { openStore } from "../../src/store/index.ts";
import { airlock, serveAirlock } from "../helpers/cli.ts";
import { eventually, eventuallyMatches } from "../helpers/eventually.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { allAuditEvents } from "../reliability/support.ts";

const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata:
  name: test
spec:
  subjects: [{ group: agents }]
  rules:
    - name: few-reads
      verbs: [get]
      resources: [configmaps]
      namespaces: [staging]
      effect: allow
      rateLimit: { requests: 4, per: 1m }
    - name: the-rest
      verbs: ["*"]
      effect: allow
`;

let dir: string;
let sim: Simulator;
let pgServer: TestPostgres | undefined;
let pgUrl = "";
/** The data directory of the gateway under test. */
let data: string;
let child: ChildProcess;
let url: string;
let ca: string;
let admin: string;
let output: () => string;
const agents: Agent[] = [];

interface Answer {
  code: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** One request; through `agent` (a connection pinned to one worker) or a fresh connection. */
function call(method: string, path: string, token: string, agent?: Agent, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method,
        ca,
        agent: agent ?? false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ code: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
        res.on("error", reject);
        // A connection cut mid-answer (its worker killed) may end the answer without "end" or "error".
        res.on("close", () => reject(new Error("the answer was cut off")));
      },
    );
    req.on("error", reject);
    req.on("close", () => reject(new Error("the connection closed before an answer")));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A keep-alive connection (HTTP/1.1, one socket) that worker `n` answers. */
async function pinned(n: number): Promise<Agent> {
  for (let i = 0; i < 40; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const health = await call("GET", "/healthz", "", agent);
    if (health.headers["airlock-worker"] === String(n)) {
      agents.push(agent);
      return agent;
    }
    agent.destroy();
  }
  throw new Error(`no connection reached worker ${n} in 40 tries`);
}

async function createAgent(name: string): Promise<string> {
  const created = await call("POST", "/airlock/v1/identities", admin, undefined, {
    name,
    kind: "agent",
    groups: ["agents"],
  });
  assert.equal(created.code, 201, JSON.stringify(created.body));
  return created.body.token;
}

function workerPids(): Map<number, number> {
  const pids = new Map<number, number>();
  for (const m of output().matchAll(/worker (\d+) pid (\d+) listening/g))
    pids.set(Number(m[1]), Number(m[2]));
  return pids;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-workers-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "test.yaml"), POLICY);
});

after(async () => {
  await sim?.close();
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
});

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`two workers on ${engine}`, () => {
    before(async () => {
      data = join(dir, `data-${engine}`);
      let store = "store: { kind: sqlite }";
      if (engine === "postgres") {
        pgServer = await startTestPostgres();
        pgUrl = await pgServer.createDatabase("workers");
        store = `store: { kind: postgres, url: "${pgUrl}" }`;
      }
      const config = join(dir, `airlock-${engine}.yaml`);
      await writeFile(
        config,
        [
          "listen: { address: 127.0.0.1, port: 0 }",
          `dataDir: ${data}`,
          `clusters: [{ name: sim, kubeconfig: { path: ${sim.kubeconfigPath} } }]`,
          `policy: { files: [${join(dir, "policies")}] }`,
          store,
          "workers: 2",
          "log: { level: error }",
          "",
        ].join("\n"),
      );
      const served = await serveAirlock(config, { timeoutMs: 180_000 });
      ({ child, url, output } = served);
      ca = await readFile(join(data, "tls", "ca.crt"), "utf8");
      admin = (await readFile(join(data, "admin.token"), "utf8")).trim();
    });

    after(() => {
      for (const agent of agents.splice(0)) agent.destroy();
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const pid of workerPids().values()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    });

    test("two workers share the port and both answer Kubernetes requests", async () => {
      assert.match(output(), /\(2 workers\)/);
      assert.equal(workerPids().size, 2, output());
      const token = await createAgent("both");
      for (const n of [1, 2]) {
        const agent = await pinned(n);
        const pods = await call("GET", "/api/v1/namespaces/prod/pods", token, agent);
        assert.equal(pods.code, 200, `worker ${n}: ${JSON.stringify(pods.body)}`);
        assert.ok(pods.body.items.length > 0);
      }
    });

    test("a rate limit is one budget for both workers: 4 a minute in total, then 429 on either", async () => {
      const token = await createAgent("limited");
      const one = await pinned(1);
      const two = await pinned(2);
      const codes: number[] = [];
      let last: Answer | undefined;
      for (let i = 0; i < 6; i++) {
        last = await call("GET", "/api/v1/namespaces/staging/configmaps/none", token, i % 2 ? two : one);
        codes.push(last.code);
      }
      assert.deepEqual(codes, [404, 404, 404, 404, 429, 429]);
      assert.match(last?.body.message ?? "", /few-reads/);
      assert.ok(last?.headers["retry-after"]);
    });

    test("revoking an agent through worker 1 closes its watch on worker 2 within a second and refuses it there", async () => {
      const token = await createAgent("watcher");
      const onTwo = await pinned(2);
      const opened = Promise.withResolvers<void>();
      const closed = Promise.withResolvers<number>();
      const req = request(
        `${url}/api/v1/namespaces/prod/configmaps?watch=true`,
        { ca, agent: onTwo, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          assert.equal(res.statusCode, 200);
          opened.resolve();
          res.resume();
          res.on("close", () => closed.resolve(Date.now()));
        },
      );
      req.on("error", () => closed.resolve(Date.now()));
      req.end();
      await opened.promise;
      await new Promise((r) => setTimeout(r, 200)); // registered as a live stream
      const revoked = await call("POST", "/airlock/v1/identities/watcher/revoke", admin, await pinned(1));
      assert.equal(revoked.code, 200, JSON.stringify(revoked.body));
      const revokedAt = Date.now();
      const timeout = setTimeout(() => closed.resolve(Number.POSITIVE_INFINITY), 5000);
      const at = await closed.promise;
      clearTimeout(timeout);
      req.destroy();
      assert.ok(
        at - revokedAt < 1000,
        `the watch on worker 2 closed ${at - revokedAt} ms after the revocation`,
      );
      const refused = await call("GET", "/api/v1/namespaces/prod/pods", token, await pinned(2));
      assert.equal(refused.code, 401, "and its next request on worker 2 is refused");
    });

    test("a policy put through worker 1 is in force on worker 2 within a second", async () => {
      const token = await createAgent("ruled");
      const one = await pinned(1);
      const two = await pinned(2);
      const path = "/api/v1/namespaces/default/configmaps";
      assert.equal((await call("GET", path, token, two)).code, 200);
      const put = await call("PUT", "/airlock/v1/policies/no-default", admin, one, {
        apiVersion: "airlock.dev/v1alpha1",
        kind: "Policy",
        metadata: { name: "no-default" },
        spec: {
          subjects: [{ group: "agents" }],
          rules: [{ name: "keep-out", verbs: ["*"], namespaces: ["default"], effect: "deny" }],
        },
      });
      assert.equal(put.code, 201, JSON.stringify(put.body));
      const putAt = Date.now();
      const refused = await eventually(
        "worker 2 to refuse by the new policy",
        async () => {
          const r = await call("GET", path, token, two);
          return r.code === 403 ? r : undefined;
        },
        { timeoutMs: 5000, intervalMs: 50 },
      );
      const took = Date.now() - putAt;
      assert.ok(took < 1000, `worker 2 took the new policy ${took} ms after the put on worker 1`);
      assert.match(refused.body.message, /keep-out/);
    });

    test("a worker killed under load is replaced; the gateway keeps answering and the audit chain verifies", async () => {
      const token = await createAgent("steady");
      const before = workerPids();
      const victim = before.get(2) as number;
      let stop = false;
      const codes: number[] = [];
      const loop = async () => {
        while (!stop) {
          const r = await call("GET", "/api/v1/namespaces/prod/pods", token).catch(() => undefined);
          if (r) codes.push(r.code);
        }
      };
      const loops = [loop(), loop(), loop()];
      try {
        await new Promise((r) => setTimeout(r, 500));
        process.kill(victim, "SIGKILL");
        await eventuallyMatches(output, new RegExp(`worker 2 pid (?!${victim}\\b)\\d+ listening`), 120_000);
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      assert.ok(codes.length > 10, `the load ran (${codes.length} answers)`);
      // Some requests of the killed worker may have been cut; whatever was answered was answered properly.
      assert.deepEqual(
        codes.filter((c) => c !== 200),
        [],
      );
      assert.notEqual(workerPids().get(2), victim);
      assert.equal((await call("GET", "/api/v1/namespaces/prod/pods", token, await pinned(2))).code, 200);
      const verified = await airlock(["audit", "verify"], {
        HOME: dir,
        AIRLOCK_SERVER: url,
        AIRLOCK_TOKEN: admin,
        AIRLOCK_CA: join(data, "tls", "ca.crt"),
      });
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    });

    test("SIGTERM stops every worker and the primary (exit 0); the chain verifies offline with every event", async () => {
      const pids = [...workerPids().values()];
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      child.kill("SIGTERM");
      const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
      assert.equal(await exited, 0, output());
      clearTimeout(deadline);
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), "worker pid is gone");
      const key = await loadOrCreateSigningKey(data);
      if (engine === "sqlite") {
        // What an auditor runs on a copy of the file: the CLI, offline.
        const pubkey = await airlock(["audit", "pubkey", "--data-dir", data]);
        assert.equal(pubkey.code, 0, pubkey.stderr);
        await writeFile(join(dir, "audit.pub"), pubkey.stdout);
        await copyFile(join(data, "airlock.db"), join(dir, "copy.db"));
        const verified = await airlock([
          "audit",
          "verify",
          "--db",
          join(dir, "copy.db"),
          "--pubkey",
          join(dir, "audit.pub"),
        ]);
        assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      }
      const store = await openStore(
        engine === "sqlite"
          ? { kind: "sqlite", path: join(data, "airlock.db") }
          : { kind: "postgres", url: pgUrl },
      );
      try {
        const report = await verifyAuditLog(store, key.publicKey);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        const events = await allAuditEvents(store);
        assert.ok(events.length > 20, `${events.length} events`);
      } finally {
        await store.close();
      }
    });
  });
}

test("airlock serve refuses a --workers that is not a whole number from 1 to 64, and says what to pass", async () => {
  for (const bad of ["0", "65", "two", "1.5"]) {
    const run = await airlock(["serve", "--config", join(dir, "policies", "test.yaml"), "--workers", bad]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--workers takes a whole number from 1 to 64 .*--workers 2/);
  }
});
