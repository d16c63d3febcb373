// `npm run bench`: every benchmark of bench/ in one report. End to end: a small GET (latency at concurrency 1,
// throughput at 32, CPU-seconds per 1,000 requests of each process), a 10 MB list (MB/s and the gateway's peak
// memory), a watch of 1,000 events paced and in bursts, `kubectl exec … -- cat` of 50 MB — each directly against the
// simulator, through `kubectl proxy` and through Airlock with the demo policy, default masking, audit.durability
// commit and recording; 1 and 2 gateway workers pinned with taskset; the gateway's memory per open watch; the
// simulator's own request times. Then the micro-benchmarks (audit, masking, policy, recording, classify), each in its
// own process. Prints one Markdown report (bench/report.ts) ending in the Targets of issue 18.
//
// The simulator and the gateway run in their own processes (bench/sim-process.ts, bench/gateway-process.ts), so the
// load generator's CPU is not counted against them — but all processes share the machine's cores: the figures are
// comparable with each other, not with a real cluster. Everything binds to 127.0.0.1, every loop is bounded in count
// and time, and every process started here is stopped here, failure or not.
//
// Usage: npx node bench/run.ts [--quick] [--out FILE]
//   --quick: short runs (about 1 minute), to check that the benchmark works; figures not for publication.
//   --out FILE: also write the report to FILE. The full run takes about 5 minutes on a quiet 2-core machine.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { buildKubeconfig } from "../src/admin/kubeconfig.ts";
import { configSchema } from "../src/gateway/config.ts";
import { cpuMeter, resetPeakRss, rss } from "./cpu.ts";
import {
  type Client,
  createClient,
  listResourceVersion,
  measureBigList,
  measureLatency,
  measureThroughput,
  measureWatch,
  openWatches,
  openWatchesHttp2,
  type Target,
} from "./load.ts";
import {
  type GatewayChild,
  type GatewayOptions,
  type SimChild,
  startAgentProcess,
  startGatewayProcess,
  startKubectlProxy,
  startServeWorkers,
  startSim,
} from "./processes.ts";
import {
  type CpuRow,
  type ExecRow,
  type ListMemory,
  type MicroBench,
  type PathRow,
  renderReport,
  type TunnelRow,
  type WatchMemory,
  type WorkersRow,
} from "./report.ts";
import { percentile, summarize } from "./stats.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean" }, out: { type: "string" } } });
const quick = args.quick === true;
// Per round (latency count, throughput duration, list repetitions); samples are pooled over the rounds.
const P = quick
  ? {
      rounds: 1,
      latency: 300,
      warmup: 50,
      latencyMaxMs: 5_000,
      tpWarmupMs: 300,
      tpMs: 1_000,
      listReps: 2,
      listBytes: 2 << 20,
      events: 200,
      watches: 20,
      execBytes: 10 << 20,
      execReps: 1,
      workersMs: 1_000,
    }
  : {
      rounds: 3,
      latency: 1_000,
      warmup: 200,
      latencyMaxMs: 10_000,
      tpWarmupMs: 500,
      tpMs: 3_000,
      listReps: 3,
      listBytes: 10 << 20,
      events: 1_000,
      watches: 200,
      execBytes: 50 << 20,
      execReps: 3,
      workersMs: 3_000,
    };
const CONCURRENCY = 32;
const SMALL_GET = "/api/v1/namespaces/bench/configmaps/small";
const BIG_LIST = "/api/v1/namespaces/bench-big/configmaps";
/** Watch writes: a burst (20 objects per 1 ms timer tick, ~20,000/s: relay throughput) and a paced run (1 per tick). */
const WATCH_MODES = { "burst, 20 per tick": 20, "paced, 1 per tick": 1 } as const;
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
const run = promisify(execFile);

