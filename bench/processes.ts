// Bench-only: starts the processes under test — the simulator, the gateway, `kubectl proxy` — and talks to them.
// Every start has a deadline and every process is stopped by its own handle (never by name), so a failed run leaves
// nothing behind.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { openSync } from "node:fs";
import { join } from "node:path";
import type { AgentReply, AgentRequest } from "./agent-process.ts";
import type { GatewayOptions, GatewayReply, GatewayRequest } from "./gateway-process.ts";
import type { SimReply, SimRequest } from "./sim-process.ts";

const START_TIMEOUT_MS = 60_000;

export interface Child<Req extends { op: string }, Reply extends { op: string }> {
  process: ChildProcess;
  /** Sends one request and waits for the reply of the same op (one request at a time). */
  ask<R extends Req>(request: R, timeoutMs?: number): Promise<Extract<Reply, { op: R["op"] }>>;
  stop(): Promise<void>;
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function nextMessage<Reply extends { op: string }>(child: ChildProcess, op: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const msg = raw as Reply | { op: "error"; message: string };
      if (msg.op === "error") {
        cleanup();
        reject(new Error((msg as { message: string }).message));
      } else if (msg.op === op) {
        cleanup();
        resolve(msg as Reply);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (code ${code}) while waiting for '${op}'`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

async function forkChild<Req extends { op: string }, Reply extends { op: string }>(
  script: string,
  args: string[],
  logFile: string,
  execArgv: string[] = [],
): Promise<{ child: Child<Req, Reply>; ready: Extract<Reply, { op: "ready" }> }> {
  const log = openSync(logFile, "a");
  const proc = fork(new URL(script, import.meta.url).pathname, args, {
    execArgv: ["--expose-gc", ...execArgv],
    stdio: ["ignore", log, log, "ipc"],
  });
  const ready = await withDeadline(nextMessage<Reply>(proc, "ready"), START_TIMEOUT_MS, script);
  const child: Child<Req, Reply> = {
    process: proc,
    ask: (request, timeoutMs = 120_000) => {
      const reply = nextMessage<Reply>(proc, request.op);
      proc.send(request);
      return withDeadline(reply, timeoutMs, `${script} ${request.op}`) as never;
    },
    stop: () => stopProcess(proc),
  };
  return { child, ready: ready as Extract<Reply, { op: "ready" }> };
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, "exit");
  if (proc.connected) proc.disconnect();
  else proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

export type SimChild = Child<SimRequest, SimReply>;
export type GatewayChild = Child<GatewayRequest, GatewayReply>;

export function startSim(dir: string) {
  return forkChild<SimRequest, SimReply>("./sim-process.ts", [join(dir, "sim")], join(dir, "sim.log"));
}

/**
 * `name` keeps each gateway's data directory and log apart; `execArgv` adds Node flags; `options` picks a variant (see GatewayOptions in gateway-process.ts), with
 * its own data directory and log.
 */
export type { GatewayOptions } from "./gateway-process.ts";

export function startGatewayProcess(
  dir: string,
  simKubeconfig: string,
  opts: { name?: string; execArgv?: string[]; options?: GatewayOptions } = {},
) {
  const name = opts.name ?? "main";
  return forkChild<GatewayRequest, GatewayReply>(
    "./gateway-process.ts",
    [dir, simKubeconfig, name, JSON.stringify(opts.options ?? {})],
    join(dir, `gateway-${name}.log`),
    opts.execArgv ?? [],
  );
}

/**
 * `airlock serve --config FILE --workers N` as an operator runs it, under `taskset -c CPUS` (the workers inherit the
 * mask): for the scale-on-cores benchmark, whose worker model (a primary and node:cluster workers) needs the CLI's
 * own entry point. The identity is created in the store before the gateway starts; its token stays in this process.
 */
export async function startServeWorkers(
  dir: string,
  simKubeconfig: string,
  workers: number,
  cpus: string,
): Promise<{ url: string; caPem: string; token: string; pid: number; stop(): Promise<void> }> {
  const { mkdir, readFile, writeFile } = await import("node:fs/promises");
  const { openStore } = await import("../src/store/index.ts");
  const dataDir = join(dir, `serve-workers-${workers}`);
  await mkdir(dataDir, { recursive: true });
  const store = await openStore({ kind: "sqlite", path: join(dataDir, "airlock.db") });
  const { token } = await store.identities.create({ name: "bench-agent", kind: "agent", groups: ["agents"] });
  await store.close();
  const configFile = join(dir, `serve-workers-${workers}.yaml`);
  await writeFile(
    configFile,
    JSON.stringify({
      listen: { address: "127.0.0.1", port: 0 },
      dataDir,
      clusters: [{ name: "sim", kubeconfig: { path: simKubeconfig } }],
      policy: { files: [new URL("../examples/policies/demo.yaml", import.meta.url).pathname] },
      log: { level: "info" },
      workers,
    }),
  );
  const { createWriteStream } = await import("node:fs");
  const log = createWriteStream(join(dir, `serve-workers-${workers}.log`), { flags: "a" });
  const proc = spawn(
    "taskset",
    [
      "-c",
      cpus,
      process.execPath,
      new URL("../bin/airlock.ts", import.meta.url).pathname,
      "serve",
      "--config",
      configFile,
      "--workers",
      String(workers),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // `airlock serve` prints its progress ("gateway listening on URL", "ready") on stderr, its logs on stdout: both
  // go to the log file, and both are searched.
  let output = "";
  const url = withDeadline(
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        if (output.length < 1 << 20) output += chunk.toString();
        const m = /gateway listening on (\S+)/.exec(output);
        if (m && /airlock: ready/.test(output)) resolve(m[1] as string);
      };
      proc.stdout.on("data", onData);
      proc.stderr.on("data", onData);
      proc.on("exit", (code) =>
        reject(new Error(`airlock serve exited (${code}): ${output.trim().slice(-2000)}`)),
      );
      proc.on("error", reject);
    }),
    START_TIMEOUT_MS,
    "airlock serve --workers",
  );
  // A start that fails or times out must not leave the gateway running.
  const started = await url.catch(async (err: Error) => {
    await stopProcess(proc);
    log.end();
    throw err;
  });
  proc.on("exit", () => log.end());
  const caPem = await readFile(join(dataDir, "tls", "ca.crt"), "utf8");
  return { url: started, caPem, token, pid: proc.pid as number, stop: () => stopProcess(proc) };
}

/** `airlock agent` (bench/agent-process.ts) for a tunnel gateway; resolves once it is connected. */
export function startAgentProcess(
  dir: string,
  args: { agentsUrl: string; gatewayCaPem: string; joinToken: string; simKubeconfig: string },
) {
  return forkChild<AgentRequest, AgentReply>(
    "./agent-process.ts",
    [JSON.stringify({ ...args, stateDir: join(dir, "agent-state") })],
    join(dir, "agent.log"),
  );
}

/** `kubectl proxy` on a free loopback port, with the simulator's admin kubeconfig; resolves with its base URL. */
export async function startKubectlProxy(
  kubeconfig: string,
  cacheDir: string,
): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const proc = spawn(
    "kubectl",
    ["proxy", "--port=0", "--address=127.0.0.1", "--kubeconfig", kubeconfig, "--cache-dir", cacheDir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const url = await withDeadline(
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Starting to serve on (127\.0\.0\.1:\d+)/.exec(output);
        if (m) resolve(`http://${m[1]}`);
      };
      proc.stdout.on("data", onData);
      proc.stderr.on("data", onData);
      proc.on("exit", (code) => reject(new Error(`kubectl proxy exited (${code}): ${output.trim()}`)));
      proc.on("error", reject);
    }),
    START_TIMEOUT_MS,
    "kubectl proxy",
  );
  proc.stdout.resume();
  proc.stderr.resume();
  return { url, process: proc, stop: () => stopProcess(proc) };
}
