// pods/portforward: validation shared by both WebSocket forms, and the channel form that @kubernetes/client-node's
// PortForward speaks (`ports` in the query; for the i-th port, channel 2i carries data and 2i+1 errors; the first
// message on each channel is the port number, 2 bytes little-endian). The SPDY-in-WebSocket form kubectl speaks
// lives in spdy-portforward.ts.
//
// Stance: a refused port is reported on its error channel with the kubelet's words and the session then closes;
// the session closes as soon as every forwarded connection has ended.
import type { Duplex } from "node:stream";
import type { StreamContext, UpgradeRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import type { ChannelSocket } from "./channel-socket.ts";
import { findPod, type PodView, requireRunning } from "./pod.ts";
import { connectToPort } from "./responder.ts";
import { runSpdyPortForward as runSpdy } from "./spdy-portforward.ts";

export interface PortForwardPlan {
  view: PodView;
}

export function planPortForward(ctx: StreamContext, u: UpgradeRequest): PortForwardPlan {
  const view = findPod(ctx, u.route.namespace, u.route.name);
  if (view.phase !== "Running") {
    throw StatusError.of(
      "BadRequest",
      `unable to forward port because pod is not running. Current status=${view.phase}`,
    );
  }
  requireRunning(view, undefined, "exec");
  return { view };
}

export function runSpdyPortForward(
  _ctx: StreamContext,
  plan: PortForwardPlan,
  ws: ChannelSocket["ws"],
): void {
  runSpdy(plan.view, ws);
}

/** `ports=80&ports=443` or `ports=80,443`. Throws StatusError for anything that is not a port. */
export function parsePorts(query: URLSearchParams): number[] {
  const raw = query
    .getAll("ports")
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter(Boolean);
  if (raw.length === 0) throw StatusError.of("BadRequest", 'query parameter "port" is required');
  return raw.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw StatusError.of("BadRequest", `unable to parse "${p}" as a port: invalid syntax`);
    }
    return n;
  });
}

export function runChannelPortForward(
  _ctx: StreamContext,
  plan: PortForwardPlan,
  query: URLSearchParams,
  socket: ChannelSocket,
): void {
  let ports: number[];
  try {
    ports = parsePorts(query);
  } catch (err) {
    socket.send(1, (err as StatusError).message);
    socket.ws.close(1000);
    return;
  }
  const conns = new Map<number, Duplex>();
  let open = ports.length;
  const oneDone = () => {
    open--;
    if (open <= 0) socket.ws.close(1000);
  };
  ports.forEach((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    socket.send(2 * i, prefix);
    socket.send(2 * i + 1, prefix);
    const conn = connectToPort(plan.view, port);
    if (!conn.ok) {
      socket.send(2 * i + 1, conn.message);
      oneDone();
      return;
    }
    conns.set(2 * i, conn.socket);
    conn.socket.on("data", (chunk: Buffer) => {
      socket.send(2 * i, chunk);
      if (socket.congested) {
        conn.socket.pause();
        socket.onDrained(() => conn.socket.resume());
      }
    });
    conn.socket.on("end", oneDone);
    conn.socket.on("error", oneDone);
  });
  socket.onFrame((frame) => {
    if (frame.kind === "close") {
      conns.get(frame.channel)?.end();
      return;
    }
    if (frame.kind !== "data") return;
    const conn = conns.get(frame.channel);
    if (conn && frame.payload.length > 0) conn.write(frame.payload);
  });
  socket.ws.on("close", () => {
    for (const c of conns.values()) c.destroy();
  });
}