type Cleanup = () => Promise<void> | void;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(os.tmpdir(), "airlock-bench-"));
  const cleanups: Cleanup[] = [];
  try {
    const loadStart = os.loadavg();
    const started = performance.now();
    const figures = await benchmark(dir, cleanups);
    const report = renderReport({
      ...figures,
      load: { start: loadStart, end: os.loadavg() },
      durationS: (performance.now() - started) / 1000,
    });
    process.stdout.write(report);
    if (args.out) {
      await writeFile(args.out, report);
      progress(`report written to ${args.out}`);
    }
  } catch (err) {
    // The children's logs are about to be removed with the directory: show their ends, where the cause usually is.
    for (const log of (await readdir(dir)).filter((f) => f.endsWith(".log"))) {
      const text = await readFile(join(dir, log), "utf8").catch(() => "");
      if (text) progress(`last lines of ${log}:\n${text.split("\n").slice(-15).join("\n")}`);
    }
    throw err;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchmark(dir: string, cleanups: Cleanup[]) {
  progress(`working directory ${dir}${quick ? " (quick mode)" : ""}`);
  const { child: sim, ready: simReady } = await startSim(dir);
  cleanups.push(() => sim.stop());
  const seeded = await sim.ask({ op: "seed", bigListBytes: P.listBytes, objectBytes: 10 * 1024 });
  progress(`simulator on ${simReady.url}, ${seeded.objects} objects seeded`);
  const startGw = async (name: string, options: GatewayOptions = {}) => {
    const { child, ready } = await startGatewayProcess(dir, simReady.kubeconfigPath, { name, options });
    cleanups.push(() => child.stop());
    return {
      child,
      ready,
      target: { name: "airlock", url: ready.url, ca: ready.caPem, token: ready.token } as Target,
    };
  };
  const gateway = await startGw("main");
  // Experiment: a second gateway whose audit database is in memory (no fsync), measured on the small GET only.
  const experiment = await startGw("audit-in-memory", { experiment: "audit-in-memory" });
  // The power-loss-durable configuration: a request's record is fsync'd before it is forwarded.
  const fsyncGw = await startGw("audit-fsync", { experiment: "audit-fsync" });
  const proxy = await startKubectlProxy(simReady.kubeconfigPath, join(dir, "kube-cache"));
  cleanups.push(() => proxy.stop());
  progress(`gateway on ${gateway.target.url}, kubectl proxy on ${proxy.url}`);

  const clients: Client[] = [
    createClient(
      { name: "direct", url: simReady.url, ca: simReady.caPem, token: simReady.adminToken },
      CONCURRENCY,
    ),
    createClient({ name: "kubectl proxy", url: proxy.url }, CONCURRENCY),
    createClient(gateway.target, CONCURRENCY),
    createClient({ ...fsyncGw.target, name: "airlock, audit.durability: fsync" }, CONCURRENCY),
    createClient({ ...experiment.target, name: "airlock, experiment: audit DB in memory" }, CONCURRENCY),
  ];
  cleanups.push(() => {
    for (const c of clients) c.close();
  });
  const slugs = ["direct", "proxy", "airlock", "fsync", "experiment"];
  // The process that serves each path (besides the simulator, which serves them all): its CPU is metered.
  const servers: (number | undefined)[] = [
    undefined,
    proxy.process.pid,
    gateway.child.process.pid,
    fsyncGw.child.process.pid,
    experiment.child.process.pid,
  ];
  const paths = clients.map((client, i) => ({ client, slug: slugs[i] as string, server: servers[i] }));
  const cpu = new Map<string, { server: number; sim: number; requests: number }>();
  const mainPaths = paths.slice(0, 3);

  // Rounds: each measurement runs over every path in turn, several times, so drift in the machine's load (other
  // work on the same cores) hits all paths alike; samples are pooled over the rounds.
  const c1 = new Map<string, number[]>();
  const c32 = new Map<string, { rates: number[]; samples: number[]; failures: number }>();
  const lists = new Map<string, { samples: number[]; bytes: number }>();
  const serverTimes = {
    simDirect: [] as number[],
    simViaAirlock: [] as number[],
    gateway: [] as number[],
    gatewayUpstream: [] as number[],
  };
  for (let round = 1; round <= P.rounds; round++) {
    for (const { client, slug, server } of paths) {
      progress(
        `round ${round}/${P.rounds}, small GET at concurrency 1 and ${CONCURRENCY}: ${client.target.name}`,
      );
      // Perf observers on only for the concurrency-1 run: they cost CPU that the throughput run must not pay.
      await sim.ask({ op: "serverTimes", reset: true, observe: true });
      await gateway.child.ask({ op: "serverTimes", reset: true, observe: true });
      const samples = await measureLatency(client, SMALL_GET, {
        warmup: P.warmup,
        count: P.latency,
        maxMs: P.latencyMaxMs,
      });
      c1.set(slug, [...(c1.get(slug) ?? []), ...samples]);
      // The last entries are the measured requests (the warm-up came before them).
      const simTimes = (await sim.ask({ op: "serverTimes", reset: true, observe: false })).durations.slice(
        -samples.length,
      );
      const gwTimes = await gateway.child.ask({ op: "serverTimes", reset: true, observe: false });
      if (slug === "direct") serverTimes.simDirect.push(...simTimes);
      if (slug === "airlock") {
        serverTimes.simViaAirlock.push(...simTimes);
        serverTimes.gateway.push(...gwTimes.server.slice(-samples.length));
        serverTimes.gatewayUpstream.push(...gwTimes.upstream.slice(-samples.length));
      }
      const meter = cpuMeter({ server, sim: sim.process.pid });
      let used: Record<string, number> = {};
      const r = await measureThroughput(client, SMALL_GET, {
        concurrency: CONCURRENCY,
        warmupMs: P.tpWarmupMs,
        durationMs: P.tpMs,
        maxRequests: 500_000,
        around: { start: meter.start, stop: () => (used = meter.stop()) },
      });
      const c = cpu.get(slug) ?? { server: 0, sim: 0, requests: 0 };
      cpu.set(slug, {
        server: c.server + (used.server ?? Number.NaN),
        sim: c.sim + (used.sim ?? Number.NaN),
        requests: c.requests + r.samples.length + r.failures,
      });
      const acc = c32.get(slug) ?? { rates: [], samples: [], failures: 0 };
      c32.set(slug, {
        rates: [...acc.rates, r.perSecond],
        samples: [...acc.samples, ...r.samples],
        failures: acc.failures + r.failures,
      });
    }
    for (const { client, slug } of mainPaths) {
      progress(`round ${round}/${P.rounds}, large list: ${client.target.name}`);
      const r = await measureBigList(client, BIG_LIST, P.listReps);
      lists.set(slug, { samples: [...(lists.get(slug)?.samples ?? []), ...r.samples], bytes: r.bytes });
    }
  }
  await experiment.child.stop();
  await fsyncGw.child.stop();
  const cpuRows: CpuRow[] = paths.map(({ client, slug }) => {
    const c = cpu.get(slug) ?? { server: Number.NaN, sim: Number.NaN, requests: 0 };
    return {
      name: client.target.name,
      server: slug === "direct" ? undefined : (c.server / c.requests) * 1000,
      sim: (c.sim / c.requests) * 1000,
      requests: c.requests,
    };
  });

  progress(`large list: the gateway's peak memory during one ${P.listBytes >> 20} MB list`);
  const listMemory = await measureListMemory(gateway.child, clients[2] as Client);

  progress(`exec: kubectl exec … -- cat of ${P.execBytes >> 20} MB, direct and through airlock`);
  const exec = await measureExec(dir, sim, gateway, simReady.kubeconfigPath);

  // Parts that depend on other engineers' work in progress: a failure there is reported in its row, and the rest of
  // the report still comes out.
  const failed = (what: string) => (err: Error) => {
    progress(`${what} failed: ${err.stack ?? err.message}`);
    return `FAILED (${what}): ${err.message.split("\n")[0]}`;
  };
  const workers = await measureWorkers(dir, simReady.kubeconfigPath).catch(failed("scale on cores"));
  const tunnel = agentAvailable()
    ? await measureTunnel(dir, startGw, sim, simReady.kubeconfigPath, cleanups).catch(failed("agent tunnel"))
    : "not yet available (no `airlock agent` on this branch)";
  const rows: PathRow[] = paths.map(({ client, slug }) => {
    const tp = c32.get(slug);
    const list = lists.get(slug);
    return {
      name: client.target.name,
      c1: summarize(c1.get(slug) ?? []),
      ...(tp
        ? {
            c32: {
              perSecond: percentile(tp.rates, 0.5),
              summary: summarize(tp.samples),
              failures: tp.failures,
            },
          }
        : {}),
      ...(list ? { list: { summary: summarize(list.samples), bytes: list.bytes } } : {}),
      watch: {},
    };
  });

  const clock = await clockOffset(sim);
  progress(
    `simulator clock − our clock: ${clock.offsetMs.toFixed(3)} ms ± ${clock.uncertaintyMs.toFixed(3)} ms`,
  );
  let burstNo = 0;
  for (const [mode, batch] of Object.entries(WATCH_MODES)) {
    for (const [i, { client, slug }] of mainPaths.entries()) {
      progress(`watch of ${P.events} events (${mode}): ${client.target.name}`);
      const ns = `bench-watch-${slug}`;
      const rv = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
      const prefix = `ev${burstNo++}`;
      const r = await measureWatch(
        client,
        `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`,
        P.events,
        () => sim.ask({ op: "burst", namespace: ns, prefix, count: P.events, batch }),
        60_000,
        clock.offsetMs,
      );
      (rows[i] as PathRow).watch[mode] = { summary: summarize(r.latencies), totalMs: r.totalMs };
    }
  }
  // Each memory measurement gets a fresh gateway: freed memory stays in a process's RSS, so a second measurement in
  // the same process would start from a 'before' that already holds the first one's peak.
  const memory: WatchMemory[] = [];
  for (const client of [
    "HTTP/1.1, one connection per watch",
    "HTTP/2, one connection (as kubectl)",
  ] as const) {
    progress(`memory: ${P.watches} watches through a fresh gateway, ${client}`);
    const fresh = await startGw(client.startsWith("HTTP/2") ? "mem-h2" : "mem-h1", { manyStreams: true });
    memory.push(await measureWatchMemory(fresh.child, sim, fresh.target, P.watches, client));
    await fresh.child.stop();
  }

  const micro = await microBenchmarks();
  const kubectlVersion = await run("kubectl", ["version", "--client", "--output=json"]).then(
    (r) =>
      (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? "?",
    () => "?",
  );
  return {
    quick,
    kubectlVersion,
    concurrency: CONCURRENCY,
    rounds: P.rounds,
    smallGet: SMALL_GET,
    bigList: BIG_LIST,
    events: P.events,
    rows: rows.slice(0, 3),
    experimentRows: rows.slice(3),
    serverTimes,
    clock,
    memory,
    cpu: cpuRows,
    listMemory,
    exec,
    workers,
    agent: tunnel,
    micro,
  };
}

/**
 * The gateway's memory while it streams one large masked list: the kernel's peak RSS (VmHWM, reset just before) and
 * the peak JS heap (sampled every 2 ms), each against the value after a forced GC before the list; next to the list
 * size and its largest item, read from the body the client received. A gateway that held the list would grow by at
 * least the list's size (more: the string and the parsed objects); one that streams it grows by buffers and garbage
 * not yet collected, whatever the list's size.
 */
async function measureListMemory(gateway: GatewayChild, client: Client): Promise<ListMemory> {
  const start = await gateway.ask({ op: "peak", action: "start" });
  const pid = start.pid;
  const resetOk = resetPeakRss(pid);
  const rssBefore = rss(pid).now;
  const { request, response } = client.stream(BIG_LIST);
  const res = await response;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  request.destroy();
  const after = rss(pid);
  const stop = await gateway.ask({ op: "peak", action: "stop" });
  const body = Buffer.concat(chunks);
  const items = (JSON.parse(body.toString()) as { items?: unknown[] }).items ?? [];
  const largestItemBytes = Math.max(0, ...items.map((i) => Buffer.byteLength(JSON.stringify(i))));
  return {
    listBytes: body.length,
    items: items.length,
    largestItemBytes,
    rssGrowth: resetOk ? after.peak - rssBefore : Number.NaN,
    heapGrowth: stop.peakHeapUsed - start.baseline.heapUsed,
  };
}

/** `kubectl exec -n NS POD -- cat FILE` with `kubeconfig`: seconds to the last byte, and the bytes read. */
function kubectlCat(
  kubeconfig: string,
  cacheDir: string,
  file: { namespace: string; pod: string; path: string },
): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      "kubectl",
      [
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        cacheDir,
        "exec",
        "-n",
        file.namespace,
        file.pod,
        "--",
        "cat",
        file.path,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    child.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`kubectl exec exited ${code}: ${stderr.trim()}`));
      else resolve({ seconds: (performance.now() - t0) / 1000, bytes });
    });
  });
}

