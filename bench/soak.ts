// Soak and chaos run (issue 16), outside `npm test`:   npm run soak -- --minutes N [--concurrency 16] [--seed 1]
//
// A demo-shaped gateway (demo policy: masking, review, deny rules; SQLite store) runs in its own process
// (bench/soak-gateway.ts), so its memory and file descriptors are measured alone; it runs in a private mount namespace
// (`unshare -m`) with its data directory on a tmpfs of its own, so the disk can be filled under it without touching
// the machine. The simulator, the TCP fault proxy of test/helpers (between the gateway and the simulator) and the
// clients run in this process. Many identities send mixed kubectl-shaped traffic — reads (masked), writes outside
// prod, watches and log follows cut after a while, exec sessions, raw clients that abort at random moments — while a
// schedule injects faults: the cluster refusing, resetting, stalling and restarting; the SQLite database locked by
// another process; its disk full.
//
// The report (one JSON document on stdout): requests, errors by kind, p50/p99 latency of the plain requests, the
// gateway's RSS, heap and open file descriptors (after a forced GC) when warm (after the first tenth of the run, at
// least 30 s), in the middle and at the end, and whether memory stayed flat (end within 10% of warm); the gateway still
// alive, `audit verify`, and whether every request the simulator answered under an agent's identity has its audit
// event. Figures are for docs/benchmarks.md. --heap-snapshots DIR writes the gateway's heap when warm and at the end
// (compare them in Chrome DevTools' Memory tab to find what grew).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, rm, statfs, unlink } from "node:fs/promises";
import http2 from "node:http2";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { connect as tlsConnect } from "node:tls";
import { parseArgs } from "node:util";
import { startSimulator } from "@airlock/sim";
import { type FaultMode, startFaultProxy } from "../test/helpers/fault-proxy.ts";
import { seededRandom } from "../test/helpers/random.ts";
import type { SoakGatewayReply, SoakGatewayRequest, SoakSample } from "./soak-gateway.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    seed: { type: "string", default: "16" },
    "heap-snapshots": { type: "string" },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const concurrency = Number(values.concurrency);
const rnd = seededRandom(Number(values.seed));

let escaped = 0;
process.on("unhandledRejection", (err) => {
  escaped++;
  process.stderr.write(`soak: unhandledRejection: ${(err as Error)?.stack ?? err}\n`);
});
process.on("uncaughtException", (err) => {
  escaped++;
  process.stderr.write(`soak: uncaughtException: ${err.stack ?? err}\n`);
});

const dir = await mkdtemp(join(tmpdir(), "airlock-soak-"));
const sim = await startSimulator({ dir: join(dir, "sim"), port: 0, seed: "demo" });
const simPort = Number(new URL(sim.url).port);
const proxy = await startFaultProxy({ port: simPort });
const { readFile, writeFile } = await import("node:fs/promises");
const kubeconfig = join(dir, "upstream.kubeconfig");
await writeFile(
  kubeconfig,
  (await readFile(sim.kubeconfigPath, "utf8")).replaceAll(`127.0.0.1:${simPort}`, `127.0.0.1:${proxy.port}`),
);
const policyDir = join(dir, "policies");
await mkdir(policyDir);
await copyFile(new URL("../examples/policies/demo.yaml", import.meta.url), join(policyDir, "demo.yaml"));
const dataDir = join(dir, "gateway");
await mkdir(dataDir);
const config = {
  listen: { address: "127.0.0.1", port: 0 },
  dataDir,
  clusters: [{ name: "demo", kubeconfig: { path: kubeconfig } }],
  policy: { files: [policyDir] },
  limits: { upstreamTimeoutSeconds: 5 },
  log: { level: "warn" },
};
// The gateway's process: `unshare -m` gives it a private mount namespace, where a 256 MiB tmpfs becomes its data
// directory; unshare and sh exec, so the pid is node's, and /proc/<pid>/root/<dataDir> is that tmpfs as seen from here.
const gatewayLog = join(dir, "gateway.stderr");
const { openSync } = await import("node:fs");
const child = spawn(
  "unshare",
  [
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    `mount -t tmpfs -o size=256m,mode=0700 tmpfs ${dataDir} && exec "$@"`,
    "sh",
    process.execPath,
    "--expose-gc",
    new URL("./soak-gateway.ts", import.meta.url).pathname,
    JSON.stringify(config),
    dir,
  ],
  { stdio: ["ignore", "ignore", openSync(gatewayLog, "a"), "ipc"] },
);
function ask<Op extends SoakGatewayRequest["op"]>(
  request: SoakGatewayRequest & { op: Op },
): Promise<Extract<SoakGatewayReply, { op: Op }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: SoakGatewayReply) => {
      if (msg.op !== request.op) return;
      child.off("message", onMessage);
      resolve(msg as Extract<SoakGatewayReply, { op: Op }>);
    };
    child.on("message", onMessage);
    child.send(request, (err: Error | null) => err && reject(err));
  });
}
const ready = await new Promise<Extract<SoakGatewayReply, { op: "ready" }>>((resolve, reject) => {
  child.on("message", (msg: SoakGatewayReply) => msg.op === "ready" && resolve(msg));
  child.once("exit", async (code) =>
    reject(
      new Error(`the gateway exited (${code}) before it was ready: ${await readFile(gatewayLog, "utf8")}`),
    ),
  );
});
const gateway = { url: ready.url, caPem: ready.caPem };
const gatewayData = `/proc/${ready.pid}/root${dataDir}`;
const url = new URL(gateway.url);
const host = url.hostname;
const port = Number(url.port);
const adminToken = ready.adminToken;
const tokens = ready.tokens;
let gatewayUnhandled = 0;

