// Round trip of a small GET from the gateway's upstream pool to the simulator (in its own process), over HTTP/2
// (a pooled session) and over HTTP/1.1 (the keep-alive agent), sequentially: what the protocol choice costs per
// request, without the rest of the gateway.
//
// Usage: npx node bench/upstream-protocol.ts [N=2000]. Bounded: N ≤ 20,000 requests; the simulator is stopped.
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import { join } from "node:path";
import { H2Request, h2Headers } from "../src/gateway/forward/h2-request.ts";
import { h2PoolOf } from "../src/upstream/h2-pool.ts";
import { openUpstream } from "../src/upstream/index.ts";
import { startSim } from "./processes.ts";
import { summarize } from "./stats.ts";

const n = Math.min(20_000, Number(process.argv[2] ?? 2000));
const dir = await mkdtemp(join(os.tmpdir(), "airlock-upstream-protocol-"));
const { child, ready } = await startSim(dir);
try {
  const upstream = await openUpstream({ name: "sim", kubeconfig: { path: ready.kubeconfigPath } });
  const path = "/api/v1/namespaces/default";
  const once = async (h2: boolean): Promise<number> => {
    const options = await upstream.requestOptions("GET", path, []);
    const started = performance.now();
    const lease = h2 ? await h2PoolOf(options.agent)?.acquire() : undefined;
    if (h2 && !lease) throw new Error("the simulator did not offer h2");
    const req = lease
      ? new H2Request(
          lease.session,
          h2Headers("GET", options.path ?? "/", options.headers as string[]),
          lease.release,
        )
      : https.request(options);
    await new Promise<void>((resolve, reject) => {
      req.on("response", (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end();
    });
    return performance.now() - started;
  };
  for (const h2 of [true, false, true, false]) {
    for (let i = 0; i < 200; i++) await once(h2);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) samples.push(await once(h2));
    const s = summarize(samples);
    console.log(`${h2 ? "HTTP/2  " : "HTTP/1.1"} p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms`);
  }
  upstream.close();
} finally {
  await child.stop();
  await rm(dir, { recursive: true, force: true });
}