/**
 * Exec throughput: the real kubectl runs `cat` of a text file in a simulated pod, directly and through Airlock (the
 * demo policy's exec-allowlist rule: masking `default`, recording on), alternating, P.execReps times each after one
 * warm-up each; the median time is reported, with the gateway's CPU-seconds over the Airlock runs.
 */
async function measureExec(
  dir: string,
  sim: SimChild,
  gateway: { child: GatewayChild; ready: { url: string; caPem: string; token: string } },
  simKubeconfig: string,
): Promise<ExecRow> {
  const file = await sim.ask({ op: "execFile", bytes: P.execBytes });
  const airlockKubeconfig = join(dir, "airlock.kubeconfig");
  await writeFile(
    airlockKubeconfig,
    buildKubeconfig({
      server: gateway.ready.url,
      caPem: gateway.ready.caPem,
      identity: "bench-agent",
      token: gateway.ready.token,
    }),
    { mode: 0o600 },
  );
  const cache = join(dir, "kube-cache-exec");
  const times = { direct: [] as number[], airlock: [] as number[] };
  let gatewayCpu = 0;
  let bytes = 0;
  await kubectlCat(simKubeconfig, cache, file);
  await kubectlCat(airlockKubeconfig, cache, file);
  for (let i = 0; i < P.execReps; i++) {
    const d = await kubectlCat(simKubeconfig, cache, file);
    if (d.bytes !== file.bytes) throw new Error(`exec direct: ${d.bytes} of ${file.bytes} bytes`);
    times.direct.push(d.seconds);
    const meter = cpuMeter({ gateway: gateway.child.process.pid });
    meter.start();
    const a = await kubectlCat(airlockKubeconfig, cache, file);
    gatewayCpu += meter.stop().gateway ?? Number.NaN;
    // Masking may change the length (a password becomes a marker): the bytes read are reported, not required.
    bytes = a.bytes;
    times.airlock.push(a.seconds);
  }
  return {
    fileBytes: file.bytes,
    airlockBytes: bytes,
    direct: percentile(times.direct, 0.5),
    airlock: percentile(times.airlock, 0.5),
    gatewayCpuPerRun: gatewayCpu / P.execReps,
  };
}

