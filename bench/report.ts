// The Markdown that `npm run bench` prints (and docs/benchmarks.md quotes): the tables of one run and the verdict
// against the targets of the benchmark issue. Formatting only; the figures come from bench/run.ts.
import os from "node:os";
import type { Memory } from "./gateway-process.ts";
import { kib, type LatencySummary, markdownTable, ms, perWatchBytes, rate, summarize } from "./stats.ts";

export interface PathRow {
  name: string;
  c1?: LatencySummary;
  c32?: { perSecond: number; summary: LatencySummary; failures: number };
  list?: { summary: LatencySummary; bytes: number };
  watch: Record<string, { summary: LatencySummary; totalMs: number }>;
}

export interface WatchMemory {
  client: string;
  n: number;
  before: Memory;
  open: Memory;
  closed: Memory;
}

export interface Report {
  quick: boolean;
  kubectlVersion: string;
  concurrency: number;
  rounds: number;
  smallGet: string;
  bigList: string;
  events: number;
  rows: PathRow[];
  /** Small-GET rows of experiments (not configurations anyone runs); shown under the small-GET table only. */
  experimentRows: PathRow[];
  /** Server-side durations (ms) during the concurrency-1 runs. */
  serverTimes: { simDirect: number[]; simViaAirlock: number[]; gateway: number[]; gatewayUpstream: number[] };
  /** The simulator's clock minus the client's, by which watch latencies were corrected. */
  clock: { offsetMs: number; uncertaintyMs: number };
  memory: WatchMemory[];
  classifyRow: string;
}

const f = (n: number | undefined) => ms(n ?? Number.NaN);

function pair(samples: number[]): [string, string] {
  const s = summarize(samples);
  return [ms(s.p50), ms(s.p99)];
}

const perWatch = (m: WatchMemory, key: "rss" | "heapUsed") => perWatchBytes(m.before[key], m.open[key], m.n);