// ---- measurements
const counts = new Map<string, number>();
const count = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
const latencies: number[] = [];
let requests = 0;
// The gateway's own figures, after a forced GC in its process.
const samples: Record<string, SoakSample> = {};
async function sample(name: string) {
  const reply = await ask({ op: "sample" });
  samples[name] = reply.sample;
  gatewayUnhandled = reply.unhandled;
  if (values["heap-snapshots"] && name !== "middle") {
    await ask({ op: "heapSnapshot", path: join(values["heap-snapshots"], `gateway-${name}.heapsnapshot`) });
  }
}

// ---- clients
function json(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${gateway.url}${path}`,
      {
        method,
        ca: gateway.caPem,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

async function plain(token: string) {
  const paths = [
    "/api/v1/namespaces/prod/pods",
    "/api/v1/namespaces/prod/secrets",
    "/api/v1/namespaces/prod/secrets/db-credentials",
    "/apis/apps/v1/deployments",
    "/api/v1/namespaces/prod/configmaps",
    "/version",
  ];
  const started = performance.now();
  const res = await json("GET", rnd.pick(paths), token);
  latencies.push(performance.now() - started);
  count(`status ${res.code}`);
}

async function write(token: string, n: number) {
  const name = `soak-${n}`;
  const created = await json("POST", "/api/v1/namespaces/default/configmaps", token, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name },
    data: { n: String(n) },
  });
  count(`status ${created.code}`);
  const deleted = await json("DELETE", `/api/v1/namespaces/default/configmaps/${name}`, token);
  count(`status ${deleted.code}`);
}

function streamFor(token: string, path: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const session = http2.connect(gateway.url, { ca: gateway.caPem });
    session.on("error", () => {});
    const stream = session.request({ ":path": path, authorization: `Bearer ${token}` });
    stream.on("response", (h) => count(`stream ${h[":status"]}`));
    stream.on("data", () => {});
    stream.on("error", () => count("stream error"));
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), ms);
    stream.on("close", () => {
      clearTimeout(timer);
      session.destroy();
      resolve();
    });
    stream.end();
  });
}

function rawAbort(token: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, ca: gateway.caPem, ALPNProtocols: ["http/1.1"] }, () => {
      s.write(
        `GET /api/v1/namespaces/prod/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
    s.on("error", () => {});
    setTimeout(() => s.destroy(), ms);
    s.on("close", () => {
      count("client abort");
      resolve();
    });
  });
}

