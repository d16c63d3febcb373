// The Markdown that `npm run bench` prints (and docs/benchmarks.md quotes): the tables of one run and the verdict
// against the targets of the benchmark issue (issue 18), one line per target: met or missed, with the figure and the
// target. Formatting only; the figures come from bench/run.ts (test/bench/report.test.ts renders fixture figures).
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

/** CPU-seconds per 1,000 small GETs at concurrency 32, of the process serving a path and of the simulator. */
export interface CpuRow {
  name: string;
  /** The gateway or kubectl proxy; undefined for the direct path (no process between). */
  server: number | undefined;
  sim: number;
  requests: number;
}

export interface ListMemory {
  listBytes: number;
  items: number;
  largestItemBytes: number;
  /** Peak RSS (kernel VmHWM) during the list minus RSS before it; NaN when the peak could not be reset. */
  rssGrowth: number;
  /** Peak JS heap used during the list minus heap used after a GC before it. */
  heapGrowth: number;
}

export interface ExecRow {
  fileBytes: number;
  airlockBytes: number;
  /** Median seconds of `kubectl exec … -- cat`, directly and through Airlock. */
  direct: number;
  airlock: number;
  gatewayCpuPerRun: number;
}

export interface WorkersRow {
  workers: number;
  cpus: string;
  perSecond: number;
  cpuPer1000: number;
  failures: number;
}

/** Small GETs through the outbound agent's tunnel (gateway → agent → simulator). */
export interface TunnelRow {
  c1: LatencySummary;
  perSecond: number;
  c32: LatencySummary;
  failures: number;
  /** CPU-seconds per 1,000 small GETs at c=32. */
  cpu: { gateway: number; agent: number; sim: number };
}

export interface MicroBench {
  title: string;
  command: string;
  /** The benchmark prints Markdown (kept as is) or plain text (fenced). */
  markdown: boolean;
  seconds: number;
  text: string;
  ok: boolean;
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
  cpu: CpuRow[];
  listMemory: ListMemory;
  exec: ExecRow;
  /** Rows, or why there are none ("not available …"). */
  workers: WorkersRow[] | string;
  /** The outbound agent's tunnel, or why it is not measured. */
  agent: TunnelRow | string;
  micro: MicroBench[];
  /** 1-minute load averages (os.loadavg) at the start and at the end of the run, all three figures. */
  load: { start: number[]; end: number[] };
  durationS: number;
}

/** The targets of issue 18, in one place so the Targets section and docs/benchmarks.md agree. */
export const TARGETS = {
  throughputRatio: 1,
  cpuRatio: 1.5,
  addedP50Ms: 0.5,
  addedP99Ms: 2,
  watchP50Ms: 1,
  watchP99Ms: 2,
  execSlowdown: 1.2,
} as const;

const f = (n: number | undefined) => ms(n ?? Number.NaN);

function pair(samples: number[]): [string, string] {
  const s = summarize(samples);
  return [ms(s.p50), ms(s.p99)];
}

const perWatch = (m: WatchMemory, key: "rss" | "heapUsed") => perWatchBytes(m.before[key], m.open[key], m.n);

const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
const mib = (b: number) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(1) : "n/a");
const cpuS = (s: number | undefined) => (s === undefined ? "—" : Number.isFinite(s) ? s.toFixed(3) : "n/a");
const mbps = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(0);

