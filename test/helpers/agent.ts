// An `airlock agent` in the test process, for a gateway started with `agents` (its cluster "sim" a tunnel cluster):
// the agent holds the simulator's kubeconfig, the gateway holds no address for it.
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, type AgentOptions } from "../../src/agent/run.ts";
import { AgentState } from "../../src/agent/state.ts";
import { openUpstream } from "../../src/upstream/index.ts";
import type { TestGateway } from "./gateway.ts";

export interface TestAgentOptions {
  /** A join token; without one, a fresh one is created in the gateway's store. */
  token?: string;
  /** Reuse a state directory (an agent restarted after a kill). */
  stateDir?: string;
  cluster?: string;
  logs?: object[];
  renewAt?: number;
  backoff?: AgentOptions["backoff"];
}

/** Creates a join token for `cluster` through the gateway's store (as the admin API does). */
export async function joinToken(tg: TestGateway, cluster = "sim", ttlMs = 3_600_000): Promise<string> {
  const state = new AgentState(tg.gateway.store.counters);
  return (await state.createJoinToken(cluster, ttlMs, "test")).token;
}

/** Starts an agent (joining with a token unless its state directory holds a certificate); resolves once connected. */
export async function startTestAgent(tg: TestGateway, opts: TestAgentOptions = {}): Promise<Agent> {
  const agent = await createTestAgent(tg, opts);
  await agent.start();
  await agent.whenConnected();
  return agent;
}

/** The agent, not yet started. */
export async function createTestAgent(tg: TestGateway, opts: TestAgentOptions = {}): Promise<Agent> {
  if (!tg.gateway.agents) throw new Error("the gateway has no agent port (start it with `agents`)");
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tg.dir, "agent-")));
  const tokenFile = join(stateDir, "join-token");
  if (!opts.stateDir || opts.token)
    await writeFile(tokenFile, opts.token ?? (await joinToken(tg)), { mode: 0o600 });
  const logs = opts.logs ?? [];
  const cluster = opts.cluster ?? "sim";
  const upstream = await openUpstream(
    { name: cluster, kubeconfig: { path: tg.sim.kubeconfigPath } },
    { http2: false, log: (e) => logs.push(e) },
  );
  return new Agent({
    gateway: new URL(tg.gateway.agents.url),
    cluster,
    joinTokenFile: tokenFile,
    gatewayCaPem: tg.gateway.caPem,
    stateDir,
    upstream,
    version: "test",
    log: (e) => logs.push(e),
    backoff: opts.backoff ?? { baseMs: 50, maxMs: 200 },
    ...(opts.renewAt ? { renewAt: opts.renewAt } : {}),
  });
}
