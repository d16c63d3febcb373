// What listens on a simulated pod's declared container ports: an in-process HTTP responder, reached without any
// real listening socket. A port-forward connection becomes one side of an in-memory duplex pair; the other side is
// handed to a shared http.Server with emit("connection"), exactly as a socket accepted from the network would be.
//
// Stance: only ports a container declares answer; everything else is "connection refused" with the wording the
// kubelet (containerd) reports, so port-forward errors look real.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type Duplex, duplexPair } from "node:stream";
import { seedOf } from "./loglines.ts";
import type { PodView } from "./pod.ts";

interface Endpoint {
  namespace: string;
  pod: string;
  port: number;
  /** The container environment, for the debug page /env (given by pods/proxy). */
  env?: () => Record<string, string>;
}

const endpoints = new WeakMap<object, Endpoint>();

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const at = endpoints.get(req.socket);
  const [path, query = ""] = (req.url ?? "/").split("?");
  // /healthz answers "ok"; /env is a careless debug page printing the environment (Secret values included), so
  // tests can show a proxied answer masked; /bytes?n=N sends N bytes (≤ 4 MiB) and /slow sends one line and then
  // nothing until the client goes away, for callers' size and time caps; everything else is the greeting.
  if (path === "/slow") {
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    res.write("started\n");
    return;
  }
  if (path === "/bytes") {
    const n = Math.min(Math.max(Number(new URLSearchParams(query).get("n")) || 0, 0), 4 << 20);
    const line =
      "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq\n";
    const text = line.repeat(Math.ceil(n / line.length)).slice(0, n);
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": n });
    res.end(req.method === "HEAD" ? undefined : text);
    return;
  }
  let body = at ? `hello from ${at.namespace}/${at.pod} port ${at.port}\n` : "hello\n";
  if (path === "/healthz") body = "ok\n";
  else if (path === "/env" && at?.env) {
    body = Object.entries(at.env())
      .map(([k, v]) => `${k}=${v}\n`)
      .join("");
  }
  res.writeHead(200, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
});

export function declaredPorts(view: PodView): number[] {
  const ports: number[] = [];
  for (const c of view.containers) {
    for (const p of c.ports ?? []) {
      if (p.containerPort !== undefined && (p.protocol ?? "TCP") === "TCP") ports.push(p.containerPort);
    }
  }
  return ports;
}

/** The kubelet's message when nothing listens on the port inside the pod's network namespace. */
export function refusedMessage(view: PodView, port: number): string {
  const sandbox = seedOf(view.uid).toString(16).padStart(8, "0").repeat(8);
  const netns = `/var/run/netns/cni-${seedOf(`${view.uid}/netns`).toString(16).padStart(8, "0")}`;
  return (
    `error forwarding port ${port} to pod ${sandbox}, uid : failed to execute portforward in network namespace ` +
    `"${netns}": failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 ` +
    `127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
  );
}

export type PortConnection = { ok: true; socket: Duplex } | { ok: false; message: string };

/** Opens a connection to the pod's port; the returned duplex is the client end. */
export function connectToPort(
  view: PodView,
  port: number,
  env?: () => Record<string, string>,
): PortConnection {
  if (!declaredPorts(view).includes(port)) return { ok: false, message: refusedMessage(view, port) };
  const [client, serverSide] = duplexPair();
  endpoints.set(serverSide, { namespace: view.namespace, pod: view.name, port, ...(env ? { env } : {}) });
  server.emit("connection", serverSide);
  return { ok: true, socket: client };
}