export function renderReport(r: Report): string {
  const cpus = os.cpus();
  const c = r.concurrency;
  const watchModes = Object.keys(r.rows[0]?.watch ?? {});
  const out: string[] = [
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
      `Node ${process.versions.node}; kubectl ${r.kubectlVersion}; ` +
      `${new Date().toISOString().slice(0, 10)}${r.quick ? " — QUICK MODE, figures are not for publication" : ""}`,
    "",
    `Load average (1, 5, 15 min) at the start: ${loads(r.load.start)}; at the end: ${loads(r.load.end)}. ` +
      `This run took ${(r.durationS / 60).toFixed(1)} min (every loop is bounded in count and time; the full run ` +
      "takes about 5 minutes on a quiet 2-core machine, at most 6 by design; `--quick` about 1.5).",
    "",
    "Airlock here is the realistic path: the demo policy (examples/policies/demo.yaml), an identity of kind agent " +
      "(masking profile `default`), `audit.durability: commit`, recording on.",
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
    `### CPU-seconds per 1,000 small GETs at c=${c} (from /proc/<pid>/stat: user + system, the process and its children)`,
    "",
    markdownTable(
      ["path", "serving process (gateway / kubectl proxy)", "simulator", "requests measured"],
      r.cpu.map((row) => [row.name, cpuS(row.server), cpuS(row.sim), rate(row.requests)]),
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
    `Gateway memory during one list through Airlock (${mib(r.listMemory.listBytes)} MiB, ${rate(r.listMemory.items)} items, ` +
      `largest item ${kib(r.listMemory.largestItemBytes)} KiB): peak RSS growth ${mib(r.listMemory.rssGrowth)} MiB ` +
      `(kernel VmHWM, reset before the list), peak JS heap growth ${mib(r.listMemory.heapGrowth)} MiB (sampled every 2 ms, ` +
      "from after a forced GC).",
    "",
    `### Exec: \`kubectl exec … -- cat\` of ${mib(r.exec.fileBytes)} MiB of log-like text (median of the runs)`,
    "",
    markdownTable(
      ["path", "seconds", "MB/s", "bytes received", "gateway CPU-s per run"],
      [
        [
          "direct",
          r.exec.direct.toFixed(2),
          mbps(r.exec.fileBytes, r.exec.direct),
          rate(r.exec.fileBytes),
          "—",
        ],
        [
          "airlock (masking default, recording)",
          r.exec.airlock.toFixed(2),
          mbps(r.exec.airlockBytes, r.exec.airlock),
          rate(r.exec.airlockBytes),
          cpuS(r.exec.gatewayCpuPerRun),
        ],
      ],
    ),
    "",
    "### Scale on cores (`airlock serve --workers N` started under `taskset -c`; load generator and simulator share the same cores)",
    "",
    typeof r.workers === "string"
      ? r.workers
      : markdownTable(
          ["workers", "CPUs", `req/s c=${c}`, "gateway CPU-s per 1,000", "failed"],
          r.workers.map((w) => [
            String(w.workers),
            w.cpus,
            rate(w.perSecond),
            cpuS(w.cpuPer1000),
            String(w.failures),
          ]),
        ),
    "",
    "### Small GET through the outbound agent's tunnel (gateway `tunnel: {}` → `airlock agent` process → simulator)",
    "",
    typeof r.agent === "string"
      ? r.agent
      : markdownTable(
          [
            "p50 c=1 (ms)",
            "p99 c=1 (ms)",
            `req/s c=${c}`,
            `p50 c=${c} (ms)`,
            `p99 c=${c} (ms)`,
            "failed",
            "CPU-s per 1,000: gateway / agent / simulator",
          ],
          [
            [
              ms(r.agent.c1.p50),
              ms(r.agent.c1.p99),
              rate(r.agent.perSecond),
              ms(r.agent.c32.p50),
              ms(r.agent.c32.p99),
              String(r.agent.failures),
              [r.agent.cpu.gateway, r.agent.cpu.agent, r.agent.cpu.sim].map(cpuS).join(" / "),
            ],
          ],
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
    ...r.micro.flatMap((m) => [
      `### ${m.title} (\`${m.command}\`, ${m.seconds.toFixed(0)} s${m.ok ? "" : ", FAILED"})`,
      "",
      ...(m.title === "Classify stage"
        ? [markdownTable(["benchmark", "throughput", "p50", "p99", "runtime"], [])]
        : []),
      m.markdown ? m.text.replace(/^#+ .*\n+/, "") : `\`\`\`text\n${m.text}\n\`\`\``,
      "",
    ]),
    "### Targets",
    "",
    ...targets(r),
  ];
  return `${out.join("\n")}\n`;
}

function targets(r: Report): string[] {
  const by = (name: string) => r.rows.find((row) => row.name === name);
  const cpuOf = (name: string) => r.cpu.find((row) => row.name === name);
  const direct = by("direct");
  const proxy = by("kubectl proxy");
  const airlock = by("airlock");
  const mark = (ok: boolean) => (ok ? "met" : "**missed**");
  const T = TARGETS;
  const lines: string[] = [];

  const tpA = airlock?.c32?.perSecond ?? Number.NaN;
  const tpP = proxy?.c32?.perSecond ?? Number.NaN;
  lines.push(
    `- Throughput, small GETs at c=${r.concurrency} (demo policy, masking default, audit.durability commit): ` +
      `airlock ${rate(tpA)} req/s, kubectl proxy ${rate(tpP)} req/s, ratio ${(tpA / tpP).toFixed(2)}× ` +
      `(target ≥ ${T.throughputRatio}×) — ${mark(tpA / tpP >= T.throughputRatio)}`,
  );

  const gw = cpuOf("airlock")?.server ?? Number.NaN;
  const px = cpuOf("kubectl proxy")?.server ?? Number.NaN;
  lines.push(
    `- CPU per 1,000 small GETs: gateway ${cpuS(gw)} s, kubectl proxy ${cpuS(px)} s, simulator ${cpuS(cpuOf("airlock")?.sim)} s ` +
      `(through airlock; ${cpuS(cpuOf("kubectl proxy")?.sim)} s through the proxy), gateway/proxy ${(gw / px).toFixed(2)}× ` +
      `(target ≤ ${T.cpuRatio}×) — ${mark(gw / px <= T.cpuRatio)}`,
  );

  for (const [q, key, limit] of [
    ["p50", "p50", T.addedP50Ms],
    ["p99", "p99", T.addedP99Ms],
  ] as const) {
    const a = airlock?.c1?.[key] ?? Number.NaN;
    const d = direct?.c1?.[key] ?? Number.NaN;
    lines.push(
      `- Added latency at c=1, ${q}: ${ms(a - d)} ms (airlock ${ms(a)} − direct ${ms(d)}; target ≤ ${limit} ms) — ${mark(a - d <= limit)}`,
    );
  }

  for (const mode of Object.keys(airlock?.watch ?? {})) {
    for (const [q, key, limit] of [
      ["p50", "p50", T.watchP50Ms],
      ["p99", "p99", T.watchP99Ms],
    ] as const) {
      const a = airlock?.watch[mode]?.summary[key] ?? Number.NaN;
      const p = proxy?.watch[mode]?.summary[key] ?? Number.NaN;
      lines.push(
        `- Watch event latency, ${mode}, ${q}: airlock ${ms(a)} ms, kubectl proxy ${ms(p)} ms, ` +
          `difference ${ms(a - p)} ms (target ≤ ${limit} ms) — ${mark(a - p <= limit)}`,
      );
    }
  }

  const listMbps = (row: PathRow | undefined) =>
    (row?.list?.bytes ?? Number.NaN) / 1e6 / ((row?.list?.summary.p50 ?? Number.NaN) / 1000);
  const la = listMbps(airlock);
  const lp = listMbps(proxy);
  lines.push(
    `- Large list (${mib(airlock?.list?.bytes ?? Number.NaN)} MiB, masked): airlock ${la.toFixed(0)} MB/s, ` +
      `kubectl proxy ${lp.toFixed(0)} MB/s (target ≥ the proxy's) — ${mark(la >= lp)}`,
  );
  const m = r.listMemory;
  // The kernel's peak RSS is what the list cost the machine; the heap peak includes garbage not yet collected (the
  // young generation alone holds up to 16 MiB), so it is shown but decides only when the RSS peak is unknown.
  const growth = Number.isFinite(m.rssGrowth) ? m.rssGrowth : m.heapGrowth;
  lines.push(
    `- Large list memory bounded by the largest item, not the list: peak RSS growth ${mib(m.rssGrowth)} MiB ` +
      `(JS heap peak ${mib(m.heapGrowth)} MiB, garbage included) for a ${mib(m.listBytes)} MiB list whose largest item is ` +
      `${kib(m.largestItemBytes)} KiB (target: growth below the list's size, which a gateway holding the list exceeds; ` +
      `the streaming bound itself is tested in test/mask/json-stream-memory.test.ts) — ${mark(growth < m.listBytes)}`,
  );

  if (typeof r.workers === "string") lines.push(`- Scale on cores, 1 and 2 workers: ${r.workers}`);
  else {
    const [one, two] = [r.workers.find((w) => w.workers === 1), r.workers.find((w) => w.workers === 2)];
    const ratio = (two?.perSecond ?? Number.NaN) / (one?.perSecond ?? Number.NaN);
    lines.push(
      `- Scale on cores: 1 worker ${rate(one?.perSecond ?? Number.NaN)} req/s (${cpuS(one?.cpuPer1000)} CPU-s/1,000), ` +
        `2 workers ${rate(two?.perSecond ?? Number.NaN)} req/s (${cpuS(two?.cpuPer1000)} CPU-s/1,000), ×${ratio.toFixed(2)} ` +
        `(target: more with 2 workers; indicative only on 2 cores) — ${mark(ratio > 1)}`,
    );
  }

  if (typeof r.agent === "string") lines.push(`- Small GETs through the outbound agent's tunnel: ${r.agent}`);
  else {
    const t = r.agent;
    const ratio = t.perSecond / tpP;
    lines.push(
      `- Small GETs through the outbound agent's tunnel: ${rate(t.perSecond)} req/s at c=${r.concurrency}, ratio to ` +
        `kubectl proxy ${ratio.toFixed(2)}×; p50 c=1 ${ms(t.c1.p50)} ms (+${ms(t.c1.p50 - (direct?.c1?.p50 ?? Number.NaN))} over direct); ` +
        `CPU per 1,000 gateway ${cpuS(t.cpu.gateway)} s + agent ${cpuS(t.cpu.agent)} s (the throughput target applies: ` +
        `≥ ${T.throughputRatio}×) — ${mark(ratio >= T.throughputRatio)}`,
    );
  }

  const e = r.exec;
  const slow = e.airlock / e.direct;
  lines.push(
    `- Exec, \`kubectl exec … -- cat\` of ${mib(e.fileBytes)} MiB with masking and recording: airlock ` +
      `${mbps(e.airlockBytes, e.airlock)} MB/s (${e.airlock.toFixed(2)} s), direct ${mbps(e.fileBytes, e.direct)} MB/s ` +
      `(${e.direct.toFixed(2)} s), ${((slow - 1) * 100).toFixed(0)}% slower (target ≤ ${((T.execSlowdown - 1) * 100).toFixed(0)}%) — ` +
      `${mark(slow <= T.execSlowdown)}`,
  );
  return lines;
}
