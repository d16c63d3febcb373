// Shared by the recording end-to-end tests: kubectl on a terminal (under `script`), the `airlock` CLI as a child
// process against a gateway, and polling.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventuallyMatches } from "../helpers/eventually.ts";

const BIN = join(import.meta.dirname, "../../bin/airlock.ts");

/** kubectl under `script`, so that it sees a terminal of the given size. */
export function kubectlOnTerminal(
  kubeconfig: string,
  args: string[],
  size = { cols: 91, rows: 27 },
): { child: ChildProcess; output: () => string; closed: Promise<number> } {
  const cache = mkdtempSync(join(tmpdir(), "airlock-kubectl-cache-"));
  const quoted = ["kubectl", "--kubeconfig", kubeconfig, "--cache-dir", cache, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const child = spawn(
    "script",
    ["-qec", `stty cols ${size.cols} rows ${size.rows}; exec ${quoted}`, "/dev/null"],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const closed = new Promise<number>((resolve) =>
    child.on("close", (code) => {
      rmSync(cache, { recursive: true, force: true });
      resolve(code ?? -1);
    }),
  );
  return { child, output: () => out, closed };
}

/** Waits until `read()` matches, failing with what was read so far. */
export const waitFor = (read: () => string, pattern: RegExp, ms = 15_000): Promise<string> =>
  eventuallyMatches(read, pattern, ms);

/** Runs `airlock …` (Node 24, this checkout) with the given environment; resolves with its exit code and output. */
export function airlock(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}
