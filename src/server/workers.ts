// `airlock serve --workers N` (issue 18, scale on cores): N node:cluster worker processes share the listening port,
// each running the whole gateway (startGateway) as a replica of the others; one primary process coordinates.
//
// Why processes (node:cluster) and not worker threads: a listening socket can be shared between processes (the
// primary accepts and hands each connection to a worker in turn), not between threads of one process; and a worker
// that crashes (a native fault, out of memory) takes only its own connections down — the primary restarts it while
// the others serve. Each worker is exactly what issue 16 §7 made several replicas: per-process state (live streams,
// in-flight limits, metrics) stays per worker; everything that must behave as one lives in the store or travels on
// the event bus.
//
// The primary serves no requests. It opens the store first (migrations run once, before any worker), owns the ONE
// audit chain writer of the host and the audit service (checkpoints, retention, sinks — once, not per worker),
// answers the workers' forwarded operations (worker-ipc.ts: chained audit writes, the chain head, shared counters),
// relays their event-bus messages to each other (SQLite; PostgreSQL workers use LISTEN/NOTIFY), restarts a worker
// that dies, and on SIGTERM/SIGINT asks every worker to shut down gracefully before it closes the store.
// Invariants: a worker forwards a request only after the primary answered that its begin record committed; a worker
// whose channel to the primary closes refuses what is pending (store fault, 503) and exits.
import cluster, { type Worker } from "node:cluster";
import { mkdir } from "node:fs/promises";
import { startAuditService } from "../audit/service.ts";
import type { GatewayConfig } from "../gateway/config.ts";
import { createLogger } from "../shared/log.ts";
import { openStore, storeOptionsFor } from "../store/index.ts";
import type { Gateway } from "./index.ts";
import {
  answer,
  PrimaryClient,
  type PrimaryMessage,
  processChannel,
  type WorkerMessage,
  workerEventBus,
} from "./worker-ipc.ts";

/** A worker that dies sooner than this after its start is restarted after a pause (no crash loop at full speed). */
const QUICK_DEATH_MS = 5_000;

export interface PrimaryIo {
  stderr: NodeJS.WritableStream;
  /** Resolves on SIGTERM/SIGINT. */
  waitForSignal(): Promise<unknown>;
  onHangUp(listener: () => void): () => void;
}