/** True when the gateway's config has a `workers` key (h-workers, issue 18 "scale on cores"). */
function workersAvailable(): boolean {
  return "workers" in configSchema.shape;
}

function agentAvailable(): boolean {
  return existsSync(new URL("../src/agent", import.meta.url));
}

/**
 * Scale on cores: `airlock serve --workers 1` pinned to CPU 0, then `--workers 2` pinned to CPUs 0-1 (taskset; the
 * workers inherit the mask), each measured at concurrency 32 with the CPU of the whole process tree per request.
 * The load generator and the simulator are not pinned and share the same two cores: on a 2-core machine the
 * 2-worker figure is indicative only.
 */
async function measureWorkers(dir: string, simKubeconfig: string): Promise<WorkersRow[] | string> {
  if (!workersAvailable()) return "not available: the gateway has no `workers` setting on this branch yet";
  if (os.cpus().length < 2) return "not available: this machine has one core";
  const rows: WorkersRow[] = [];
  for (const [n, cpus] of [
    [1, "0"],
    [2, "0,1"],
  ] as const) {
    progress(`scale on cores: airlock serve --workers ${n} pinned to CPU ${cpus}`);
    const gw = await startServeWorkers(dir, simKubeconfig, n, cpus);
    const client = createClient(
      { name: `airlock, ${n} worker(s)`, url: gw.url, ca: gw.caPem, token: gw.token },
      CONCURRENCY,
    );
    try {
      const meter = cpuMeter({ gateway: gw.pid });
      let used: Record<string, number> = {};
      const r = await measureThroughput(client, SMALL_GET, {
        concurrency: CONCURRENCY,
        warmupMs: P.tpWarmupMs,
        durationMs: P.workersMs,
        maxRequests: 500_000,
        around: { start: meter.start, stop: () => (used = meter.stop()) },
      });
      rows.push({
        workers: n,
        cpus,
        perSecond: r.perSecond,
        cpuPer1000: ((used.gateway ?? Number.NaN) / (r.samples.length + r.failures)) * 1000,
        failures: r.failures,
      });
    } finally {
      client.close();
      await gw.stop();
    }
  }
  return rows;
}

