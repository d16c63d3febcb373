// Bench-only: the Airlock gateway in its own process, started exactly as `airlock serve` starts it (startGateway with
// a validated airlock.yaml-shaped config, JSON logs at level info to stdout), plus an IPC channel so bench/run.ts can
// read its memory after a forced GC and its server-side request times. Run with --expose-gc.
//
// The realistic configuration of the benchmark issue: the DEMO policy (examples/policies/demo.yaml), whose
// read-everything rule masks with the `default` profile, an identity of kind agent in group `agents` (so masking
// applies), audit.durability commit (the default), recording on (the default).
//
// The benchmark identity is created straight in the store (as test/helpers/gateway.ts does); its token only ever
// travels to the parent over IPC. The process exits when its parent disconnects.
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { validateConfig } from "../src/gateway/config.ts";
import { startGateway } from "../src/server/index.ts";
import { openStore } from "../src/store/index.ts";

export type GatewayRequest =
  | { op: "memory" }
  /** observe: start (true) or stop (false) collecting; the observer costs CPU, so it runs only when asked. */
  | { op: "serverTimes"; reset: boolean; observe?: boolean }
  /** Starts the V8 CPU profiler, or stops it and writes the profile (a .cpuprofile file) to `path`. */
  | { op: "profile"; action: "start" }
  | { op: "profile"; action: "stop"; path: string }
  /** Peak JS heap while something runs: start samples heapUsed every 2 ms after a forced GC, stop reports. */
  | { op: "peak"; action: "start" | "stop" }
  | { op: "stop" };

export interface Memory {
  rss: number;
  /** V8 heap committed (used + free pages V8 keeps): part of RSS that heapUsed does not show. */
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export type GatewayReply =
  | { op: "ready"; url: string; caPem: string; token: string; agents?: { url: string; joinToken: string } }
  | { op: "memory"; memory: Memory }
  | { op: "serverTimes"; server: number[]; upstream: number[] }
  | { op: "profile"; path?: string }
  | { op: "peak"; baseline: Memory; peakHeapUsed: number; pid: number }
  | { op: "error"; message: string };

/** How bench/run.ts starts one gateway (the 4th argument, JSON). */
export interface GatewayOptions {
  /** audit-in-memory: an experiment, never a configuration; audit-fsync: audit.durability fsync. */
  experiment?: "audit-in-memory" | "audit-fsync";
  /** `workers: N` in the config, when the gateway has the key (see bench/run.ts workersAvailable). */
  workers?: number;
  /**
   * The cluster as a tunnel cluster (`tunnel: {}`, an agent port on 127.0.0.1): the gateway holds no address for
   * the simulator; bench/agent-process.ts joins with the join token of the ready reply and carries the requests.
   */
  tunnel?: boolean;
  /** limits.maxStreamsPerIdentity raised to 1,000: the watch-memory measurement opens 200 watches as one identity. */
  manyStreams?: boolean;
}

const send = (reply: GatewayReply) => process.send?.(reply);
const [dir, simKubeconfig, name = "main", optionsJson = "{}"] = process.argv.slice(2);
if (!dir || !simKubeconfig || !process.send) {
  throw new Error(
    "usage: fork bench/gateway-process.ts DIR SIM_KUBECONFIG [NAME [OPTIONS-JSON]] (with an IPC channel)",
  );
}
const options = JSON.parse(optionsJson) as GatewayOptions;
const experiment = options.experiment;
const DEMO_POLICY = new URL("../examples/policies/demo.yaml", import.meta.url).pathname;

const validated = validateConfig(
  {
    listen: { address: "127.0.0.1", port: 0 },
    dataDir: `${dir}/gateway-${name}`,
    clusters: [
      options.tunnel ? { name: "sim", tunnel: {} } : { name: "sim", kubeconfig: { path: simKubeconfig } },
    ],
    ...(options.tunnel ? { agents: { listen: { address: "127.0.0.1", port: 0 } } } : {}),
    policy: { files: [DEMO_POLICY] },
    log: { level: "info" },
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.manyStreams ? { limits: { maxStreamsPerIdentity: 1000 } } : {}),
    // The default (commit) unless this run measures the power-loss-durable variant.
    ...(experiment === "audit-fsync" ? { audit: { durability: "fsync" } } : {}),
  },
  dir,
);
if (!validated.ok) throw new Error(validated.errors.join("; "));
const gateway = await startGateway(validated.config);
// An agent in group `agents`: a subject of the demo policy, masked with its `default` profile.
const { token } = await gateway.store.identities.create({
  name: "bench-agent",
  kind: "agent",
  groups: ["agents"],
});
if (experiment === "audit-in-memory") await auditInMemory();
else if (experiment && experiment !== "audit-fsync") throw new Error(`unknown experiment ${experiment}`);

