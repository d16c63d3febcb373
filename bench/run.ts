// `npm run bench`: the end-to-end benchmark. A small GET, a 10 MB list and a watch of 1,000 events, each measured
// directly against the simulator, through `kubectl proxy` and through Airlock; the gateway's memory per open watch;
// the simulator's own request times; and the classify micro-benchmark. Prints Markdown for docs/benchmarks.md.
//
// The simulator and the gateway run in their own processes (bench/sim-process.ts, bench/gateway-process.ts), so the
// load generator's CPU is not counted against them — but the machine may have only a few cores, and all processes
// share them: the figures are comparable with each other, not with a real cluster. Everything binds to 127.0.0.1,
// every loop is bounded in count and time, and every process started here is stopped here, failure or not.
//
// Usage: npx node bench/run.ts [--quick]   (--quick: short runs, for checking that the benchmark works)
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
} from "./load.ts";
import {
  type GatewayChild,
  type SimChild,
  startGatewayProcess,
  startKubectlProxy,
  startSim,
} from "./processes.ts";
import { kib, markdownTable, ms, perWatchBytes, rate, summarize } from "./stats.ts";

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
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Row {
  name: string;
  c1?: ReturnType<typeof summarize>;
  c32?: { perSecond: number; summary: ReturnType<typeof summarize>; failures: number };
  list?: { summary: ReturnType<typeof summarize>; bytes: number };
  watch?: { summary: ReturnType<typeof summarize>; totalMs: number };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(os.tmpdir(), "airlock-bench-"));
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    await run(dir, cleanups);
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

