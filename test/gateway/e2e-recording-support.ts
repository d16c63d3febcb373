// Shared by the recording end-to-end tests: kubectl on a terminal (under `script`), the `airlock` CLI as a child
// process against a gateway, and polling.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventuallyMatches } from "../helpers/eventually.ts";

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

export { airlock } from "../helpers/cli.ts";
