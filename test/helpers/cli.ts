// The real `airlock` CLI as a child process: what the README tells a user to run, on this Node 24 and this checkout.
// One spawner for every test that drives the CLI: one-shot commands (airlock, runAirlock) and a running
// `airlock serve` (serveAirlock). The environment is only what the caller gives plus PATH, so the machine's own
// AIRLOCK_* variables or ~/.airlock never leak into a test.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventuallyMatches } from "./eventually.ts";
import type { TestGateway } from "./gateway.ts";

export const AIRLOCK_BIN = fileURLToPath(new URL("../../bin/airlock.ts", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `airlock ARGS` with PATH and `env` only; resolves with its exit code and output once it exits. */
export function airlock(
  args: string[],
  env: Record<string, string | undefined> = {},
  opts: { input?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AIRLOCK_BIN, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.stdin?.end(opts.input);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `airlock ARGS` as `token` against `gw` (CA file `caFile`), with HOME in the gateway's temp folder. */
export function runAirlock(gw: TestGateway, caFile: string, token: string, args: string[]): Promise<CliRun> {
  return airlock(args, {
    HOME: gw.dir,
    AIRLOCK_SERVER: gw.gateway.url,
    AIRLOCK_TOKEN: token,
    AIRLOCK_CA: caFile,
  });
}

export interface ServedAirlock {
  child: ChildProcess;
  /** The gateway's URL, from its "gateway listening on" line. */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
}

/**
 * Starts `airlock serve --config FILE` and resolves once it printed "airlock: ready" (a failed start kills it).
 * The caller stops it (kill) and collects `child` in its after().
 */
export async function serveAirlock(
  config: string,
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ServedAirlock> {
  const child = spawn(process.execPath, [AIRLOCK_BIN, "serve", "--config", config], {
    env: { PATH: process.env.PATH, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  for (const s of [child.stdout, child.stderr])
    s.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
  const exited = new Promise<never>((_, reject) =>
    child.on("exit", (code) =>
      reject(new Error(`airlock serve exited (${code}) before it was ready:\n${out}`)),
    ),
  );
  exited.catch(() => {});
  try {
    await Promise.race([eventuallyMatches(() => out, /airlock: ready/, opts.timeoutMs ?? 30_000), exited]);
    const url = /gateway listening on (\S+)/.exec(out)?.[1];
    if (!url) throw new Error(`airlock serve printed no URL:\n${out}`);
    return { child, url, output: () => out };
  } catch (err) {
    child.kill("SIGKILL"); // a start that failed leaves no process behind
    throw err;
  }
}
