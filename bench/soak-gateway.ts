// Bench-only: the gateway of the soak run (bench/soak.ts) in its own process, so its memory and file descriptors are
// measured alone (not mixed with the simulator, the fault proxy and the clients). Started by soak.ts with an IPC
// channel (and, for the SQLite disk faults, inside its own mount namespace with a tmpfs data directory). Run with
// --expose-gc: a memory sample is taken after two forced collections, so it shows what the gateway keeps, not what
// the collector has not reached yet.
//
// argv: CONFIG_JSON (an airlock.yaml-shaped object, validated as `airlock serve` validates it) BASE_DIR
import { readdir } from "node:fs/promises";
import { Writable } from "node:stream";
import { writeHeapSnapshot } from "node:v8";
import { validateConfig } from "../src/gateway/config.ts";
import { startGateway } from "../src/server/index.ts";

export type SoakGatewayRequest = { op: "sample" } | { op: "heapSnapshot"; path: string };

export interface SoakSample {
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  fds: number;
}

export type SoakGatewayReply =
  | { op: "ready"; url: string; caPem: string; adminToken: string; tokens: string[]; pid: number }
  | { op: "sample"; sample: SoakSample; unhandled: number }
  | { op: "heapSnapshot"; path: string };

const [configJson, baseDir] = process.argv.slice(2);
if (!configJson || !baseDir || !process.send)
  throw new Error("usage: soak.ts forks this file with an IPC channel");
const send = (reply: SoakGatewayReply) => process.send?.(reply);

// What would kill `airlock serve` (its last-resort handler exits 70) is counted here, and the soak fails on it.
let unhandled = 0;
process.on("unhandledRejection", (err) => {
  unhandled++;
  process.stderr.write(`soak gateway: unhandledRejection: ${(err as Error)?.stack ?? err}\n`);
});
process.on("uncaughtException", (err) => {
  unhandled++;
  process.stderr.write(`soak gateway: uncaughtException: ${err.stack ?? err}\n`);
});

const validated = validateConfig(JSON.parse(configJson), baseDir);
if (!validated.ok) throw new Error(validated.errors.join("; "));
// The gateway's log is discarded (a 10-minute chaos run writes a lot of it); stderr carries what matters.
const gateway = await startGateway(validated.config, {
  logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const { readFile } = await import("node:fs/promises");
const adminToken = (await readFile(gateway.adminTokenPath, "utf8")).trim();
const tokens: string[] = [];
for (let i = 0; i < 12; i++) {
  const { token } = await gateway.store.identities.create({
    name: `soak-agent-${i}`,
    kind: "agent",
    groups: ["agents"],
  });
  tokens.push(token);
}

const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
async function sample(): Promise<SoakSample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return {
    rssMiB: mib(m.rss),
    heapMiB: mib(m.heapUsed),
    externalMiB: mib(m.external),
    fds: (await readdir("/proc/self/fd")).length,
  };
}

process.on("message", (raw) => {
  const msg = raw as SoakGatewayRequest;
  if (msg.op === "sample") void sample().then((s) => send({ op: "sample", sample: s, unhandled }));
  else if (msg.op === "heapSnapshot") send({ op: "heapSnapshot", path: writeHeapSnapshot(msg.path) });
});
process.on("disconnect", () => {
  void gateway.close().then(() => process.exit(0));
});
send({ op: "ready", url: gateway.url, caPem: gateway.caPem, adminToken, tokens, pid: process.pid });
