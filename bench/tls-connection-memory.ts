// What one idle keep-alive TLS client connection costs a Node process, the way the gateway holds one per watch to the
// cluster: opens N connections to the simulator (in its own process) and compares this process's memory before and
// after, after forced GCs. Once with the CA in the agent options (Node then builds a SecureContext for every new
// connection, as src/upstream does today) and once with one shared secureContext.
//
// Each mode runs in a fresh process of its own: freed memory stays in a process's RSS, so a second measurement in the
// same process would reuse the first one's pages and look cheaper.
//
// Usage: npx node bench/tls-connection-memory.ts [N=200]. Bounded: N ≤ 1,000 connections, all closed.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { startSim } from "./processes.ts";

const MODES = ["CA in agent options", "one shared secureContext"] as const;
const n = Math.min(1000, Number(process.argv[2] ?? 200));
const only = process.argv[3] as (typeof MODES)[number] | undefined;
if (!only) {
  for (const mode of MODES) {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--expose-gc",
      new URL(import.meta.url).pathname,
      String(n),
      mode,
    ]);
    process.stdout.write(stdout);
  }
  process.exit(0);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const memory = () => {
  gc();
  gc();
  return process.memoryUsage();
};

const dir = await mkdtemp(join(os.tmpdir(), "airlock-tls-"));
const { child: sim, ready } = await startSim(dir);
try {
  const url = new URL(ready.url);
  for (const mode of [only]) {
    const tlsOptions =
      mode === "CA in agent options"
        ? { ca: ready.caPem }
        : { secureContext: tls.createSecureContext({ ca: ready.caPem }) };
    const agent = new https.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n, ...tlsOptions });
    const get = () =>
      new Promise<void>((resolve, reject) => {
        const req = https.request(
          {
            hostname: url.hostname,
            port: url.port,
            path: "/version",
            agent,
            headers: { authorization: `Bearer ${ready.adminToken}` },
          },
          (res) => {
            res.resume();
            res.on("end", resolve);
          },
        );
        req.on("error", reject);
        req.end();
      });
    await get(); // warm: TLS code paths, the first context
    await new Promise((r) => setTimeout(r, 200));
    const before = memory();
    await Promise.all(Array.from({ length: n }, get));
    await new Promise((r) => setTimeout(r, 300));
    const after = memory();
    const open = Object.values(agent.freeSockets).reduce((sum, list) => sum + (list?.length ?? 0), 0);
    const per = (k: "rss" | "heapTotal" | "heapUsed") => ((after[k] - before[k]) / open / 1024).toFixed(1);
    console.log(
      `${mode}: ${open} idle connections; per connection RSS ${per("rss")} KiB, V8 heap committed ${per("heapTotal")} KiB, heap used ${per("heapUsed")} KiB`,
    );
    agent.destroy();
  }
} finally {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
}
