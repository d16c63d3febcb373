// Benchmark of the classify stage: classifyRequest over the RequestInfo vectors (test/fixtures, the project's own
// copy of the wire-protocol vectors) and one long exec argv.
// Run: npx node bench/classify.ts [rounds]. Prints one Markdown table row for docs/benchmarks.md.
//
// Pure CPU, no IO: measures what classification adds to every request. Per-call latency is timed with hrtime around
// each call, so p99 includes the timer's own cost (~50 ns) and errs high.

import { readFileSync } from "node:fs";
import os from "node:os";
import { classifyRequest } from "../src/kube/classify/index.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/requestinfo-vectors.json", import.meta.url), "utf8"),
) as { method: string; url: string }[];
const inputs = [
  ...vectors,
  {
    method: "GET",
    url: `/api/v1/namespaces/default/pods/nginx/exec?${"command=arg&".repeat(50)}stdout=true`,
  },
];
const rounds = Number(process.argv[2] ?? 2000);

let sink = 0;
for (let i = 0; i < 200; i++)
  for (const v of inputs) sink += classifyRequest(v.method, v.url, "bench").ok ? 1 : 0;

const samples = new Float64Array(rounds * inputs.length);
let n = 0;
const start = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) {
  for (const v of inputs) {
    const t0 = process.hrtime.bigint();
    sink += classifyRequest(v.method, v.url, "bench").ok ? 1 : 0;
    samples[n++] = Number(process.hrtime.bigint() - t0);
  }
}
const totalNs = Number(process.hrtime.bigint() - start);
samples.sort();
const pct = (p: number): number =>
  samples[Math.min(samples.length - 1, Math.floor(samples.length * p))]! / 1000;
const opsPerSec = Math.round((n / totalNs) * 1e9);

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
console.log(
  `| classifyRequest (${inputs.length} inputs × ${rounds}) | ${opsPerSec.toLocaleString("en-US")} ops/s | ` +
    `p50 ${pct(0.5).toFixed(1)} µs | p99 ${pct(0.99).toFixed(1)} µs | Node ${process.versions.node}, ${cpu} |`,
);
if (sink === 0) console.error("no request classified: benchmark is broken");
