// How the stream handlers answer when they refuse: a Kubernetes Status as JSON, on an HTTP response or — before a
// protocol upgrade — written by hand on the raw socket, which is then closed (never left open as a tunnel).
import type { ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { StreamContext } from "../contracts.ts";
import { failure, type Status, StatusError } from "../status.ts";
import { type PodView, podType } from "./pod.ts";

export function asStatus(err: unknown): Status {
  if (err instanceof StatusError) return err.status;
  return failure("InternalError", `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(status);
  res.writeHead(status.code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers an upgrade request with a Status and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  const head =
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? "Error"}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n";
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(head + body);
}

/** Calls `onGone` once when this incarnation of the pod is deleted. Returns a function that stops watching. */
export function watchPodGone(ctx: StreamContext, view: PodView, onGone: () => void): () => void {
  let done = false;
  const stop = ctx.store.watch(podType(ctx), view.namespace, ctx.store.currentResourceVersion(), (event) => {
    if (done || event.object.metadata.name !== view.name) return;
    const replaced = event.object.metadata.uid !== view.uid;
    if (event.type === "DELETED" || replaced || event.object.metadata.deletionTimestamp) {
      done = true;
      queueMicrotask(onGone);
    }
  });
  return () => {
    done = true;
    stop();
  };
}
