// How exec'd commands are contained: every process of a simulated pod runs inside bubblewrap (`bwrap`, Debian package
// bubblewrap) as an unprivileged user in its own user, mount, PID, IPC, UTS, cgroup and network namespaces. The pod's
// sandbox folder is its `/` (the only writable place); the host's /usr (and /bin, /lib… as the host lays them out) are
// mounted read-only, with the two /etc pieces programs need (ld.so.cache, alternatives); /dev is a private minimal
// one and /proc the pod's own. Nothing else of the host exists inside: not the simulator's state folder (its admin
// token), not the demo's gateway data or tokens, not /work, /home or /root, not the host's devices or network.
//
// Failure stance (docs/simulator.md "Exec sandbox"): the sandbox is probed once when the simulator starts (bwrap runs
// `true` in a throwaway pod). When it is missing or fails, the simulator says so loudly and refuses every exec with a
// Status naming the cause — unless it was started with `--unsafe-exec`, which runs commands as plain host processes
// in the pod folder (the old, uncontained behaviour; only for machines without user namespaces).
import { spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { delimiter, isAbsolute, join, posix } from "node:path";

/** The PATH inside the sandbox: only system directories exist there. */
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The user a pod's processes run as (nobody), inside its own user namespace. */
export const SANDBOX_UID = 65534;

export type ExecIsolation =
  | { kind: "bwrap"; bwrap: string }
  | { kind: "unsafe"; reason: string }
  | { kind: "refuse"; reason: string };

export interface IsolationOptions {
  /** Run commands unsandboxed when no sandbox works (`airlock sim --unsafe-exec`). */
  unsafeExec?: boolean;
  /** The bwrap executable (default: found on PATH); tests point it at a missing file to see the refusal. */
  bwrap?: string;
  /** Where the probe's throwaway pod folder is made. */
  probeDir: string;
  /** The simulator's PATH, searched for bwrap. */
  hostPath: string;
}

function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Decides once, at start-up, how this simulator runs exec'd commands. */
export function chooseIsolation(opts: IsolationOptions): ExecIsolation {
  const fallback = (reason: string): ExecIsolation =>
    opts.unsafeExec ? { kind: "unsafe", reason } : { kind: "refuse", reason };
  if (process.platform !== "linux") return fallback(`bubblewrap needs Linux, this is ${process.platform}`);
  const bwrap = opts.bwrap ?? findOnPath("bwrap", opts.hostPath);
  if (!bwrap || !existsSync(bwrap))
    return fallback(`bubblewrap (bwrap) was not found${opts.bwrap ? ` at ${opts.bwrap}` : " on PATH"}`);
  const probe = join(opts.probeDir, ".sandbox-probe");
  try {
    preparePodRoot(probe);
  } catch (err) {
    return fallback(`the probe folder could not be made: ${(err as Error).message}`);
  }
  const run = spawnSync(
    bwrap,
    [...bwrapArgs(probe), "--", "/bin/sh", "-c", 'test "$(id -u)" != 0 && test ! -e /work'],
    {
      env: { PATH: SANDBOX_PATH },
      timeout: 10_000,
      encoding: "utf8",
    },
  );
  if (run.error) return fallback(`bubblewrap could not run: ${run.error.message}`);
  if (run.status !== 0) {
    const why = (run.stderr || `exit status ${run.status}`).trim().split("\n")[0] ?? "";
    return fallback(`bubblewrap failed its self-test: ${why}`);
  }
  return { kind: "bwrap", bwrap };
}

/** The host's top-level directories a pod sees read-only, as the host lays them out (a symlink or a directory). */
const SYSTEM_TOP = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/**
 * Makes a pod folder ready to be a root: the directories every image has, /bin-style symlinks mirroring the host's
 * (so `/bin/sh` works where /bin → usr/bin), and minimal /etc/passwd and /etc/group.
 */
export function preparePodRoot(dir: string): void {
  for (const sub of ["tmp", "var/tmp", "etc", "usr", "dev", "proc"])
    mkdirSync(join(dir, sub), { recursive: true });
  for (const top of SYSTEM_TOP) {
    const host = `/${top}`;
    let target: string | undefined;
    try {
      if (lstatSync(host).isSymbolicLink()) target = readlinkSync(host);
    } catch {
      continue;
    }
    const mine = join(dir, top);
    let exists = false;
    try {
      lstatSync(mine);
      exists = true;
    } catch {
      // absent
    }
    if (target !== undefined && !exists) symlinkSync(target, mine);
    else if (target === undefined && !exists) mkdirSync(mine);
  }
  const passwd = join(dir, "etc/passwd");
  if (!existsSync(passwd))
    writeFileSync(passwd, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
  const group = join(dir, "etc/group");
  if (!existsSync(group)) writeFileSync(group, "root:x:0:\nnogroup:x:65534:\n");
}

/** bwrap's arguments for a pod whose root is `dir` (everything before `--` and the command). */
export function bwrapArgs(dir: string): string[] {
  const args = [
    "--unshare-all", // user, ipc, pid, net, uts, cgroup namespaces: no network, no host processes
    "--unshare-user",
    "--uid",
    String(SANDBOX_UID),
    "--gid",
    String(SANDBOX_UID),
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--bind",
    dir,
    "/",
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const top of SYSTEM_TOP) {
    try {
      const st = lstatSync(`/${top}`);
      if (!st.isSymbolicLink() && st.isDirectory()) args.push("--ro-bind", `/${top}`, `/${top}`);
    } catch {
      // the host has none
    }
  }
  args.push(
    "--ro-bind-try",
    "/etc/ld.so.cache",
    "/etc/ld.so.cache",
    "--ro-bind-try",
    "/etc/alternatives",
    "/etc/alternatives",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--chdir",
    "/",
    // A new session: a pod's process can never reach a terminal of the host (TIOCSTI). A tty session's
    // pseudo-terminal is made inside the sandbox (process.ts), so it needs no exception.
    "--new-session",
  );
  return args;
}

/** The host path of an in-pod path: system directories come from the host (read-only), everything else is the pod's. */
function hostPathOf(dir: string, inPod: string): string {
  const normal = posix.normalize(inPod);
  const top = normal.split("/")[1] ?? "";
  if (top === "usr" || SYSTEM_TOP.includes(top)) return normal;
  return join(dir, normal);
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves argv[0] as the runtime would inside the pod; the error text mirrors runc's `exec: "x": …`. */
export function resolveInPod(command: string, dir: string): { ok: true } | { ok: false; detail: string } {
  if (command.includes("/")) {
    const inPod = isAbsolute(command) ? command : `/${command}`;
    const host = hostPathOf(dir, inPod);
    if (!existsSync(host))
      return { ok: false, detail: `exec: "${command}": stat ${command}: no such file or directory` };
    return isExecutable(host) ? { ok: true } : { ok: false, detail: `exec: "${command}": permission denied` };
  }
  for (const d of SANDBOX_PATH.split(":")) if (isExecutable(join(d, command))) return { ok: true };
  return { ok: false, detail: `exec: "${command}": executable file not found in $PATH` };
}
