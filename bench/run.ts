// `npm run bench`: the end-to-end benchmark. A small GET, a 10 MB list and a watch of 1,000 events, each measured
// directly against the simulator, through `kubectl proxy` and through Airlock; the gateway's memory per open watch;
// the simulator's own request times; and the classify micro-benchmark. Prints Markdown (bench/report.ts).
//
// The simulator and the gateway run in their own processes (bench/sim-process.ts, bench/gateway-process.ts), so the
// load generator's CPU is not counted against them — but all processes share the machine's cores: the figures are
// comparable with each other, not with a real cluster. Everything binds to 127.0.0.1, every loop is bounded in count
// and time, and every process started here is stopped here, failure or not.
//
// Usage: npx node bench/run.ts [--quick]   (--quick: short runs, to check that the benchmark works)
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
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
  type SimChild,
  startGatewayProcess,
  startKubectlProxy,
  startSim,
} from "./processes.ts";
import { type PathRow, renderReport, type WatchMemory } from "./report.ts";
import { summarize } from "./stats.ts";

const quick = process.argv.includes("--quick");
const P = quick
  ? {
      latency: 300,
      warmup: 50,
      latencyMaxMs: 5_000,
      tpWarmupMs: 300,
      tpMs: 1_000,
      listReps: 2,
      listBytes: 2 << 20,
      events: 200,
      watches: 20,
    }
  : {
      latency: 3_000,
      warmup: 300,
      latencyMaxMs: 20_000,
      tpWarmupMs: 1_000,
      tpMs: 5_000,
      listReps: 5,
      listBytes: 10 << 20,
      events: 1_000,
      watches: 200,
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
    process.stdout.write(renderReport(await benchmark(dir, cleanups)));
  } catch (err) {
    // The children's logs are about to be removed with the directory: show their ends, where the cause usually is.
    for (const log of ["sim.log", "gateway.log"]) {
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
  const { child: gateway, ready: gwReady } = await startGatewayProcess(dir, simReady.kubeconfigPath);
  cleanups.push(() => gateway.stop());
  // Experiment: a second gateway whose audit database is in memory (no fsync), for the small GET only.
  const { child: gwExp, ready: expReady } = await startGatewayProcess(dir, simReady.kubeconfigPath, {
    experiment: "audit-in-memory",
  });
  cleanups.push(() => gwExp.stop());
  const proxy = await startKubectlProxy(simReady.kubeconfigPath, join(dir, "kube-cache"));
  cleanups.push(() => proxy.stop());
  progress(`gateway on ${gwReady.url}, kubectl proxy on ${proxy.url}`);

  const airlockTarget: Target = {
    name: "airlock",
    url: gwReady.url,
    ca: gwReady.caPem,
    token: gwReady.token,
  };
  const clients: Client[] = [
    createClient(
      { name: "direct", url: simReady.url, ca: simReady.caPem, token: simReady.adminToken },
      CONCURRENCY,
    ),
    createClient({ name: "kubectl proxy", url: proxy.url }, CONCURRENCY),
    createClient(airlockTarget, CONCURRENCY),
  ];
  cleanups.push(() => {
    for (const c of clients) c.close();
  });
  const rows: PathRow[] = clients.map((c) => ({ name: c.target.name, watch: {} }));
  const experimentRows: PathRow[] = [];
  // One measurement across all three paths before the next, so drift in the machine's load hits them alike.
  const each = async (what: string, fn: (client: Client, row: PathRow, slug: string) => Promise<void>) => {
    for (const [i, client] of clients.entries()) {
      progress(`${what}: ${client.target.name}`);
      await fn(client, rows[i] as PathRow, ["direct", "proxy", "airlock"][i] as string);
    }
  };

  const serverTimes = {
    simDirect: [] as number[],
    simViaAirlock: [] as number[],
    gateway: [] as number[],
    gatewayUpstream: [] as number[],
  };
  await each("small GET, concurrency 1", async (client, row) => {
    await sim.ask({ op: "serverTimes", reset: true });
    await gateway.ask({ op: "serverTimes", reset: true });
    const samples = await measureLatency(client, SMALL_GET, {
      warmup: P.warmup,
      count: P.latency,
      maxMs: P.latencyMaxMs,
    });
    row.c1 = summarize(samples);
    // The last `count` entries are the measured requests (the warm-up came before them).
    const simTimes = (await sim.ask({ op: "serverTimes", reset: true })).durations.slice(-samples.length);
    const gwTimes = await gateway.ask({ op: "serverTimes", reset: true });
    if (row.name === "direct") serverTimes.simDirect = simTimes;
    if (row.name === "airlock") {
      serverTimes.simViaAirlock = simTimes;
      serverTimes.gateway = gwTimes.server.slice(-samples.length);
      serverTimes.gatewayUpstream = gwTimes.upstream.slice(-samples.length);
    }
  });
  await each(`small GET, concurrency ${CONCURRENCY}`, async (client, row) => {
    const r = await measureThroughput(client, SMALL_GET, {
      concurrency: CONCURRENCY,
      warmupMs: P.tpWarmupMs,
      durationMs: P.tpMs,
      maxRequests: 500_000,
    });
    row.c32 = { perSecond: r.perSecond, summary: summarize(r.samples), failures: r.failures };
  });
  {
    const name = "airlock, experiment: audit DB in memory";
    progress(`small GET, concurrency 1 and ${CONCURRENCY}: ${name}`);
    const exp = createClient(
      { name, url: expReady.url, ca: expReady.caPem, token: expReady.token },
      CONCURRENCY,
    );
    cleanups.push(() => exp.close());
    const c1 = await measureLatency(exp, SMALL_GET, {
      warmup: P.warmup,
      count: P.latency,
      maxMs: P.latencyMaxMs,
    });
    const r = await measureThroughput(exp, SMALL_GET, {
      concurrency: CONCURRENCY,
      warmupMs: P.tpWarmupMs,
      durationMs: P.tpMs,
      maxRequests: 500_000,
    });
    experimentRows.push({
      name,
      c1: summarize(c1),
      c32: { perSecond: r.perSecond, summary: summarize(r.samples), failures: r.failures },
      watch: {},
    });
    await gwExp.stop();
  }
  await each("large list", async (client, row) => {
    const r = await measureBigList(client, BIG_LIST, P.listReps);
    row.list = { summary: summarize(r.samples), bytes: r.bytes };
  });
  let burstNo = 0;
  for (const [mode, batch] of Object.entries(WATCH_MODES)) {
    await each(`watch of ${P.events} events (${mode})`, async (client, row, slug) => {
      const ns = `bench-watch-${slug}`;
      const rv = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
      const prefix = `ev${burstNo++}`;
      const r = await measureWatch(
        client,
        `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`,
        P.events,
        () => sim.ask({ op: "burst", namespace: ns, prefix, count: P.events, batch }),
        60_000,
      );
      row.watch[mode] = { summary: summarize(r.latencies), totalMs: r.totalMs };
    });
  }
  const memory: WatchMemory[] = [];
  for (const client of [
    "HTTP/1.1, one connection per watch",
    "HTTP/2, one connection (as kubectl)",
  ] as const) {
    progress(`memory: ${P.watches} watches through the gateway, ${client}`);
    memory.push(await measureWatchMemory(gateway, sim, airlockTarget, P.watches, client));
  }

  const classify = await run(process.execPath, [
    new URL("./classify.ts", import.meta.url).pathname,
    quick ? "200" : "2000",
  ]);
  const kubectlVersion = await run("kubectl", ["version", "--client", "--output=json"]).then(
    (r) =>
      (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? "?",
    () => "?",
  );
  return {
    quick,
    kubectlVersion,
    concurrency: CONCURRENCY,
    smallGet: SMALL_GET,
    bigList: BIG_LIST,
    events: P.events,
    rows,
    experimentRows,
    serverTimes,
    memory,
    classifyRow: classify.stdout.trim(),
  };
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