async function run(dir: string, cleanups: (() => Promise<void> | void)[]): Promise<void> {
  progress(`working directory ${dir}${quick ? " (quick mode)" : ""}`);
  const { child: sim, ready: simReady } = await startSim(dir);
  cleanups.push(() => sim.stop());
  const seeded = await sim.ask({ op: "seed", bigListBytes: P.listBytes, objectBytes: 10 * 1024 });
  progress(`simulator on ${simReady.url}, ${seeded.objects} objects seeded`);
  const { child: gateway, ready: gwReady } = await startGatewayProcess(dir, simReady.kubeconfigPath);
  cleanups.push(() => gateway.stop());
  const proxy = await startKubectlProxy(simReady.kubeconfigPath, join(dir, "kube-cache"));
  cleanups.push(() => proxy.stop());
  progress(`gateway on ${gwReady.url}, kubectl proxy on ${proxy.url}`);

  const clients: Client[] = [
    createClient(
      { name: "direct", url: simReady.url, ca: simReady.caPem, token: simReady.adminToken },
      CONCURRENCY,
    ),
    createClient({ name: "kubectl proxy", url: proxy.url }, CONCURRENCY),
    createClient({ name: "airlock", url: gwReady.url, ca: gwReady.caPem, token: gwReady.token }, CONCURRENCY),
  ];
  cleanups.push(() => {
    for (const c of clients) c.close();
  });
  const rows: Row[] = clients.map((c) => ({ name: c.target.name }));
  const each = async (what: string, fn: (client: Client, row: Row, slug: string) => Promise<void>) => {
    for (const [i, client] of clients.entries()) {
      progress(`${what}: ${client.target.name}`);
      await fn(client, rows[i] as Row, ["direct", "proxy", "airlock"][i] as string);
    }
  };

  // Server-side times during the concurrency-1 runs: the simulator's own small-GET time, and the gateway's.
  const serverTimes: Record<string, { sim: number[]; gateway?: number[]; upstream?: number[] }> = {};
  await each("small GET, concurrency 1", async (client, row) => {
    await sim.ask({ op: "serverTimes", reset: true });
    await gateway.ask({ op: "serverTimes", reset: true });
    row.c1 = summarize(
      await measureLatency(client, SMALL_GET, { warmup: P.warmup, count: P.latency, maxMs: P.latencyMaxMs }),
    );
    const simTimes = (await sim.ask({ op: "serverTimes", reset: true })).durations;
    const gwTimes = await gateway.ask({ op: "serverTimes", reset: true });
    serverTimes[client.target.name] = {
      sim: simTimes.slice(-row.c1.count),
      gateway: gwTimes.server.slice(-row.c1.count),
      upstream: gwTimes.upstream.slice(-row.c1.count),
    };
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
  await each("large list", async (client, row) => {
    const r = await measureBigList(client, BIG_LIST, P.listReps);
    row.list = { summary: summarize(r.samples), bytes: r.bytes };
  });
  await each(`watch of ${P.events} events`, async (client, row, slug) => {
    const ns = `bench-watch-${slug}`;
    const rv = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    const r = await measureWatch(
      client,
      `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`,
      P.events,
      () => sim.ask({ op: "burst", namespace: ns, prefix: "ev", count: P.events, batch: 20 }),
      60_000,
    );
    row.watch = { summary: summarize(r.latencies), totalMs: r.totalMs };
  });
  progress(`memory per watch: ${P.watches} watches through the gateway`);
  const memory = await measureWatchMemory(gateway, sim, gwReady, P.watches);

  const classify = await promisify(execFile)(process.execPath, [
    new URL("./classify.ts", import.meta.url).pathname,
    quick ? "200" : "2000",
  ]);
  const kubectlVersion = await promisify(execFile)("kubectl", ["version", "--client", "--output=json"]).then(
    (r) =>
      (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? "?",
    () => "?",
  );
  print(rows, serverTimes, memory, classify.stdout.trim(), kubectlVersion);
}

async function measureWatchMemory(
  gateway: GatewayChild,
  sim: SimChild,
  gw: { url: string; caPem: string; token: string },
  n: number,
) {
  const client = createClient({ name: "airlock-watches", url: gw.url, ca: gw.caPem, token: gw.token }, n + 8);
  const ns = "bench-watch-airlock";
  try {
    // Warm the gateway's paths (TLS, upstream pool, JIT) with one watch, so 'before' is not a cold process.
    const rv = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    const warm = `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`;
    await measureWatch(
      client,
      warm,
      1,
      () => sim.ask({ op: "burst", namespace: ns, prefix: "warm", count: 1, batch: 1 }),
      30_000,
    );
    const rv2 = await listResourceVersion(client, `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    const before = (await gateway.ask({ op: "memory" })).memory;
    const watches = openWatches(
      client,
      `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv2}`,
      n,
    );
    try {
      // One event reaching every watch proves all n are open end to end (client → gateway → simulator).
      await new Promise((r) => setTimeout(r, 500));
      await sim.ask({ op: "burst", namespace: ns, prefix: "mem", count: 1, batch: 1 });
      await watches.waitForEvent(60_000);
      const open = (await gateway.ask({ op: "memory" })).memory;
      watches.close();
      await new Promise((r) => setTimeout(r, 1000));
      const closed = (await gateway.ask({ op: "memory" })).memory;
      return { n, before, open, closed };
    } finally {
      watches.close();
    }
  } finally {
    client.close();
  }
}

type WatchMemory = Awaited<ReturnType<typeof measureWatchMemory>>;

function print(
  rows: Row[],
  serverTimes: Record<string, { sim: number[]; gateway?: number[]; upstream?: number[] }>,
  memory: WatchMemory,
  classifyRow: string,
  kubectlVersion: string,
): void {
  const cpus = os.cpus();
  const out: string[] = [];
  out.push(
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
      `Node ${process.versions.node}; kubectl ${kubectlVersion}; ${new Date().toISOString().slice(0, 10)}` +
      (quick ? " — QUICK MODE, figures are not for publication" : ""),
    "",
    `### Small GET (\`GET ${SMALL_GET}\`)`,
    "",
    markdownTable(
      [
        "path",
        "p50 c=1 (ms)",
        "p99 c=1 (ms)",
        `req/s c=${CONCURRENCY}`,
        `p50 c=${CONCURRENCY} (ms)`,
        `p99 c=${CONCURRENCY} (ms)`,
        "failed",
      ],
      rows.map((r) => [
        r.name,
        ms(r.c1?.p50 ?? Number.NaN),
        ms(r.c1?.p99 ?? Number.NaN),
        rate(r.c32?.perSecond ?? Number.NaN),
        ms(r.c32?.summary.p50 ?? Number.NaN),
        ms(r.c32?.summary.p99 ?? Number.NaN),
        String(r.c32?.failures ?? "n/a"),
      ]),
    ),
    "",
    `### Large list (\`GET ${BIG_LIST}\`)`,
    "",
    markdownTable(
      ["path", "body (MB)", "p50 (ms)", "max (ms)", "MB/s at p50"],
      rows.map((r) => {
        const mb = (r.list?.bytes ?? 0) / 1e6;
        const p50 = r.list?.summary.p50 ?? Number.NaN;
        return [
          r.name,
          mb.toFixed(1),
          ms(p50),
          ms(r.list?.summary.max ?? Number.NaN),
          (mb / (p50 / 1000)).toFixed(0),
        ];
      }),
    ),
    "",
    `### Watch of ${P.events} events (written in the simulator, 20 per ms tick)`,
    "",
    markdownTable(
      ["path", "first write → last event (ms)", "event latency p50 (ms)", "p99 (ms)", "max (ms)"],
      rows.map((r) => [
        r.name,
        ms(r.watch?.totalMs ?? Number.NaN),
        ms(r.watch?.summary.p50 ?? Number.NaN),
        ms(r.watch?.summary.p99 ?? Number.NaN),
        ms(r.watch?.summary.max ?? Number.NaN),
      ]),
    ),
    "",
    "### Server-side time of the small GET at concurrency 1 (Node http perf entries, request → response end)",
    "",
    markdownTable(
      ["measured in", "while the client went", "p50 (ms)", "p99 (ms)"],
      [
        ["simulator", "direct", ...pair(serverTimes.direct?.sim)],
        ["simulator", "through airlock", ...pair(serverTimes.airlock?.sim)],
        ["gateway: whole request", "through airlock", ...pair(serverTimes.airlock?.gateway)],
        ["gateway: its upstream request", "through airlock", ...pair(serverTimes.airlock?.upstream)],
      ],
    ),
    "",
    `### Gateway memory with ${memory.n} open watches (HTTP/1.1, one TLS connection per watch on each side)`,
    "",
    markdownTable(
      ["", "RSS (MiB)", "heap used (MiB)", "external (MiB)"],
      (["before", "open", "closed"] as const).map((k) => [
        k === "open" ? `${memory.n} watches open` : k === "before" ? "before" : "after closing them",
        (memory[k].rss / 2 ** 20).toFixed(1),
        (memory[k].heapUsed / 2 ** 20).toFixed(1),
        (memory[k].external / 2 ** 20).toFixed(1),
      ]),
    ),
    "",
    `Per watch: RSS ${kib(perWatchBytes(memory.before.rss, memory.open.rss, memory.n))} KiB, ` +
      `heap ${kib(perWatchBytes(memory.before.heapUsed, memory.open.heapUsed, memory.n))} KiB, ` +
      `heap + external ${kib(perWatchBytes(memory.before.heapUsed + memory.before.external, memory.open.heapUsed + memory.open.external, memory.n))} KiB.`,
    "",
    "### Classify stage (bench/classify.ts)",
    "",
    markdownTable(["benchmark", "throughput", "p50", "p99", "runtime"], []),
    classifyRow,
    "",
    "### Targets",
    "",
    ...targets(rows, memory),
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

function pair(samples: number[] | undefined): [string, string] {
  const s = summarize(samples ?? []);
  return [ms(s.p50), ms(s.p99)];
}

function targets(rows: Row[], memory: WatchMemory): string[] {
  const by = (name: string) => rows.find((r) => r.name === name);
  const direct = by("direct");
  const proxy = by("kubectl proxy");
  const airlock = by("airlock");
  const added = (airlock?.c1?.p50 ?? Number.NaN) - (direct?.c1?.p50 ?? Number.NaN);
  const tpA = airlock?.c32?.perSecond ?? Number.NaN;
  const tpP = proxy?.c32?.perSecond ?? Number.NaN;
  const perWatch = perWatchBytes(memory.before.rss, memory.open.rss, memory.n);
  const mark = (ok: boolean) => (ok ? "met" : "**missed**");
  return [
    `- Throughput at c=${CONCURRENCY} at least kubectl proxy's: airlock ${rate(tpA)} req/s vs ${rate(tpP)} req/s — ${mark(tpA >= tpP)}`,
    `- Added p50 latency at c=1 under 1 ms: ${ms(added)} ms (airlock ${ms(airlock?.c1?.p50 ?? Number.NaN)} − direct ${ms(direct?.c1?.p50 ?? Number.NaN)}) — ${mark(added < 1)}`,
    `- Memory per open watch under 64 KiB: ${kib(perWatch)} KiB RSS — ${mark(perWatch < 64 * 1024)}`,
  ];
}

main().catch((err: Error) => {
  process.stderr.write(`bench: failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
