// Runs the real kubectl against a kubeconfig, asynchronously (a sync child process would block the event loop of a
// server in the same process), with a fresh --cache-dir per call so discovery and /version caches never leak
// between tests.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./eventually.ts";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cacheDir(): string {
  return mkdtempSync(join(tmpdir(), "airlock-kubectl-cache-"));
}

export async function kubectl(
  kubeconfig: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  const cache = cacheDir();
  const child = spawn("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cache, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin.end(opts.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const code = await new Promise<number>((resolve) => {
    child.on("close", (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  clearTimeout(timer);
  rmSync(cache, { recursive: true, force: true });
  return { code, stdout, stderr };
}

/** For long-running commands (get -w, logs -f, port-forward): the caller reads the streams and kills the child. */
export function spawnKubectl(kubeconfig: string, args: string[], env?: Record<string, string>): ChildProcess {
  const cache = cacheDir();
  const child = spawn("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cache, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  child.on("close", () => rmSync(cache, { recursive: true, force: true }));
  return child;
}

/** The name of a running pod matching `selector` in `namespace` (the demo seed's web pods), once one runs. */
export function runningPod(
  kubeconfig: string,
  { namespace = "prod", selector = "app=web" }: { namespace?: string; selector?: string } = {},
): Promise<string> {
  const args = [
    "get",
    "pods",
    "-n",
    namespace,
    "-l",
    selector,
    "--field-selector=status.phase=Running",
    "-o",
    "name",
  ];
  return eventually(`a running pod ${selector} in ${namespace}`, async () => {
    const r = await kubectl(kubeconfig, args);
    if (r.code !== 0) throw new Error(r.stderr);
    return (
      r.stdout
        .trim()
        .split("\n")[0]
        ?.replace(/^pod\//, "") || undefined
    );
  });
}
