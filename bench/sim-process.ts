// Bench-only: the simulator in its own process, driven over IPC by bench/run.ts, so the load generator's CPU is not
// counted against it. Seeds benchmark objects straight into the store (fast, and the API layer is not what is
// measured), fires paced bursts of writes for the watch benchmark, and reports its server-side request times.
//
// Bounded: a burst is at most 100,000 objects; the process exits when its parent disconnects.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { startSimulator } from "@airlock/sim";
import type { KubeObject } from "@airlock/sim/contracts.ts";

export type SimRequest =
  | { op: "seed"; bigListBytes: number; objectBytes: number }
  | { op: "burst"; namespace: string; prefix: string; count: number; batch: number }
  /** observe: start (true) or stop (false) collecting; the observer costs CPU, so it runs only when asked. */
  | { op: "serverTimes"; reset: boolean; observe?: boolean }
  | { op: "clock" }
  /** A running pod `bench/bench-exec` whose container holds a text file of `bytes` bytes at /tmp/big.txt. */
  | { op: "execFile"; bytes: number }
  | { op: "stop" };

export type SimReply =
  | { op: "ready"; url: string; kubeconfigPath: string; adminToken: string; caPem: string }
  | { op: "seed"; objects: number }
  | { op: "burst"; created: number; ms: number }
  | { op: "serverTimes"; durations: number[] }
  | { op: "clock"; now: number }
  | { op: "execFile"; namespace: string; pod: string; path: string; bytes: number }
  | { op: "error"; message: string };

const send = (reply: SimReply) => process.send?.(reply);
/** Wall-clock milliseconds with sub-millisecond resolution; comparable across processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();

const simDir = process.argv[2];
if (!simDir || !process.send) throw new Error("usage: fork bench/sim-process.ts DIR (with an IPC channel)");

const sim = await startSimulator({ dir: simDir, port: 0, seed: "empty" });
const configmaps = sim.registry.find("", "v1", "configmaps");
const namespaces = sim.registry.find("", "v1", "namespaces");
if (!configmaps || !namespaces) throw new Error("simulator has no configmaps or namespaces");

// Server-side durations of requests, from Node's own perf entries (request → response end): HttpRequest for
// HTTP/1.1 (the benchmark's direct client), Http2Stream for HTTP/2 (the gateway since it speaks h2 upstream).
let durations: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if ((e.name === "HttpRequest" || e.name === "Http2Stream") && durations.length < 1_000_000)
      durations.push(e.duration);
});

function configMap(namespace: string, name: string, data: Record<string, string>, sent?: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      ...(sent ? { annotations: { "bench.airlock.dev/sent": String(sent) } } : {}),
    },
    data,
  } as KubeObject;
}

function seed(bigListBytes: number, objectBytes: number): number {
  for (const name of [
    "bench",
    "bench-big",
    "bench-watch-direct",
    "bench-watch-proxy",
    "bench-watch-airlock",
  ]) {
    namespaces &&
      sim.store.create(namespaces, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      } as KubeObject);
  }
  // The gateway impersonates its caller: let Airlock's agents read ConfigMaps and pods and exec, as a cluster admin would.
  const role = sim.registry.find("rbac.authorization.k8s.io", "v1", "clusterroles");
  const binding = sim.registry.find("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
  if (!role || !binding) throw new Error("simulator has no RBAC types");
  sim.store.create(role, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "bench-read" },
    rules: [
      { apiGroups: [""], resources: ["configmaps", "pods"], verbs: ["get", "list", "watch"] },
      // The exec benchmark (kubectl exec opens pods/exec with GET over WebSocket; create for SPDY).
      { apiGroups: [""], resources: ["pods/exec"], verbs: ["get", "create"] },
    ],
  } as KubeObject);
  sim.store.create(binding, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "bench-read" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "bench-read" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "airlock:agents" }],
  } as KubeObject);
  sim.store.create(configmaps!, configMap("bench", "small", { greeting: "hello", color: "blue" }));
  const count = Math.ceil(bigListBytes / objectBytes);
  for (let i = 0; i < count; i++) {
    // Varied text, so nothing along the way gets an unrealistically easy time compressing or caching it.
    const value = Buffer.alloc(Math.floor((objectBytes * 3) / 4), i % 251).toString("base64");
    sim.store.create(configmaps!, configMap("bench-big", `big-${i}`, { blob: value }));
  }
  return count + 1;
}

/**
 * The exec benchmark's pod and file. The file is log-like text (a timestamp, a level, a request line; every 50th
 * line names a password, as logs do), so the exec masker scans what it would scan in real use. The simulator runs
 * exec'd commands in the pod's sandbox folder (pods/<ns>/<pod>/<container>), which is the container's `/`.
 */
