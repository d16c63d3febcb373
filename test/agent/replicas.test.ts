// Tunnels with two gateway replicas on one PostgreSQL database (docs/agent.md "Revocation"): an agent joined through
// replica A (token made there) connects to replica B and carries B's requests; revoking it through A's admin API
// closes its tunnel on B, with the exec session on it, within a second, and B refuses it after. The replicas share
// the agent CA (dataDir/tls/agent-ca.*, "the same" on every replica). Needs PostgreSQL; fails, never skips.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { loadAgentCa } from "../../src/agent/ca.ts";
import { Agent } from "../../src/agent/run.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { openUpstream } from "../../src/upstream/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { spawnKubectl } from "../helpers/kubectl.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

let dir: string;
let pg: TestPostgres | undefined;
let sim: Simulator | undefined;
const gateways: Gateway[] = [];
let agent: Agent | undefined;

function call(gw: Gateway, method: string, path: string, token: string, body?: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${gw.url}${path}`,
      {
        method,
        ca: gw.caPem,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

before(async () => {
  pg = await startTestPostgres();
  dir = await mkdtemp(join(tmpdir(), "airlock-agent-replicas-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  // One agent CA for both replicas, as the docs say: A's copied into B's data directory before B starts.
  await loadAgentCa(join(dir, "gateway-a"));
  await mkdir(join(dir, "gateway-b", "tls"), { recursive: true, mode: 0o700 });
  for (const f of ["agent-ca.crt", "agent-ca.key"])
    await writeFile(join(dir, "gateway-b", "tls", f), await readFile(join(dir, "gateway-a", "tls", f)), {
      mode: 0o600,
    });
  for (const name of ["a", "b"]) {
    const validated = validateConfig(
      {
        listen: { address: "127.0.0.1", port: 0 },
        dataDir: join(dir, `gateway-${name}`),
        clusters: [{ name: "sim", tunnel: {} }],
        agents: { listen: { address: "127.0.0.1", port: 0 } },
        store: { kind: "postgres", url: pg.url },
        policy: { builtin: "allow-authenticated" },
        shutdown: { gracePeriodSeconds: 1 },
      },
      dir,
    );
    if (!validated.ok) throw new Error(validated.errors.join("; "));
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    gateways.push(await startGateway(validated.config, { logDestination: sink }));
  }
});

after(async () => {
  agent?.stop();
  for (const g of gateways) await g.close().catch(() => {});
  await sim?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("an agent revoked through replica A loses its tunnel on replica B within a second, and B refuses it after", async () => {
  const [a, b] = gateways as [Gateway, Gateway];
  const adminA = (await readFile(a.adminTokenPath, "utf8")).trim();
  const made = await call(a, "POST", "/airlock/v1/clusters/sim/join-tokens", adminA, { ttlSeconds: 600 });
  assert.equal(made.status, 201, made.body);
  const tokenFile = join(dir, "join-token");
  await writeFile(tokenFile, (JSON.parse(made.body) as { token: string }).token);
  const logs: object[] = [];
  agent = new Agent({
    gateway: new URL(String(b.agents?.url)),
    cluster: "sim",
    joinTokenFile: tokenFile,
    gatewayCaPem: b.caPem,
    stateDir: join(dir, "agent"),
    upstream: await openUpstream(
      { name: "sim", kubeconfig: { path: sim!.kubeconfigPath } },
      { http2: false },
    ),
    version: "test",
    log: (e) => logs.push(e),
    backoff: { baseMs: 50, maxMs: 200 },
  });
  await agent.start();
  await agent.whenConnected();
  // A human of the shared store, reaching the cluster through B.
  const created = await call(a, "POST", "/airlock/v1/identities", adminA, {
    name: "ops",
    kind: "human",
    groups: [],
  });
  assert.equal(created.status, 201, created.body);
  const kubeconfig = join(dir, "ops.kubeconfig");
  await writeFile(
    kubeconfig,
    buildKubeconfig({
      server: b.url,
      caPem: b.caPem,
      identity: "ops",
      token: (JSON.parse(created.body) as { token: string }).token,
      namespace: "prod",
    }),
    { mode: 0o600 },
  );
  const pods = await call(
    b,
    "GET",
    "/api/v1/namespaces/prod/pods",
    (JSON.parse(created.body) as { token: string }).token,
  );
  assert.equal(pods.status, 200, pods.body);
  const pod = (JSON.parse(pods.body) as { items: { metadata: { name: string } }[] }).items.find((p) =>
    p.metadata.name.startsWith("web-"),
  )?.metadata.name;
  assert.ok(pod);
  const exec = spawnKubectl(kubeconfig, ["exec", "-i", "-n", "prod", pod, "--", "cat"]);
  let out = "";
  exec.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const closed = new Promise<number>((resolve) => exec.on("close", () => resolve(Date.now())));
  exec.stdin?.write("via replica b\n");
  await eventually("exec echoes", async () => (out.includes("via replica b") ? true : undefined), {
    timeoutMs: 15_000,
  });
  const revokedAt = Date.now();
  const revoked = await call(a, "POST", `/airlock/v1/agents/${agent.agentId}/revoke`, adminA, {});
  assert.equal(revoked.status, 200, revoked.body);
  assert.equal(
    (JSON.parse(revoked.body) as { closedTunnels: number }).closedTunnels,
    0,
    "A held no tunnel of it",
  );
  const ended = await Promise.race([
    closed,
    new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 5_000)),
  ]);
  assert.ok(
    ended - revokedAt < 1_000,
    `the exec session on B ended ${ended - revokedAt} ms after the revoke on A`,
  );
  await eventually("B refuses the agent's reconnect", async () => agent?.lastRefusal, { timeoutMs: 10_000 });
  assert.match(String(agent.lastRefusal), /was revoked/);
  assert.equal(b.agents?.hub.links("sim").filter((l) => l.usable).length, 0);
});
