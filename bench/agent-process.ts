// Bench-only: `airlock agent` in its own process (src/agent/run.ts as the CLI runs it), holding the simulator's
// kubeconfig and dialling the tunnel gateway's agent port, so the small-GET benchmark can go through the tunnel and
// the agent's CPU is metered on its own. Driven by bench/run.ts over IPC; exits when its parent disconnects.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent } from "../src/agent/run.ts";
import { openUpstream } from "../src/upstream/index.ts";

export type AgentRequest = { op: "stop" };
export type AgentReply = { op: "ready" } | { op: "error"; message: string };

interface Args {
  stateDir: string;
  agentsUrl: string;
  gatewayCaPem: string;
  joinToken: string;
  simKubeconfig: string;
}

const [json] = process.argv.slice(2);
if (!json || !process.send)
  throw new Error("usage: fork bench/agent-process.ts ARGS-JSON (with an IPC channel)");
const args = JSON.parse(json) as Args;
await mkdir(args.stateDir, { recursive: true });
const tokenFile = join(args.stateDir, "join-token");
await writeFile(tokenFile, args.joinToken, { mode: 0o600 });
const log = () => {};
const upstream = await openUpstream(
  { name: "sim", kubeconfig: { path: args.simKubeconfig } },
  { http2: false, log },
);
const agent = new Agent({
  gateway: new URL(args.agentsUrl),
  cluster: "sim",
  joinTokenFile: tokenFile,
  gatewayCaPem: args.gatewayCaPem,
  stateDir: args.stateDir,
  upstream,
  version: "bench",
  log,
});
await agent.start();
await agent.whenConnected();
process.on("message", (raw) => {
  if ((raw as AgentRequest).op === "stop") {
    agent.stop();
    process.disconnect();
  }
});
process.on("disconnect", () => {
  agent.stop();
  process.exit(0);
});
process.send({ op: "ready" } satisfies AgentReply);