/**
 * Experiment, never a configuration: the audit writes go to an in-memory SQLite database (same code, same SQL, no
 * fsync), everything else stays as it is. The difference to a normal run is what the audit log's disk syncs cost.
 */
async function auditInMemory(): Promise<void> {
  const memory = await openStore({ kind: "sqlite", path: ":memory:" });
  const real = gateway.runtime.store;
  // Only the request events' begin and completion go to memory; notes and reads stay on the real audit table.
  const audit = new Proxy(real.audit, {
    get(target, key) {
      if (key === "begin" || key === "complete") return memory.audit[key].bind(memory.audit);
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  gateway.runtime.store = { ...real, audit, close: () => real.close() };
}

// Server side (client → gateway → response end) and upstream side (gateway → simulator) durations, from Node's http
// and http2 perf entries; their difference is what the gateway itself adds. The benchmark's clients reach the gateway
// over HTTP/1.1 while server times are taken, and the gateway reaches the simulator over HTTP/2 (Http2Stream entries).
let server: number[] = [];
let upstream: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (server.length >= 1_000_000) return;
    if (e.name === "HttpRequest") server.push(e.duration);
    else if (e.name === "HttpClient" || e.name === "Http2Stream") upstream.push(e.duration);
  }
});

function memory(): Memory {
  // Two collections: the first may only schedule finalisers.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

// The profiler runs in-process (node:inspector) rather than through --cpu-prof, so a profile covers exactly the
// measured run, not start-up and shutdown.
let session: Session | undefined;
async function profile(msg: Extract<GatewayRequest, { op: "profile" }>): Promise<string | undefined> {
  if (msg.action === "start") {
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    return undefined;
  }
  if (!session) throw new Error("the profiler was not started");
  const { profile: result } = await session.post("Profiler.stop");
  session.disconnect();
  session = undefined;
  await writeFile(msg.path, JSON.stringify(result));
  return msg.path;
}

// Peak heap sampling (op "peak"): the timer runs only between start and stop. It samples between turns of the event
// loop, so a peak inside one synchronous step is seen only by its effect on the next sample; bench/run.ts reads the
// kernel's peak RSS (VmHWM) as well, which misses nothing.
let peakHeap = 0;
let peakBaseline: Memory | undefined;
let peakTimer: NodeJS.Timeout | undefined;

process.on("message", (raw) => {
  const msg = raw as GatewayRequest;
  if (msg.op === "memory") send({ op: "memory", memory: memory() });
  else if (msg.op === "serverTimes") {
    send({ op: "serverTimes", server, upstream });
    if (msg.reset) {
      server = [];
      upstream = [];
    }
    if (msg.observe === true) observer.observe({ entryTypes: ["http", "http2"] });
    else if (msg.observe === false) observer.disconnect();
  } else if (msg.op === "profile") {
    profile(msg).then(
      (path) => send({ op: "profile", ...(path ? { path } : {}) }),
      (err: Error) => send({ op: "error", message: err.message }),
    );
  } else if (msg.op === "peak") {
    if (msg.action === "start") {
      const baseline = memory();
      peakHeap = baseline.heapUsed;
      peakBaseline = baseline;
      peakTimer = setInterval(() => {
        peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
      }, 2);
      send({ op: "peak", baseline, peakHeapUsed: peakHeap, pid: process.pid });
    } else {
      clearInterval(peakTimer);
      peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
      send({ op: "peak", baseline: peakBaseline as Memory, peakHeapUsed: peakHeap, pid: process.pid });
    }
  } else if (msg.op === "stop") void gateway.close().then(() => process.disconnect());
});
process.on("disconnect", () => {
  void gateway.close().then(() => process.exit(0));
});
// A tunnel gateway: a join token for the cluster, created in the store as `airlock cluster join-token create` does.
let agents: { url: string; joinToken: string } | undefined;
if (options.tunnel) {
  if (!gateway.agents) throw new Error("the tunnel gateway has no agent port");
  const { AgentState } = await import("../src/agent/state.ts");
  const state = new AgentState(gateway.store.counters);
  const { token: joinToken } = await state.createJoinToken("sim", 3_600_000, "bench");
  agents = { url: gateway.agents.url, joinToken };
}
send({ op: "ready", url: gateway.url, caPem: gateway.caPem, token, ...(agents ? { agents } : {}) });
