// A gateway restart (docs/agent.md "Failure modes"): the agent's tunnel ends with the old process, the agent redials
// with jittered back-off (each delay drawn from [0, cap), the cap doubling per attempt) until the gateway is back on
// the same data directory and port, and requests for the cluster work again — the agent's certificate and record
// survive the restart (the agent CA and the store are in the data directory).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import { type Simulator, startSimulator } from "@airlock/sim";
import { Agent } from "../../src/agent/run.ts";
import { AgentState } from "../../src/agent/state.ts";
import { validateConfig } from "../../src/gateway/config.ts";
import { type Gateway, startGateway } from "../../src/server/index.ts";
import { issueServerCertificate } from "../../src/shared/tls.ts";
import { openUpstream } from "../../src/upstream/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { httpsJson } from "../helpers/https-json.ts";

let dir: string;
let sim: Simulator;
let gateway: Gateway | undefined;
let agent: Agent | undefined;

async function start(port: number, agentPort: number): Promise<Gateway> {
  const validated = validateConfig(
    {
      listen: { address: "127.0.0.1", port },
      dataDir: join(dir, "gateway"),
      clusters: [{ name: "sim", tunnel: {} }],
      agents: { listen: { address: "127.0.0.1", port: agentPort } },
      policy: { builtin: "allow-authenticated" },
      shutdown: { gracePeriodSeconds: 0 },
    },
    dir,
  );
  if (!validated.ok) throw new Error(validated.errors.join("; "));
  return startGateway(validated.config, { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-agent-restart-"));
  sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
  gateway = await start(0, 0);
});
after(async () => {
  agent?.stop();
  await gateway?.close().catch(() => {});
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

test("after a gateway restart the agent reconnects with jittered back-off and the cluster answers again", async () => {
  const first = gateway as Gateway;
  const tokenFile = join(dir, "token");
  await writeFile(
    tokenFile,
    (await new AgentState(first.store.counters).createJoinToken("sim", 600_000, "test")).token,
  );
  const logs: { event?: string; inMs?: number }[] = [];
  agent = new Agent({
    gateway: new URL(String(first.agents?.url)),
    cluster: "sim",
    joinTokenFile: tokenFile,
    gatewayCaPem: first.caPem,
    stateDir: join(dir, "agent"),
    upstream: await openUpstream({ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }, { http2: false }),
    version: "test",
    log: (e) => logs.push(e as { event?: string }),
    backoff: { baseMs: 100, maxMs: 800 },
  });
  await agent.start();
  await agent.whenConnected();
  const { token } = await first.store.identities.create({ name: "ops", kind: "human", groups: [] });
  const path = "/api/v1/namespaces/prod/configmaps/web-config";
  assert.equal((await httpsJson({ url: first.url, ca: first.caPem }, "GET", path, token)).code, 200);

  const ports = [first.port, Number(first.agents?.port)] as const;
  await first.close(0);
  gateway = undefined;
  await eventually("the agent sees the tunnel gone", async () => (agent?.connected ? undefined : true));
  // Down for a while: several attempts fail, each delay below its (doubling, capped) bound.
  await new Promise((r) => setTimeout(r, 1_500));
  gateway = await start(ports[0], ports[1]);
  await eventually("reconnected", async () => (agent?.connected ? true : undefined), { timeoutMs: 10_000 });
  const delays = logs.filter((e) => e.event === "agent.reconnecting").map((e) => Number(e.inMs));
  assert.ok(delays.length >= 3, `only ${delays.length} attempts in 1.5 s`);
  for (const [i, d] of delays.entries())
    assert.ok(d >= 0 && d < Math.min(800, 100 * 2 ** i), `attempt ${i}: ${d} ms`);
  assert.ok(new Set(delays).size > 1, "the delays are drawn, not fixed");
  assert.equal((await httpsJson({ url: gateway.url, ca: gateway.caPem }, "GET", path, token)).code, 200);
});

test("the agent port serves the gateway's reloaded certificate (a rotated serving certificate, SIGHUP)", async () => {
  const gw = gateway as Gateway;
  const tlsDir = join(dir, "gateway", "tls");
  const ca = {
    certPem: await readFile(join(tlsDir, "ca.crt"), "utf8"),
    keyPem: await readFile(join(tlsDir, "ca.key"), "utf8"),
  };
  const next = issueServerCertificate(ca, {
    commonName: "airlock-rotated",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  await writeFile(join(tlsDir, "server.crt"), next.certPem);
  await writeFile(join(tlsDir, "server.key"), next.keyPem, { mode: 0o600 });
  await gw.reload(gw.runtime.config);
  const served = await new Promise<string>((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port: Number(gw.agents?.port), ca: gw.caPem, ALPNProtocols: ["http/1.1"] },
      () => {
        resolve(socket.getPeerX509Certificate()?.subject ?? "");
        socket.destroy();
      },
    );
    socket.on("error", reject);
  });
  assert.match(served, /CN=airlock-rotated/);
  // And the agent still connects (a new tunnel, on the new certificate).
  agent?.stop();
  const again = new Agent({
    gateway: new URL(String(gw.agents?.url)),
    cluster: "sim",
    gatewayCaPem: gw.caPem,
    stateDir: join(dir, "agent"),
    upstream: await openUpstream({ name: "sim", kubeconfig: { path: sim.kubeconfigPath } }, { http2: false }),
    version: "test",
    log: () => {},
  });
  agent = again;
  await again.start();
  await again.whenConnected();
});
