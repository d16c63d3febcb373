// The per-container sandbox directory where exec'd commands run: `<sandboxRoot>/<namespace>/<pod>/<container>`,
// created on demand. It stands in for the container's root filesystem.
//
// Path mapping (how `kubectl cp` and `kubectl exec -- cat /tmp/x` stay inside the sandbox): the process runs with
// its working directory and HOME at the sandbox root, and every argument after argv[0] that is an absolute path is
// rewritten to the same path relative to that root — `/tmp/x.txt` → `tmp/x.txt`, `/` → `.` — after normalising
// away `..`, so it cannot climb out. Relative paths then keep meaning "relative to /". Relative rewriting (rather
// than `<root>/tmp/x.txt`) matters for `tar cf - /tmp/x.txt`: tar then stores the member as `tmp/x.txt`, exactly the
// name kubectl expects when it unpacks a download. argv[0] is looked up on the host PATH and never mapped.
//
// Stance: this is containment for a loopback test tool, not a security boundary. Paths inside a shell string
// (`sh -c 'cat /etc/x'`), relative `..` arguments and what a program does on its own are not mapped.
import { mkdirSync } from "node:fs";
import { join, posix } from "node:path";
import { StatusError } from "../status.ts";

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The sandbox path for a container; refuses names that could step outside the root. */
export function sandboxPath(root: string, namespace: string, pod: string, container: string): string {
  for (const part of [namespace, pod, container]) {
    if (!SAFE_SEGMENT.test(part) || part.includes("..")) {
      throw StatusError.of("BadRequest", `invalid name "${part}" for a sandbox path`);
    }
  }
  return join(root, namespace, pod, container);
}

/** Creates the sandbox and the directories every container image has (/tmp, /var/tmp). */
export function ensureSandbox(dir: string): string {
  for (const sub of ["tmp", "var/tmp", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
  return dir;
}

/** An absolute in-container path as a path relative to the sandbox root (which is the process's cwd). */
export function mapPath(arg: string): string {
  const normal = posix.normalize(arg); // "/a/../../b" → "/b": `..` cannot climb above "/"
  const relative = normal.replace(/^\/+/, "");
  return relative === "" ? "." : relative;
}

export function mapArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (i > 0 && arg.startsWith("/") ? mapPath(arg) : arg));
}
