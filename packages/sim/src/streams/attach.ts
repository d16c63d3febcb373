// pods/attach over a WebSocket: the client joins the container's simulated main process (main-process.ts). It sees
// each line the process prints from now on; what it types is read by the process, which echoes it like `cat`.
// With a tty the terminal's own echo is simulated too, and Ctrl-C / Ctrl-D detach. The session ends with a Success
// Status when stdin closes, or when the pod is deleted; a client that goes away just detaches.
import type { StreamContext, UpgradeRequest } from "../contracts.ts";
import { CHANNEL } from "./channel.ts";
import type { ChannelSocket } from "./channel-socket.ts";
import { parseStdio, type StdioRequest } from "./exec.ts";
import { mainProcessFor } from "./main-process.ts";
import { type ContainerSpec, chooseContainer, findPod, type PodView, requireRunning } from "./pod.ts";
import { watchPodGone } from "./respond.ts";

export interface AttachPlan extends StdioRequest {
  view: PodView;
  container: ContainerSpec;
}

export function planAttach(ctx: StreamContext, u: UpgradeRequest): AttachPlan {
  const view = findPod(ctx, u.route.namespace, u.route.name);
  const container = chooseContainer(view, u.route.query.get("container"));
  const io = parseStdio(u.route.query);
  requireRunning(view, container.name, "attach");
  return { view, container, ...io };
}

/** What a terminal echoes for typed bytes: Enter (CR) shows as CR LF. */
export function terminalEcho(typed: string): string {
  return typed.replace(/\r\n?|\n/g, "\r\n");
}

export function runAttach(ctx: StreamContext, plan: AttachPlan, socket: ChannelSocket): void {
  const main = mainProcessFor(ctx, plan.view, plan.container);
  const eol = plan.tty ? "\r\n" : "\n";
  const cleanups: (() => void)[] = [];
  let done = false;
  const detach = (sendStatus: boolean) => {
    if (done) return;
    done = true;
    for (const c of cleanups) c();
    if (sendStatus) socket.finish({ metadata: {}, status: "Success" });
  };

  if (plan.stdout || plan.tty) {
    cleanups.push(main.subscribe((line) => socket.send(CHANNEL.stdout, line.text + eol)));
  }
  cleanups.push(watchPodGone(ctx, plan.view, () => detach(true)));

  socket.onFrame((frame) => {
    if (frame.kind === "close") {
      if (frame.channel === CHANNEL.stdin) detach(true);
      return;
    }
    if (frame.kind !== "data" || frame.channel !== CHANNEL.stdin || !plan.stdin) return;
    const text = frame.payload.toString("utf8");
    if (plan.tty) {
      const stop = text.search(/[\x03\x04]/);
      const typed = stop === -1 ? text : text.slice(0, stop);
      if (typed) socket.send(CHANNEL.stdout, terminalEcho(typed));
      main.input(typed);
      if (stop !== -1) detach(true);
      return;
    }
    main.input(text);
  });
  socket.ws.on("close", () => detach(false));
}
