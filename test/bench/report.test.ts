// The Targets section of `npm run bench` (bench/report.ts) from fixture figures: one line per target of issue 18,
// each saying met or missed with the figure and the target. No benchmark runs here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PathRow, type Report, renderReport } from "../../bench/report.ts";

const lat = (p50: number, p99: number) => ({ count: 100, p50, p99, max: p99 });

function row(
  name: string,
  o: { c1: [number, number]; rps: number; listMs: number; watch: [number, number] },
): PathRow {
  return {
    name,
    c1: lat(...o.c1),
    c32: { perSecond: o.rps, summary: lat(5, 10), failures: 0 },
    list: { summary: lat(o.listMs, o.listMs), bytes: 10_000_000 },
    watch: {
      "burst, 20 per tick": { summary: lat(...o.watch), totalMs: 100 },
      "paced, 1 per tick": { summary: lat(...o.watch), totalMs: 1000 },
    },
  };
}

function fixture(airlock: { rps: number; c1: [number, number]; cpu: number; execS: number }): Report {
  return {
    quick: false,
    kubectlVersion: "v1.32.4",
    concurrency: 32,
    rounds: 3,
    smallGet: "/api/v1/namespaces/bench/configmaps/small",
    bigList: "/api/v1/namespaces/bench-big/configmaps",
    events: 1000,
    rows: [
      row("direct", { c1: [0.6, 2], rps: 8000, listMs: 150, watch: [0.4, 2] }),
      row("kubectl proxy", { c1: [1.1, 3], rps: 3500, listMs: 150, watch: [0.5, 1.5] }),
      row("airlock", { c1: airlock.c1, rps: airlock.rps, listMs: 100, watch: [0.9, 3] }),
    ],
    experimentRows: [],
    serverTimes: { simDirect: [0.2], simViaAirlock: [0.3], gateway: [1], gatewayUpstream: [0.5] },
    clock: { offsetMs: 0, uncertaintyMs: 0.02 },
    memory: [],
    cpu: [
      { name: "direct", server: undefined, sim: 0.2, requests: 20_000 },
      { name: "kubectl proxy", server: 0.3, sim: 0.2, requests: 10_000 },
      { name: "airlock", server: airlock.cpu, sim: 0.2, requests: 10_000 },
    ],
    listMemory: {
      listBytes: 10_000_000,
      items: 1000,
      largestItemBytes: 10_400,
      rssGrowth: 3 * 2 ** 20,
      heapGrowth: 12 * 2 ** 20,
    },
    exec: {
      fileBytes: 50 << 20,
      airlockBytes: 50 << 20,
      direct: 1,
      airlock: airlock.execS,
      gatewayCpuPerRun: 0.5,
    },
    workers: "not available: the gateway has no `workers` setting on this branch yet",
    agent: "not yet available (no `airlock agent` on this branch)",
    micro: [
      {
        title: "Policy evaluation",
        command: "npx node bench/policy.ts",
        markdown: false,
        seconds: 3,
        text: "p99 21 µs",
        ok: true,
      },
    ],
    load: { start: [0.5, 0.4, 0.3], end: [1.5, 0.8, 0.4] },
    durationS: 300,
  };
}

const targetsOf = (report: string) =>
  report
    .slice(report.indexOf("### Targets"))
    .split("\n")
    .filter((l) => l.startsWith("- "));

describe("bench report", () => {
  it("has one Targets line per target of issue 18, with the figure, the target and the verdict", () => {
    const lines = targetsOf(renderReport(fixture({ rps: 7000, c1: [1.0, 3.5], cpu: 0.4, execS: 1.1 })));
    const find = (s: string) => {
      const hit = lines.filter((l) => l.includes(s));
      assert.equal(hit.length, 1, `one line with ${s}: ${lines.join("\n")}`);
      return hit[0] as string;
    };
    assert.match(
      find("Throughput"),
      /airlock 7,000 req\/s, kubectl proxy 3,500 req\/s, ratio 2\.00× \(target ≥ 1×\) — met$/,
    );
    assert.match(
      find("CPU per 1,000"),
      /gateway 0\.400 s, kubectl proxy 0\.300 s, simulator 0\.200 s.*1\.33× \(target ≤ 1\.5×\) — met$/,
    );
    assert.match(find("c=1, p50"), /0\.400 ms .*target ≤ 0\.5 ms\) — met$/);
    assert.match(find("c=1, p99"), /1\.500 ms .*target ≤ 2 ms\) — met$/);
    assert.equal(lines.filter((l) => l.includes("Watch event latency")).length, 4);
    assert.match(find("burst, 20 per tick, p50"), /difference 0\.400 ms \(target ≤ 1 ms\) — met$/);
    assert.match(find("paced, 1 per tick, p99"), /difference 1\.500 ms \(target ≤ 2 ms\) — met$/);
    assert.match(find("Large list (9.5 MiB"), /airlock 100 MB\/s, kubectl proxy 67 MB\/s .* — met$/);
    assert.match(find("memory bounded"), /peak RSS growth 3\.0 MiB .* — met$/);
    assert.match(find("Scale on cores"), /not available/);
    assert.match(find("outbound agent"), /not yet available/);
    assert.match(find("Exec"), /10% slower \(target ≤ 20%\) — met$/);
    assert.equal(lines.length, 13);
  });

  it("reports the tunnel's small-GET figures against the throughput target once an agent is measured", () => {
    const report = fixture({ rps: 7000, c1: [1, 2], cpu: 0.4, execS: 1 });
    report.agent = {
      c1: lat(2.5, 6),
      perSecond: 1750,
      c32: lat(15, 40),
      failures: 0,
      cpu: { gateway: 0.5, agent: 0.25, sim: 0.2 },
    };
    const line = targetsOf(renderReport(report)).find((l) => l.includes("outbound agent")) ?? "";
    assert.match(
      line,
      /1,750 req\/s at c=32, ratio to kubectl proxy 0\.50×; p50 c=1 2\.500 ms \(\+1\.900 over direct\)/,
    );
    assert.match(line, /gateway 0\.500 s \+ agent 0\.250 s .* — \*\*missed\*\*$/);
  });

  it("says missed, in bold, for each target a slow gateway misses", () => {
    const lines = targetsOf(renderReport(fixture({ rps: 1000, c1: [4, 30], cpu: 2, execS: 5 })));
    for (const s of ["Throughput", "CPU per 1,000", "c=1, p50", "c=1, p99", "Exec"]) {
      const line = lines.find((l) => l.includes(s)) ?? "";
      assert.match(line, /— \*\*missed\*\*$/, line);
    }
  });

  it("states the load average at the start and end and keeps micro-benchmark text fenced", () => {
    const report = renderReport(fixture({ rps: 7000, c1: [1, 2], cpu: 0.4, execS: 1 }));
    assert.match(report, /at the start: 0\.50, 0\.40, 0\.30; at the end: 1\.50, 0\.80, 0\.40/);
    assert.match(
      report,
      /### Policy evaluation \(`npx node bench\/policy\.ts`, 3 s\)\n\n```text\np99 21 µs\n```/,
    );
  });
});