export function renderReport(r: Report): string {
  const cpus = os.cpus();
  const c = r.concurrency;
  const watchModes = Object.keys(r.rows[0]?.watch ?? {});
  const out: string[] = [
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
      `Node ${process.versions.node}; kubectl ${r.kubectlVersion}; load average at the end ${os.loadavg()[0]?.toFixed(1)}; ` +
      `${new Date().toISOString().slice(0, 10)}${r.quick ? " — QUICK MODE, figures are not for publication" : ""}`,
    "",
    `Each small-GET and list figure pools ${r.rounds} round(s) taken in turn over the paths; req/s is the median round.`,
    "",
    `### Small GET (\`GET ${r.smallGet}\`)`,
    "",
    markdownTable(
      [
        "path",
        "p50 c=1 (ms)",
        "p99 c=1 (ms)",
        `req/s c=${c}`,
        `p50 c=${c} (ms)`,
        `p99 c=${c} (ms)`,
        "failed",
      ],
      [...r.rows, ...r.experimentRows].map((row) => [
        row.name,
        f(row.c1?.p50),
        f(row.c1?.p99),
        rate(row.c32?.perSecond ?? Number.NaN),
        f(row.c32?.summary.p50),
        f(row.c32?.summary.p99),
        String(row.c32?.failures ?? "n/a"),
      ]),
    ),
    "",
    `### Large list (\`GET ${r.bigList}\`)`,
    "",
    markdownTable(
      ["path", "body (MB)", "p50 (ms)", "max (ms)", "MB/s at p50"],
      r.rows.map((row) => {
        const mb = (row.list?.bytes ?? 0) / 1e6;
        const p50 = row.list?.summary.p50 ?? Number.NaN;
        return [row.name, mb.toFixed(1), ms(p50), f(row.list?.summary.max), (mb / (p50 / 1000)).toFixed(0)];
      }),
    ),
    "",
    `### Watch of ${r.events} events (written in the simulator's process, stamped with the time of writing)`,
    "",
    `Latencies corrected for the difference between the two processes' clocks, ${ms(r.clock.offsetMs)} ms ± ${ms(r.clock.uncertaintyMs)} ms.`,
    "",
    markdownTable(
      ["path", "writes", "first write → last event (ms)", "event latency p50 (ms)", "p99 (ms)", "max (ms)"],
      watchModes.flatMap((mode) =>
        r.rows.map((row) => {
          const w = row.watch[mode];
          return [row.name, mode, f(w?.totalMs), f(w?.summary.p50), f(w?.summary.p99), f(w?.summary.max)];
        }),
      ),
    ),
    "",
    "### Server-side time of the small GET at concurrency 1 (Node's http perf entries: request → response end)",
    "",
    markdownTable(
      ["measured in", "client went", "p50 (ms)", "p99 (ms)"],
      [
        ["simulator", "direct", ...pair(r.serverTimes.simDirect)],
        ["simulator", "through airlock", ...pair(r.serverTimes.simViaAirlock)],
        ["gateway: whole request", "through airlock", ...pair(r.serverTimes.gateway)],
        ["gateway: its upstream request", "through airlock", ...pair(r.serverTimes.gatewayUpstream)],
      ],
    ),
    "",
    "### Gateway memory per open watch (after a forced GC; watches to the simulator as streams of pooled HTTP/2 sessions)",
    "",
    markdownTable(
      [
        "client connection",
        "watches",
        "RSS before → open → closed (MiB)",
        "V8 heap committed before → open (MiB)",
        "heap used before → open (MiB)",
        "per watch: RSS (KiB)",
        "per watch: heap (KiB)",
      ],
      r.memory.map((m) => [
        m.client,
        String(m.n),
        [m.before.rss, m.open.rss, m.closed.rss].map((b) => (b / 2 ** 20).toFixed(1)).join(" → "),
        [m.before.heapTotal, m.open.heapTotal].map((b) => (b / 2 ** 20).toFixed(1)).join(" → "),
        [m.before.heapUsed, m.open.heapUsed].map((b) => (b / 2 ** 20).toFixed(1)).join(" → "),
        kib(perWatch(m, "rss")),
        kib(perWatch(m, "heapUsed")),
      ]),
    ),
    "",
    "### Classify stage (bench/classify.ts)",
    "",
    markdownTable(["benchmark", "throughput", "p50", "p99", "runtime"], []),
    r.classifyRow,
    "",
    "### Targets",
    "",
    ...targets(r),
  ];
  return `${out.join("\n")}\n`;
}

function targets(r: Report): string[] {
  const by = (name: string) => r.rows.find((row) => row.name === name);
  const direct = by("direct");
  const proxy = by("kubectl proxy");
  const airlock = by("airlock");
  const added = (airlock?.c1?.p50 ?? Number.NaN) - (direct?.c1?.p50 ?? Number.NaN);
  const tpA = airlock?.c32?.perSecond ?? Number.NaN;
  const tpP = proxy?.c32?.perSecond ?? Number.NaN;
  const mark = (ok: boolean) => (ok ? "met" : "**missed**");
  return [
    `- Throughput at c=${r.concurrency} at least kubectl proxy's: airlock ${rate(tpA)} req/s, kubectl proxy ${rate(tpP)} req/s — ${mark(tpA >= tpP)}`,
    `- Added p50 latency at c=1 under 1 ms: ${ms(added)} ms (airlock ${f(airlock?.c1?.p50)} − direct ${f(direct?.c1?.p50)}) — ${mark(added < 1)}`,
    ...r.memory.map((m) => {
      const rss = perWatch(m, "rss");
      const heap = perWatch(m, "heapUsed");
      return `- Memory per open watch under 64 KiB (${m.client}): RSS ${kib(rss)} KiB — ${mark(rss < 64 * 1024)}; JS heap ${kib(heap)} KiB — ${mark(heap < 64 * 1024)}`;
    }),
  ];
}