function exec(token: string, pod: string): Promise<void> {
  const path =
    `/api/v1/namespaces/prod/pods/${pod}/exec?command=sh&command=-c&command=echo%20soak%3Benv` +
    "&stdout=true&stderr=true";
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, ca: gateway.caPem, ALPNProtocols: ["http/1.1"] }, () => {
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
      );
    });
    let first = true;
    s.on("data", (d: Buffer) => {
      if (first) count(`exec ${d.toString("latin1").slice(9, 12)}`);
      first = false;
    });
    s.on("error", () => {});
    const timer = setTimeout(() => s.destroy(), rnd.int(200, 3000));
    s.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const podList = JSON.parse((await json("GET", "/api/v1/namespaces/prod/pods", tokens[0] ?? "")).body);
const pods: string[] = podList.items.map((p: { metadata: { name: string } }) => p.metadata.name);

const end = Date.now() + durationMs;
let n = 0;
async function worker() {
  while (Date.now() < end) {
    const token = rnd.pick(tokens);
    const op = rnd.next();
    requests++;
    try {
      if (op < 0.55) await plain(token);
      else if (op < 0.7) await write(token, n++);
      else if (op < 0.8) await rawAbort(token, rnd.int(0, 200));
      else if (op < 0.9)
        await streamFor(
          token,
          rnd.pick([
            "/api/v1/namespaces/prod/pods?watch=1",
            "/apis/apps/v1/namespaces/prod/deployments?watch=1",
            `/api/v1/namespaces/prod/pods/${rnd.pick(pods)}/log?follow=true`,
          ]),
          rnd.int(100, 4000),
        );
      else await exec(token, rnd.pick(pods));
    } catch (err) {
      count(`client error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
}

// ---- fault schedule: every 15 s one fault for 2 s
const faults = new Map<string, number>();
async function lockDatabase(ms: number) {
  // Another process holds the SQLite write lock (a backup tool, a stray sqlite3 shell).
  const db = join(gatewayData, "airlock.db");
  const script = `const { DatabaseSync } = require("node:sqlite"); const d = new DatabaseSync(${JSON.stringify(db)});
    d.exec("BEGIN EXCLUSIVE"); setTimeout(() => { d.exec("COMMIT"); d.close(); }, ${ms});`;
  const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
}
async function fillDisk(ms: number) {
  // The gateway's disk full: its WAL emptied into the database file (as SQLite's own checkpoint does, so the next write
  // needs new space), then every free byte of its tmpfs taken, for `ms`.
  const db = new DatabaseSync(join(gatewayData, "airlock.db"), { timeout: 2000 });
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  const filler = join(gatewayData, "filler");
  const free = await statfs(gatewayData);
  const chunk = Buffer.alloc(4 * 1048576);
  try {
    for (let left = free.bavail * free.bsize; left > 0; left -= chunk.length) {
      await writeFile(filler, left >= chunk.length ? chunk : chunk.subarray(0, left), { flag: "a" });
    }
    await writeFile(filler, chunk, { flag: "a" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  }
  await new Promise((r) => setTimeout(r, ms));
  await unlink(filler);
}
const faultTimer = setInterval(async () => {
  const kind = rnd.pick(["refuse", "reset", "stall", "restart", "sqlite-lock", "disk-full"] as const);
  faults.set(kind, (faults.get(kind) ?? 0) + 1);
  if (kind === "restart") return proxy.dropAll();
  if (kind === "sqlite-lock") return lockDatabase(2000);
  if (kind === "disk-full") {
    return fillDisk(2000).catch((err) => process.stderr.write(`soak: disk-full fault: ${err.message}\n`));
  }
  proxy.mode = kind as FaultMode;
  if (kind === "refuse") proxy.dropAll();
  setTimeout(() => {
    proxy.mode = "pass";
    if (kind === "stall") proxy.dropAll();
  }, 2000);
}, 15_000);

// ---- what the cluster saw, collected as it goes (the simulator keeps only its newest 10,000 entries)
interface SimRecord {
  seq: number;
  method: string;
  path: string;
  impersonatedUser?: string;
}
const seen: SimRecord[] = [];
let simSeq = 0;
async function collectSimRequests() {
  const res = await new Promise<string>((resolve, reject) => {
    const req = request(
      `${sim.url}/sim/v1/requests?since=${simSeq}`,
      { ca: sim.caPem, headers: { authorization: `Bearer ${sim.adminToken}` } },
      (r) => {
        let t = "";
        r.setEncoding("utf8").on("data", (d: string) => {
          t += d;
        });
        r.on("end", () => resolve(t));
      },
    );
    req.on("error", reject);
    req.end();
  });
  for (const item of JSON.parse(res).items as SimRecord[]) {
    simSeq = Math.max(simSeq, item.seq);
    if (item.impersonatedUser?.startsWith("airlock:soak-agent-")) seen.push(item);
  }
}
const collector = setInterval(() => void collectSimRequests().catch(() => {}), 3000);

await sample("start");
// Warm: after the first tenth of the run (at least 30 s), caches, pools and the JIT have settled.
const warmAfter = Math.min(durationMs / 2, Math.max(30_000, durationMs / 10));
const warm = setTimeout(() => void sample("warm"), warmAfter);
const middle = setTimeout(() => void sample("middle"), durationMs / 2 + 1000);
await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(faultTimer);
clearTimeout(middle);
clearTimeout(warm);
proxy.mode = "pass";
await new Promise((r) => setTimeout(r, 3000)); // streams end, completions land
clearInterval(collector);
await collectSimRequests();
await sample("end");

// ---- checks
const alive = (await json("GET", "/healthz", adminToken).catch(() => ({ code: 0, body: "" }))).code === 200;
const verify = JSON.parse((await json("GET", "/airlock/v1/audit/verify", adminToken)).body);
// Every audit event, page by page through the admin API (a page holds at most 1000).
interface Event {
  decision: string;
  method: string;
  path: string;
  subresource: string | null;
  identityName: string;
  time: string;
  completedAt: string | null;
}
const events: Event[] = [];
for (let cursor: string | null | undefined; ; ) {
  const page = JSON.parse(
    (
      await json(
        "GET",
        `/airlock/v1/audit?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        adminToken,
      )
    ).body,
  );
  events.push(...page.items);
  cursor = page.nextCursor;
  if (!cursor) break;
}
const allowed = new Map<string, number>();
for (const e of events) {
  if (e.decision !== "allow") continue;
  const key = `${e.method} ${e.path} airlock:${e.identityName}`;
  allowed.set(key, (allowed.get(key) ?? 0) + 1);
}
let unaudited = 0;
for (const s of seen) {
  const key = `${s.method} ${s.path.split("?")[0]} ${s.impersonatedUser}`;
  const left = allowed.get(key) ?? 0;
  if (left > 0) allowed.set(key, left - 1);
  else unaudited++;
}
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) => Math.round((sorted[Math.floor((sorted.length - 1) * p)] ?? 0) * 10) / 10;
const report = {
  minutes: Number(values.minutes),
  concurrency,
  operations: requests,
  auditEvents: events.length,
  openWithoutCompletion: events.filter((e) => e.completedAt === null).length,
  openEvents: events
    .filter((e) => e.completedAt === null)
    .slice(0, 10)
    .map((e) => `${e.method} ${e.path} ${e.subresource} ${e.time}`),
  outcomes: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
  faults: Object.fromEntries(faults),
  plainRequestLatencyMs: { p50: pct(0.5), p99: pct(0.99), n: sorted.length },
  gatewayMemory: samples,
  rssGrowthWarmToEnd:
    samples.warm && samples.end
      ? Math.round((samples.end.rssMiB / samples.warm.rssMiB - 1) * 1000) / 10
      : null,
  heapGrowthWarmToEnd:
    samples.warm && samples.end
      ? Math.round((samples.end.heapMiB / samples.warm.heapMiB - 1) * 1000) / 10
      : null,
  gatewayAlive: alive,
  unhandledErrors: { gateway: gatewayUnhandled, clients: escaped },
  auditVerify: { ok: verify.ok, records: verify.records, problems: verify.problems?.length ?? null },
  clusterRequestsSeen: seen.length,
  clusterRequestsWithoutAuditEvent: unaudited,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const exited = once(child, "exit");
child.disconnect();
await exited;
await proxy.close();
await sim.close();
await rm(dir, { recursive: true, force: true });
const flat = (report.rssGrowthWarmToEnd ?? 100) <= 10;
process.exit(
  alive && escaped === 0 && gatewayUnhandled === 0 && verify.ok && unaudited === 0 && flat ? 0 : 1,
);
