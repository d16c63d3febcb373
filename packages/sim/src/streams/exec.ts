// pods/exec over a WebSocket: the command runs as a real process in the container's sandbox (sandbox.ts) with the
// container's environment (env.ts); stdio travels on channels 0–2, resize on 4, the exit Status on 3 (§2.8).
//
// Stance: the process lives exactly as long as the session and never longer than its pod (sessions.ts). A client
// that goes away kills its process group; a
// process that ends sends its Status after all its output and closes the socket normally. Output and input both
// respect backpressure (the process's pipes are paused while the socket backlog is high, and the socket is paused
// while the process's stdin is full).

import type { StreamContext, UpgradeRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { CHANNEL, type ChannelStatus, exitStatus, parseResize, startFailureStatus } from "./channel.ts";
import type { ChannelSocket } from "./channel-socket.ts";
import { processEnv, storeEnvSources } from "./env.ts";
import { preparePodRoot, SANDBOX_PATH } from "./isolation.ts";
import { type ContainerSpec, chooseContainer, findPod, flag, type PodView, requireRunning } from "./pod.ts";
import { findPython, type RunningProcess, startProcess } from "./process.ts";
import { ensureSandbox, mapArgv, sandboxPath } from "./sandbox.ts";
import { trackSession } from "./sessions.ts";

// The one place the simulator reads its own environment: a container inherits the host's PATH (and python3 for
// the tty helper is found on it). This is the IO edge where processes are made.
const HOST_PATH = process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PYTHON = findPython(HOST_PATH);

export interface StdioRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecPlan extends StdioRequest {
  view: PodView;
  container: ContainerSpec;
  argv: string[];
}

/** Validates the query as kube-apiserver does before any upgrade. Throws StatusError. */
export function parseStdio(query: URLSearchParams): StdioRequest {
  const io = {
    stdin: flag(query, "stdin"),
    stdout: flag(query, "stdout"),
    stderr: flag(query, "stderr"),
    tty: flag(query, "tty"),
  };
  if (!io.stdin && !io.stdout && !io.stderr) {
    throw StatusError.of("BadRequest", "you must specify at least one of stdin, stdout, stderr");
  }
  // With a tty the terminal merges stderr into stdout (kube-apiserver drops stderr the same way).
  if (io.tty) io.stderr = false;
  return io;
}

export function planExec(ctx: StreamContext, u: UpgradeRequest): ExecPlan {
  const view = findPod(ctx, u.route.namespace, u.route.name);
  const container = chooseContainer(view, u.route.query.get("container"));
  const argv = u.route.query.getAll("command");
  if (argv.length === 0) throw StatusError.of("BadRequest", "you must specify at least 1 command");
  const io = parseStdio(u.route.query);
  requireRunning(view, container.name, "exec");
  if (ctx.isolation.kind === "refuse") throw StatusError.of("Forbidden", refusal(ctx.isolation.reason));
  return { view, container, argv, ...io };
}

function start(
  ctx: StreamContext,
  plan: ExecPlan,
): { ok: true; process: RunningProcess } | { ok: false; detail: string } {
  const dir = ensureSandbox(
    sandboxPath(ctx.sandboxRoot, plan.view.namespace, plan.view.name, plan.container.name),
  );
  const isolation = ctx.isolation;
  if (isolation.kind === "bwrap") {
    // Sandboxed: the pod folder is the process's `/`, so in-container paths need no mapping.
    preparePodRoot(dir);
    const env = processEnv(plan.view, plan.container, storeEnvSources(ctx, plan.view.namespace), {
      hostPath: SANDBOX_PATH,
      home: "/",
      tty: plan.tty,
    });
    return startProcess({
      argv: plan.argv,
      cwd: dir,
      env,
      tty: plan.tty,
      python: PYTHON,
      sandbox: { bwrap: isolation.bwrap, root: dir },
    });
  }
  if (isolation.kind === "refuse") return { ok: false, detail: refusal(isolation.reason) };
  const env = processEnv(plan.view, plan.container, storeEnvSources(ctx, plan.view.namespace), {
    hostPath: HOST_PATH,
    home: dir,
    tty: plan.tty,
  });
  return startProcess({ argv: mapArgv(plan.argv), cwd: dir, env, tty: plan.tty, python: PYTHON });
}

/** Why an exec is refused when no sandbox works and --unsafe-exec was not given. */
export function refusal(reason: string): string {
  return (
    `the simulator runs exec'd commands only inside a sandbox, and none is available (${reason}); ` +
    "install bubblewrap (Debian: apt-get install bubblewrap) or start the simulator with --unsafe-exec " +
    "to run them as unsandboxed host processes"
  );
}

/** How long a failed start takes to be reported (see runExec). */
const START_FAILURE_DELAY_MS = 100;

/** Runs an exec session on an upgraded socket. */
export function runExec(ctx: StreamContext, plan: ExecPlan, socket: ChannelSocket): void {
  const started = start(ctx, plan);
  if (!started.ok) {
    // A container runtime takes a moment to report a failed start; answering in the same instant as the upgrade
    // races client-go, whose WebSocket reader can see the error channel's message before it has registered that
    // channel ("Unknown stream id 3, discarding message", then "error: closed all streams"). So wait as a runtime
    // would.
    const status = startFailureStatus(started.detail);
    setTimeout(() => socket.finish(status), START_FAILURE_DELAY_MS).unref();
    return;
  }
  const proc = started.process;
  // Deleting the pod (or closing the simulator) kills the process; its exit Status then ends the session.
  const untrack = trackSession(ctx, plan.view.uid, () => proc.kill());
  let done = false;
  const end = (status: ChannelStatus) => {
    if (done) return;
    done = true;
    socket.finish(status);
  };

  // Output: pause the pipe while the socket backlog is high.
  const relay = (stream: NodeJS.ReadableStream | undefined, channel: number, wanted: boolean) => {
    if (!stream) return;
    stream.on("data", (chunk: Buffer) => {
      if (!wanted) return;
      socket.send(channel, chunk);
      if (socket.congested) {
        stream.pause();
        socket.onDrained(() => stream.resume());
      }
    });
  };
  relay(proc.stdout, CHANNEL.stdout, plan.stdout || plan.tty);
  relay(proc.stderr, CHANNEL.stderr, plan.stderr);

  if (!plan.stdin) proc.stdin.end();
  socket.onFrame((frame) => {
    if (frame.kind === "close") {
      if (frame.channel === CHANNEL.stdin) proc.stdin.end();
      return;
    }
    if (frame.kind !== "data") return;
    if (frame.channel === CHANNEL.stdin && plan.stdin && frame.payload.length > 0 && proc.stdin.writable) {
      if (!proc.stdin.write(frame.payload)) {
        socket.ws.pause();
        proc.stdin.once("drain", () => socket.ws.resume());
      }
    } else if (frame.channel === CHANNEL.resize && socket.features.resize) {
      const size = parseResize(frame.payload);
      if (size) proc.resize(size);
    }
  });

  socket.ws.on("close", () => {
    if (!done) {
      done = true;
      proc.kill();
    }
  });
  socket.ws.on("error", () => proc.kill());
  proc.exited.then((code) => {
    untrack();
    end(exitStatus(plan.argv, code));
  });
}
