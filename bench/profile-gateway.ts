// Where the gateway's time goes: drives small GETs through a gateway process (bench/gateway-process.ts) with the V8
// CPU profiler on, then prints the functions with the most time, inclusive, from src/ and node_modules/, and the
// top self-time entries. The .cpuprofile is kept for Chrome DevTools or speedscope.
//
// Usage: npx node bench/profile-gateway.ts [c1|c32] [OUT.cpuprofile]
// Bounded: 2,000 requests at concurrency 1, or 4 s at concurrency 32; all processes it starts are stopped.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { createClient, measureLatency, measureThroughput } from "./load.ts";
import { startGatewayProcess, startSim } from "./processes.ts";
import { summarize } from "./stats.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive time per function (a recursive function is counted once per sample), in microseconds. */
export function attribute(profile: CpuProfile): {
  total: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*?\/(src|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id);
    if (!node) return;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: ProfileNode | undefined = node; cur; cur = byId.get(parent.get(cur.id) ?? -1)) {
      const l = label(cur);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
    }
  });
  return { total, self, inclusive };
}

async function main(): Promise<void> {
  const mode = process.argv[2] === "c32" ? "c32" : "c1";
  const dir = await mkdtemp(join(os.tmpdir(), "airlock-profile-"));
  const out = resolve(process.argv[3] ?? `gateway-${mode}.cpuprofile`);
  const { child: sim, ready } = await startSim(dir);
  try {
    await sim.ask({ op: "seed", bigListBytes: 0, objectBytes: 1024 });
    const { child: gw, ready: g } = await startGatewayProcess(dir, ready.kubeconfigPath);
    const client = createClient({ name: "airlock", url: g.url, ca: g.caPem, token: g.token }, 32);
    const path = "/api/v1/namespaces/bench/configmaps/small";
    try {
      await measureLatency(client, path, { warmup: 300, count: 0, maxMs: 10_000 });
      await gw.ask({ op: "profile", action: "start" });
      if (mode === "c1") {
        const s = summarize(await measureLatency(client, path, { warmup: 0, count: 2000, maxMs: 30_000 }));
        console.log(
          `concurrency 1: ${s.count} requests, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`,
        );
      } else {
        const r = await measureThroughput(client, path, {
          concurrency: 32,
          warmupMs: 0,
          durationMs: 4000,
          maxRequests: 200_000,
        });
        console.log(
          `concurrency 32: ${Math.round(r.perSecond)} req/s, p50 ${summarize(r.samples).p50.toFixed(1)} ms`,
        );
      }
      await gw.ask({ op: "profile", action: "stop", path: out });
    } finally {
      client.close();
      await gw.stop();
    }
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const { total, self, inclusive } = attribute(JSON.parse(await readFile(out, "utf8")) as CpuProfile);
  const show = (m: Map<string, number>, n: number, keep: (l: string) => boolean) =>
    [...m]
      .filter(([l]) => keep(l))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([l, t]) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${l}`)
      .join("\n");
  console.log(`profile: ${out} (${(total / 1e6).toFixed(1)} s sampled)`);
  console.log(`\nself time, top 12:\n${show(self, 12, () => true)}`);
  console.log(
    `\ninclusive time, src/ and node_modules/, top 20:\n${show(inclusive, 20, (l) => /(src|node_modules)\//.test(l))}`,
  );
}

if (import.meta.main) {
  main().catch((err: Error) => {
    process.stderr.write(`profile-gateway: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
