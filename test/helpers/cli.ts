// The real `airlock` CLI against a test gateway: what the README tells a user to run, with its token, server and CA
// from the environment (the only way the CLI reads them). One helper for every e2e file that drives the CLI.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestGateway } from "./gateway.ts";

export const AIRLOCK_BIN = fileURLToPath(new URL("../../bin/airlock.ts", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `airlock ARGS` as `token` against `gw` (CA file `caFile`), with HOME in the gateway's temp folder. */
export function runAirlock(gw: TestGateway, caFile: string, token: string, args: string[]): Promise<CliRun> {
  const env = {
    PATH: process.env.PATH,
    HOME: gw.dir,
    AIRLOCK_SERVER: gw.gateway.url,
    AIRLOCK_TOKEN: token,
    AIRLOCK_CA: caFile,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AIRLOCK_BIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