/**
 * The small GET through the outbound agent's tunnel: a gateway whose cluster is `tunnel: {}` (no address for the
 * simulator) and an `airlock agent` process holding the simulator's kubeconfig, joined with a one-time token. The
 * same measurements as the other paths (c=1 latency, c=32 throughput), with the CPU of gateway, agent and simulator.
 */
async function measureTunnel(
  dir: string,
  startGw: (
    name: string,
    options?: GatewayOptions,
  ) => Promise<{
    child: GatewayChild;
    ready: { caPem: string; agents?: { url: string; joinToken: string } };
    target: Target;
  }>,
  sim: SimChild,
  simKubeconfig: string,
  cleanups: Cleanup[],
): Promise<TunnelRow> {
  progress("small GET through the outbound agent's tunnel");
  const gw = await startGw("tunnel", { tunnel: true });
  if (!gw.ready.agents) throw new Error("the tunnel gateway did not report its agent port");
  const { child: agent } = await startAgentProcess(dir, {
    agentsUrl: gw.ready.agents.url,
    gatewayCaPem: gw.ready.caPem,
    joinToken: gw.ready.agents.joinToken,
    simKubeconfig,
  });
  cleanups.push(() => agent.stop());
  const client = createClient({ ...gw.target, name: "airlock through the agent's tunnel" }, CONCURRENCY);
  try {
    const c1 = await measureLatency(client, SMALL_GET, {
      warmup: P.warmup,
      count: P.latency,
      maxMs: P.latencyMaxMs,
    });
    const meter = cpuMeter({ gateway: gw.child.process.pid, agent: agent.process.pid, sim: sim.process.pid });
    let used: Record<string, number> = {};
    const r = await measureThroughput(client, SMALL_GET, {
      concurrency: CONCURRENCY,
      warmupMs: P.tpWarmupMs,
      durationMs: P.tpMs,
      maxRequests: 500_000,
      around: { start: meter.start, stop: () => (used = meter.stop()) },
    });
    const per1000 = (s: number | undefined) => ((s ?? Number.NaN) / (r.samples.length + r.failures)) * 1000;
    return {
      c1: summarize(c1),
      perSecond: r.perSecond,
      c32: summarize(r.samples),
      failures: r.failures,
      cpu: { gateway: per1000(used.gateway), agent: per1000(used.agent), sim: per1000(used.sim) },
    };
  } finally {
    client.close();
    await agent.stop();
    await gw.child.stop();
  }
}