/** The primary: starts the workers, serves their forwarded operations, restarts them, shuts them down. */
export async function runPrimary(config: GatewayConfig, workers: number, io: PrimaryIo): Promise<number> {
  const log = createLogger({ level: config.log.level, name: "airlock-primary" });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const storeOptions = storeOptionsFor(config.store, config.dataDir, log);
  const store = await openStore(
    storeOptions.kind === "sqlite" ? { ...storeOptions, durability: config.audit.durability } : storeOptions,
  );
  const audit = await startAuditService({
    store,
    dataDir: config.dataDir,
    config: config.audit,
    log,
    stdout: process.stdout,
  });
  // The kernel hands connections to the workers (each accepts on the shared socket), not the primary: with the
  // round-robin default, connections the primary had passed to a worker that then died were never answered
  // (measured: a SIGKILLed worker left its in-transit connections hanging in the primary for good), and every
  // connection cost the primary an accept and an IPC hand-off.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // JSON: the messages are plain data (audit events, counters); a round trip of an audit event costs ~7 µs of CPU
  // against ~18 µs with the structured-clone ("advanced") serializer (measured, Node 24).
  cluster.setupPrimary({ serialization: "json" });
  let stopping = false;
  const live = new Map<number, Worker>(); // worker number -> process
  const relay = (from: Worker, m: WorkerMessage & { k: "bus" }) => {
    for (const w of live.values()) if (w !== from && w.isConnected()) w.send(m satisfies PrimaryMessage);
  };
  let announced: (url: string) => void = () => {};

  const start = (n: number): Worker => {
    const startedAt = Date.now();
    const worker = cluster.fork({ AIRLOCK_WORKER: String(n) });
    live.set(n, worker);
    worker.on("message", (m: WorkerMessage) => {
      if (m.k === "call") {
        void answer(store, m).then((reply) => {
          if (worker.isConnected()) worker.send(reply);
        });
      } else if (m.k === "bus") relay(worker, m);
      else if (m.k === "ready") {
        io.stderr.write(`airlock: worker ${n} pid ${worker.process.pid} listening\n`);
        announced(m.url);
      }
    });
    worker.on("exit", (code, signal) => {
      if (live.get(n) === worker) live.delete(n);
      if (stopping) return;
      const quick = Date.now() - startedAt < QUICK_DEATH_MS;
      log.error(
        { worker: n, pid: worker.process.pid, code, signal },
        "a gateway worker exited; starting another",
      );
      io.stderr.write(
        `airlock: worker ${n} (pid ${worker.process.pid}) exited (${signal ?? code}); restarting it\n`,
      );
      setTimeout(
        () => {
          if (!stopping) start(n);
        },
        quick ? 1000 : 0,
      ).unref();
    });
    return worker;
  };

  // The first worker starts alone: it creates what the data directory still lacks (TLS material, the admin token,
  // the identity CA) before the others read it. Then the rest, together.
  const ready = (count: number) =>
    new Promise<string>((resolve, reject) => {
      let seen = 0;
      announced = (url) => {
        seen += 1;
        if (seen === count) resolve(url);
      };
      cluster.once("exit", (w, code) => {
        if (seen < count) reject(new Error(`worker pid ${w.process.pid} exited (${code}) while starting`));
      });
    });
  let url: string;
  try {
    const first = ready(1);
    start(1);
    url = await first;
    if (workers > 1) {
      const rest = ready(workers - 1);
      for (let n = 2; n <= workers; n++) start(n);
      await rest;
    }
  } catch (err) {
    stopping = true;
    for (const w of live.values()) w.process.kill("SIGKILL");
    await audit.close();
    await store.close();
    io.stderr.write(`airlock serve: could not start: ${(err as Error).message}\n`);
    return 1;
  }
  announced = () => {};
  io.stderr.write(
    `airlock: gateway listening on ${url} (${workers} workers)\n` +
      `airlock: admin token in ${config.dataDir}/admin.token (mode 0600); CA certificate in ${config.dataDir}/tls/ca.crt\n` +
      "airlock: ready\n",
  );
  const offHangUp = io.onHangUp(() => {
    for (const w of live.values()) if (w.isConnected()) w.send({ k: "reload" } satisfies PrimaryMessage);
  });
  await io.waitForSignal();
  offHangUp();
  stopping = true;
  io.stderr.write("airlock: shutting down…\n");
  // Each worker closes gracefully (its completion records still reach the chain writer here), then exits.
  await Promise.all(
    [...live.values()].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once("exit", () => resolve());
          if (w.isConnected()) w.send({ k: "shutdown" } satisfies PrimaryMessage);
          else w.process.kill("SIGTERM");
        }),
    ),
  );
  await audit.close();
  await store.close();
  return 0;
}

/** The worker number of this process (1…N), or undefined in a single-process gateway. */
export function workerNumber(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env.AIRLOCK_WORKER);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A worker: runs startGateway with the primary as audit writer (and bus, on SQLite) until the primary says stop. */
export async function runWorker(
  config: GatewayConfig,
  reload: (gateway: Pick<Gateway, "reload">) => Promise<void>,
): Promise<number> {
  const n = workerNumber() ?? 0;
  const primary = new PrimaryClient(processChannel());
  // The primary alone decides when to stop: a terminal's Ctrl-C reaches the whole process group.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  const { startGateway } = await import("./index.ts");
  const gateway = await startGateway(config, {
    env: process.env,
    worker: {
      number: n,
      primary,
      ...(config.store.kind === "sqlite" ? { bus: workerEventBus(primary) } : {}),
    },
  });
  const stop = new Promise<void>((resolve) => {
    process.on("message", (m: PrimaryMessage) => {
      if (m.k === "shutdown") resolve();
      else if (m.k === "reload") void reload(gateway);
    });
    // The primary is gone: nothing can be audited any more; refuse what waits and leave.
    process.on("disconnect", () => {
      primary.failAll();
      resolve();
    });
  });
  process.send?.({ k: "ready", url: gateway.url } satisfies WorkerMessage);
  await stop;
  await gateway.close();
  // The IPC channel is what still holds the process: closing it lets the worker exit like a single gateway does.
  if (process.connected) process.disconnect();
  return 0;
}
