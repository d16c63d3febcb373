// Bench-only: starts the processes under test — the simulator, the gateway, `kubectl proxy` — and talks to them.
// Every start has a deadline and every process is stopped by its own handle (never by name), so a failed run leaves
// nothing behind.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { openSync } from "node:fs";
import { join } from "node:path";
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