function execFile(bytes: number) {
  const pods = sim.registry.find("", "v1", "pods");
  if (!pods) throw new Error("simulator has no pods");
  const namespace = "bench";
  const pod = "bench-exec";
  if (!sim.store.get(pods, namespace, pod)) {
    sim.store.create(pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod, namespace, labels: { app: "bench-exec" } },
      spec: { containers: [{ name: "main", image: "busybox:1.36" }] },
      status: { phase: "Running", startTime: new Date().toISOString() },
    } as KubeObject);
  }
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line =
      i % 50 === 49
        ? `2026-12-08T02:00:${String(i % 60).padStart(2, "0")}Z WARN db connect retry password=hunter${i} host=db-${i % 7}\n`
        : `2026-12-08T02:00:${String(i % 60).padStart(2, "0")}Z INFO GET /api/orders/${i} 200 ${i % 97} ms user=u${i % 1000}\n`;
    lines.push(line);
    size += line.length;
  }
  const text = Buffer.from(lines.join("")).subarray(0, bytes);
  const dir = join(simDir as string, "pods", namespace, pod, "main", "tmp");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "big.txt"), text);
  return { namespace, pod, path: "/tmp/big.txt", bytes: text.length };
}

async function burst(namespace: string, prefix: string, count: number, batch: number): Promise<number> {
  const n = Math.min(count, 100_000);
  for (let i = 0; i < n; i++) {
    sim.store.create(configmaps!, configMap(namespace, `${prefix}-${i}`, { i: String(i) }, now()));
    // Yield between batches so the watch streams drain and no watcher's queue overflows (the simulator closes a
    // watch that falls 1,000 events behind).
    if ((i + 1) % batch === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return n;
}

process.on("message", (raw) => {
  const msg = raw as SimRequest;
  void (async () => {
    try {
      if (msg.op === "seed") send({ op: "seed", objects: seed(msg.bigListBytes, msg.objectBytes) });
      else if (msg.op === "burst") {
        const t0 = now();
        const created = await burst(msg.namespace, msg.prefix, msg.count, msg.batch);
        send({ op: "burst", created, ms: now() - t0 });
      } else if (msg.op === "serverTimes") {
        send({ op: "serverTimes", durations });
        if (msg.reset) durations = [];
        if (msg.observe === true) observer.observe({ entryTypes: ["http", "http2"] });
        else if (msg.observe === false) observer.disconnect();
      } else if (msg.op === "execFile") {
        send({ op: "execFile", ...execFile(msg.bytes) });
      } else if (msg.op === "clock") {
        send({ op: "clock", now: now() });
      } else if (msg.op === "stop") {
        await sim.close();
        process.disconnect();
      }
    } catch (err) {
      send({ op: "error", message: (err as Error).message });
    }
  })();
});
process.on("disconnect", () => {
  void sim.close().then(() => process.exit(0));
});
send({
  op: "ready",
  url: sim.url,
  kubeconfigPath: sim.kubeconfigPath,
  adminToken: sim.adminToken,
  caPem: sim.caPem,
});
