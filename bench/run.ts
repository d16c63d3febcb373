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
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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
  type GatewayVariant,
  type SimChild,
  startGatewayProcess,
  startKubectlProxy,
  startSim,
} from "./processes.ts";
import { type PathRow, renderReport, type WatchMemory } from "./report.ts";
import { percentile, summarize } from "./stats.ts";

const quick = process.argv.includes("--quick");
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
  const startGw = async (name: string, experiment?: GatewayVariant) => {
    const { child, ready } = await startGatewayProcess(dir, simReady.kubeconfigPath, {
      name,
      ...(experiment ? { experiment } : {}),
    });
    cleanups.push(() => child.stop());
    return {
      child,
      target: { name: "airlock", url: ready.url, ca: ready.caPem, token: ready.token } as Target,
    };
  };
  const gateway = await startGw("main");
  // Experiment: a second gateway whose audit database is in memory (no fsync), measured on the small GET only.
  const experiment = await startGw("audit-in-memory", "audit-in-memory");
  // The power-loss-durable configuration: a request's record is fsync'd before it is forwarded.
  const fsyncGw = await startGw("audit-fsync", "audit-fsync");
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
  const paths = clients.map((client, i) => ({ client, slug: slugs[i] as string }));
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
    for (const { client, slug } of paths) {
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
      const r = await measureThroughput(client, SMALL_GET, {
        concurrency: CONCURRENCY,
        warmupMs: P.tpWarmupMs,
        durationMs: P.tpMs,
        maxRequests: 500_000,
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
    const fresh = await startGw(client.startsWith("HTTP/2") ? "mem-h2" : "mem-h1");
    memory.push(await measureWatchMemory(fresh.child, sim, fresh.target, P.watches, client));
    await fresh.child.stop();
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
    rounds: P.rounds,
    smallGet: SMALL_GET,
    bigList: BIG_LIST,
    events: P.events,
    rows: rows.slice(0, 3),
    experimentRows: rows.slice(3),
    serverTimes,
    clock,
    memory,
    classifyRow: classify.stdout.trim(),
  };
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