/** The micro-benchmarks of bench/, each in its own process, in the order the report shows them. */
async function microBenchmarks(): Promise<MicroBench[]> {
  const script = (name: string) => new URL(`./${name}`, import.meta.url).pathname;
  const list: { title: string; file: string; args: string[]; markdown: boolean; execArgv?: string[] }[] = [
    {
      title: "Audit log write rate",
      file: "audit.ts",
      args: quick ? ["--quick"] : [],
      markdown: true,
    },
    {
      title: "Masking",
      file: "mask.ts",
      args: quick ? ["--quick"] : ["--mb", "20", "--rounds", "2"],
      markdown: false,
      execArgv: ["--expose-gc"],
    },
    {
      title: "Policy evaluation",
      file: "policy.ts",
      args: ["--rules", "1000"],
      markdown: false,
    },
    {
      title: "Recording overhead on exec",
      file: "recording.ts",
      args: quick ? ["--mb", "5", "--rounds", "2"] : ["--mb", "20", "--rounds", "3"],
      markdown: false,
    },
    {
      title: "Classify stage",
      file: "classify.ts",
      args: [quick ? "200" : "2000"],
      markdown: true,
    },
  ];
  const out: MicroBench[] = [];
  for (const b of list) {
    progress(`micro-benchmark ${b.file} ${b.args.join(" ")}`);
    const t0 = performance.now();
    const r = await run(process.execPath, [...(b.execArgv ?? []), script(b.file), ...b.args], {
      maxBuffer: 16 << 20,
      timeout: 300_000,
    }).then(
      (x) => ({ text: x.stdout.trim(), ok: true }),
      (err: Error & { stdout?: string; stderr?: string }) => ({
        text: `${err.stdout ?? ""}\nFAILED: ${err.message.split("\n")[0]}\n${(err.stderr ?? "").slice(-2000)}`.trim(),
        ok: false,
      }),
    );
    out.push({
      title: b.title,
      command: `npx node ${[...(b.execArgv ?? []), `bench/${b.file}`, ...b.args].join(" ")}`,
      markdown: b.markdown,
      seconds: (performance.now() - t0) / 1000,
      ...r,
    });
  }
  return out;
}

