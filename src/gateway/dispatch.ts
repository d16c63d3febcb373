// The internal entry into the pipeline: a Kubernetes request built in-process (an MCP tool call) runs through
// exactly the stages a network request does — classify, decide, gate, record, forward, transform, complete — because
// it IS an HTTP request, handed to the same handleKubeRequest / handleKubeUpgrade over an in-memory socket pair.
//
// Security stance: there is no internal credential to steal or replay. The caller's principal (authenticated where
// the call entered, at /mcp, by the same authenticator chain) is bound to the server end of one fresh socket pair and
// to nothing else; the pair is never reachable from the network, and the request on it is the only one it carries.
// Client headers still pass header hygiene; the gateway's own upstream credential and impersonation are used
// upstream, never the caller's token. Exec is a WebSocket through the same relay, masker and recorder as kubectl's.
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { duplexPair } from "node:stream";
import type { InternalEntry } from "./context.ts";
import { handleKubeRequest, handleKubeUpgrade } from "./pipeline.ts";
import type { GatewayRuntime } from "./runtime.ts";

export interface DispatchRequest {
  method: string;
  /** Path as the Kubernetes API spells it (`/api/v1/namespaces/prod/pods`), optionally under `/k8s/<cluster>`. */
  path: string;
  query?: Record<string, string | string[] | undefined>;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface DispatchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response as it streams out of the transform stage (masked); read it or destroy it. */
  body: IncomingMessage;
}

const bound = new WeakMap<Duplex, InternalEntry>();
const servers = new WeakMap<GatewayRuntime, http.Server>();

/** The never-listening HTTP server whose only connections are dispatch's socket pairs. */
function internalServer(gw: GatewayRuntime): http.Server {
  let server = servers.get(gw);
  if (server) return server;
  server = http.createServer((req, res) => {
    const entry = bound.get(req.socket);
    if (!entry) return void res.destroy(); // not one of ours: no principal, nothing to run as
    handleKubeRequest(gw, req, res, entry).catch((err: Error) => {
      gw.log.error({ err: err.message }, "internal request failed");
      res.destroy();
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const entry = bound.get(socket);
    if (!entry) return void socket.destroy();
    handleKubeUpgrade(gw, req, socket, head, entry).catch((err: Error) => {
      gw.log.error({ err: err.message }, "internal upgrade failed");
      socket.destroy();
    });
  });
  servers.set(gw, server);
  return server;
}

/** Socket methods the HTTP and WebSocket stacks call on a connection; an in-memory pair has none of them. */
function socketLike(end: Duplex, remoteAddress: string): Duplex {
  const noop = function (this: Duplex) {
    return this;
  };
  return Object.assign(end, {
    setTimeout: noop,
    setNoDelay: noop,
    setKeepAlive: noop,
    remoteAddress,
    remotePort: 0,
  });
}

/** Opens a fresh connection into the pipeline, bound to `entry`; returns the client end. */
export function internalConnection(gw: GatewayRuntime, entry: InternalEntry): Duplex {
  const [client, server] = duplexPair();
  socketLike(server, entry.sourceAddress);
  socketLike(client, "127.0.0.1");
  bound.set(server, entry);
  internalServer(gw).emit("connection", server);
  client.on("close", () => server.destroy());
  return client;
}

export function pathWithQuery(path: string, query: DispatchRequest["query"] = {}): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(key, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Sends one request through the pipeline as `entry.principal`; resolves when the response head arrives. */
export function dispatch(
  gw: GatewayRuntime,
  entry: InternalEntry,
  request: DispatchRequest,
  /** Cancels the request while no response has come (the promise rejects); later, destroy the body instead. */
  signal?: AbortSignal,
): Promise<DispatchResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof request.body === "string" ? Buffer.from(request.body) : request.body;
    const headers: Record<string, string> = {
      host: "airlock.internal",
      "user-agent": `airlock-mcp${entry.mcp ? ` (${entry.mcp.tool})` : ""}`,
      ...(entry.mcp ? { "kubectl-command": entry.mcp.command } : {}),
      ...request.headers,
    };
    if (body) headers["content-length"] = String(body.length);
    const req = http.request({
      method: request.method,
      path: pathWithQuery(request.path, request.query),
      headers,
      createConnection: () =>
        internalConnection(gw, entry) as ReturnType<typeof http.Agent.prototype.createConnection>,
    });
    req.on("response", (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    req.on("error", reject);
    signal?.addEventListener("abort", () => req.destroy(new Error("aborted: no answer in time")), {
      once: true,
    });
    req.end(body);
  });
}

export interface BufferedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body was longer than `maxBytes`; the rest was not read (the request was cancelled). */
  truncated: boolean;
}

/** dispatch, reading the body up to `maxBytes` (the rest is cancelled upstream, so a huge log never piles up). */
export async function dispatchBuffered(
  gw: GatewayRuntime,
  entry: InternalEntry,
  request: DispatchRequest,
  maxBytes = 4 * 1024 * 1024,
): Promise<BufferedResponse> {
  const res = await dispatch(gw, entry, request);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      resolve({ status: res.status, headers: res.headers, body: Buffer.concat(chunks), truncated });
    };
    res.body.on("data", (chunk: Buffer) => {
      if (done) return;
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        finish(true);
        res.body.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    res.body.on("end", () => finish(false));
    res.body.on("error", (err) => (done ? undefined : reject(err)));
    // Closed before its end: the stream was cut (revocation, upstream error), so what was read is incomplete.
    res.body.on("close", () => finish(!res.body.complete));
  });
}
