// Starts a container's command as a real host process: plain pipes, or a pseudo-terminal through pty-helper.py
// (Python's pty module: no native addon). The executable is resolved against the container's PATH first, so an
// unknown command fails the way the container runtime reports it instead of as a spawn error later.
//
// Failure stance: every process runs in its own process group and is killed with the whole group when the session
// ends; a process never outlives its exec session.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { TerminalSize } from "./channel.ts";
import { bwrapArgs, resolveInPod } from "./isolation.ts";

const HELPER = fileURLToPath(new URL("./pty-helper.py", import.meta.url));
let helperText: string | undefined;
/** The pty helper's source, read once (a sandboxed tty runs it with `python3 -c`). */
function helperCode(): string {
  helperText ??= readFileSync(HELPER, "utf8");
  return helperText;
}
const KILL_GRACE_MS = 1000;

export interface StartOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  tty: boolean;
  /** Where python3 lives, for tty sessions (see findPython). */
  python?: string;
  /** Run inside bubblewrap with `root` as the pod's `/` (isolation.ts); absent only under --unsafe-exec. */
  sandbox?: { bwrap: string; root: string };
}

export interface RunningProcess {
  stdin: Writable;
  stdout: Readable;
  /** Absent with a tty: the terminal merges it into stdout. */
  stderr: Readable | undefined;
  resize(size: TerminalSize): void;
  /** Ends the process (and its group) now. */
  kill(): void;
  /** Resolves with the exit status (128+signal when killed) once the process is gone and its output drained. */
  exited: Promise<number>;
}

export type StartResult = { ok: true; process: RunningProcess } | { ok: false; detail: string };

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves argv[0] as the runtime's exec does; the error text mirrors runc's `exec: "x": …`. */
export function resolveExecutable(
  command: string,
  cwd: string,
  pathVar: string,
): { ok: true; path: string } | { ok: false; detail: string } {
  if (command.includes("/")) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    try {
      statSync(full);
    } catch {
      return { ok: false, detail: `exec: "${command}": stat ${command}: no such file or directory` };
    }
    return isExecutableFile(full)
      ? { ok: true, path: full }
      : { ok: false, detail: `exec: "${command}": permission denied` };
  }
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return { ok: true, path: candidate };
  }
  return { ok: false, detail: `exec: "${command}": executable file not found in $PATH` };
}

/** A python3 that does not depend on HOME (pyenv shims do), preferring the system one. */
export function findPython(hostPath: string): string | undefined {
  const dirs = [
    "/usr/bin",
    "/usr/local/bin",
    ...hostPath.split(delimiter).filter((d) => d && !d.includes("shims")),
  ];
  for (const dir of dirs) {
    const candidate = join(dir, "python3");
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (osConstants.signals[signal] ?? 9) : 9);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function startProcess(opts: StartOptions): StartResult {
  const [command, ...args] = opts.argv;
  if (command === undefined) return { ok: false, detail: "exec: no command" };
  if (opts.tty && !opts.python)
    return { ok: false, detail: "exec: a tty needs python3 on the simulator host" };
  let program: string;
  let programArgs: string[];
  if (opts.sandbox) {
    const inPod = resolveInPod(command, opts.sandbox.root);
    if (!inPod.ok) return inPod;
    program = opts.sandbox.bwrap;
    // With a tty the helper runs inside the sandbox too (its code passed with -c, python3 comes from the read-only
    // /usr): the pseudo-terminal then belongs to the pod's own PID namespace and session, never to the host.
    const inner = opts.tty
      ? [opts.python as string, "-c", helperCode(), command, command, ...args]
      : [command, ...args];
    programArgs = [...bwrapArgs(opts.sandbox.root), "--", ...inner];
  } else {
    const found = resolveExecutable(command, opts.cwd, opts.env.PATH ?? "");
    if (!found.ok) return found;
    program = opts.tty ? (opts.python as string) : found.path;
    programArgs = opts.tty ? [HELPER, found.path, command, ...args] : args;
  }

  const child = opts.tty
    ? spawn(program, programArgs, {
        cwd: opts.cwd,
        env: opts.env,
        stdio: ["pipe", "pipe", "pipe", "pipe"],
        detached: true,
      })
    : spawn(program, programArgs, {
        argv0: opts.sandbox ? "bwrap" : command,
        cwd: opts.cwd,
        env: opts.env,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  const stderr = child.stderr as Readable;
  const resizePipe = opts.tty ? (child.stdio[3] as Writable) : undefined;
  // EPIPE on a process that stopped reading is normal: the exit status tells the story.
  stdin.on("error", () => {});
  resizePipe?.on("error", () => {});
  if (opts.tty) stderr.resume(); // the helper's own complaints; the terminal carries the command's stderr

  const exited = new Promise<number>((resolveExit) => {
    child.on("error", () => resolveExit(127));
    child.on("close", (code, signal) => resolveExit(exitCode(code, signal)));
  });
  let killed = false;
  return {
    ok: true,
    process: {
      stdin,
      stdout,
      stderr: opts.tty ? undefined : stderr,
      resize(size) {
        resizePipe?.write(`${size.width} ${size.height}\n`);
      },
      kill() {
        if (killed) return;
        killed = true;
        stdin.destroy();
        killGroup(child, opts.tty ? "SIGTERM" : "SIGKILL");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS);
        timer.unref();
      },
      exited,
    },
  };
}