/**
 * The simulator's clock minus ours, from the IPC round trip with the smallest delay (NTP's idea, on one machine):
 * wall clocks of two processes disagree by up to a millisecond, more than a watch event's latency.
 */
async function clockOffset(sim: SimChild): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  const now = () => performance.timeOrigin + performance.now();
  let best = { offsetMs: 0, uncertaintyMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 50; i++) {
    const t0 = now();
    const { now: simNow } = await sim.ask({ op: "clock" });
    const t1 = now();
    if ((t1 - t0) / 2 < best.uncertaintyMs)
      best = { offsetMs: simNow - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 };
  }
  return best;
}

/** The gateway's memory before, with `n` watches open through it, and after they close. */
async function measureWatchMemory(
  gateway: GatewayChild,
  sim: SimChild,
  target: Target,
  n: number,
  clientKind: WatchMemory["client"],
): Promise<WatchMemory> {
  const client = createClient({ ...target, name: "airlock-watches" }, n + 8);
  const ns = "bench-watch-airlock";
  const tag = clientKind.startsWith("HTTP/2") ? "h2" : "h1";
  try {
    // Warm the gateway's paths (TLS, upstream pool, JIT) with one watch, so 'before' is not a cold process.
    const rv = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    const warm = `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`;
    await measureWatch(
      client,
      warm,
      1,
      () => sim.ask({ op: "burst", namespace: ns, prefix: `warm-${tag}`, count: 1, batch: 1 }),
      30_000,
    );
    const rv2 = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    client.close();
    const before = (await gateway.ask({ op: "memory" })).memory;
    const path = `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv2}`;
    const watches = tag === "h2" ? openWatchesHttp2(target, path, n) : openWatches(client, path, n);
    try {
      // One event reaching every watch proves all n are open end to end (client → gateway → simulator).
      await sim.ask({ op: "burst", namespace: ns, prefix: `mem-${tag}`, count: 1, batch: 1 });
      await watches.waitForEvent(60_000);
      const open = (await gateway.ask({ op: "memory" })).memory;
      watches.close();
      await new Promise((r) => setTimeout(r, 1000));
      const closed = (await gateway.ask({ op: "memory" })).memory;
      return { client: clientKind, n, before, open, closed };
    } finally {
      watches.close();
    }
  } finally {
    client.close();
  }
}

main().catch((err: Error) => {
  progress(`failed: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
