// forward (upgrades): exec, attach and port-forward over WebSocket, terminated at the gateway and re-opened upstream.
//
// Invariant 6: only WebSocket with the Kubernetes subprotocols, only on pods/exec, pods/attach and pods/portforward.
// The upstream handshake happens first; only when the cluster has switched protocols does the gateway complete the
// client's handshake, with the subprotocol the cluster chose. If the cluster refuses, its answer is relayed and the
// client connection closed — never left open as a tunnel (the CVE-2018-1002105 lesson). Frames are relayed one by one
// with backpressure: a slow reader pauses the other side.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import {
  internalError,
  maskingFailed,
  upstreamLost,
  upstreamNoCredential,
  upstreamUnreachable,
} from "../../kube/refusals.ts";
import type { Status } from "../../kube/status.ts";
import type { ChannelFrameMasker } from "../../mask/index.ts";
import type { StreamTap } from "../../recording/index.ts";
import { NoAgentError, type Upstream } from "../../upstream/index.ts";
import { sendStatusOnSocket } from "../respond.ts";
import type { StdinLineGate } from "../stdin-inspect.ts";
import type { PortGuard } from "./port-guard.ts";
import { endExecWith } from "./stream-end.ts";

export const STREAM_SUBPROTOCOLS = new Set([
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
  "base64.channel.k8s.io",
  "SPDY/3.1+portforward.k8s.io",
  "portforward.k8s.io",
  "v4.base64.channel.k8s.io",
]);

export const UPGRADE_SUBRESOURCES = new Set(["exec", "attach", "portforward"]);

const HIGH_WATER = 1 << 20;

export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  if (!raw) return [];
  return raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

export interface UpgradeResult {
  status: number;
  bytesIn: number;
  bytesOut: number;
  upstreamError?: string;
  /** Why the gateway ended the stream itself (a port-forward connection to a port the rule does not allow). */
  refused?: string;
}

/** Why an upgrade ended before anything was sent: the client left while the request was being prepared. */
export const CLIENT_LEFT = "the client closed the connection before the request was sent";

/**
 * Watches the client's socket from the moment a relay starts: `left()` is true once it closed, also when that
 * happened before the relay's own listeners exist (a Secret lookup, a recording or a credential awaited first).
 * Such a request opens nothing upstream and completes 499.
 */
export function clientWatch(socket: Duplex): { left(): boolean } {
  let closed = socket.destroyed || !socket.writable;
  if (!closed) socket.once("close", () => (closed = true));
  return { left: () => closed || socket.destroyed };
}

export interface UpgradeOptions {
  upstream: Upstream;
  pathAndQuery: string;
  headers: [string, string][];
  /** The acting identity's name: connections that mint per-actor credentials (EKS) use it; others ignore it. */
  actor?: string;
  onOpen(close: (reason: string, status?: Status) => void): () => void;
  /** The transform stage (masking): a masker for the cluster's frames, given the subprotocol it chose. */
  frames?: (subprotocol: string) => ChannelFrameMasker | undefined;
  /** The recorder (src/recording): sees what the client received (after masking) and sent; `abort` ends the stream. */
  tap?: (subprotocol: string, abort: (reason: string) => void) => StreamTap | undefined;
  /** Port-forward: checks the client's bytes before they are relayed (src/gateway/forward/port-guard.ts). */
  guard?: (subprotocol: string) => PortGuard;
  /** `exec.stdin: inspect`: stdin lines pass through this gate (stdin-inspect.ts); binary channel protocols only. */
  stdinGate?: StdinLineGate;
}

// The client's handshake is completed with exactly the subprotocol the cluster chose (it was among the client's offers).
const chosenProtocol = new WeakMap<IncomingMessage, string>();
const clientSide = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (offered, req) => {
    const chosen = chosenProtocol.get(req);
    return chosen && offered.has(chosen) ? chosen : false;
  },
});

export function bridgeWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: UpgradeOptions,
): Promise<UpgradeResult> {
  return new Promise((resolve) => {
    let bytesIn = 0;
    let bytesOut = 0;
    let settled = false;
    let unregister = () => {};
    const finish = (status: number, upstreamError?: string) => {
      if (settled) return;
      settled = true;
      unregister();
      resolve({ status, bytesIn, bytesOut, ...(upstreamError ? { upstreamError } : {}) });
    };
    // Exec and attach never tunnel SPDY, and ws throws on a subprotocol name that is not a token (the '/' in
    // "SPDY/3.1+portforward.k8s.io"): such offers are dropped, so the cluster answers the client's mistake itself.
    const protocols = offeredProtocols(req).filter((p) => STREAM_SUBPROTOCOLS.has(p) && !p.includes("/"));
    const client = clientWatch(socket);
    const leftEarly = () => {
      if (settled) return;
      settled = true;
      unregister();
      resolve({ status: 499, bytesIn, bytesOut, refused: CLIENT_LEFT });
    };
    if (client.left()) return leftEarly();

    opts.upstream
      .requestOptions("GET", opts.pathAndQuery, opts.headers, opts.actor)
      .catch((err: Error) => {
        throw err instanceof NoAgentError ? err : new CredentialError(err.message);
      })
      .then((options) => {
        if (client.left()) return leftEarly();
        const host = options.hostname?.includes(":") ? `[${options.hostname}]` : options.hostname;
        const url = `wss://${host}:${options.port}${options.path}`;
        // Repeated headers (Impersonate-Group) stay separate header lines: Node sends an array value as one line each.
        const headers: Record<string, string | string[]> = {};
        const flat = (options.headers ?? []) as string[];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const key = (flat[i] ?? "").toLowerCase();
          const value = flat[i + 1] ?? "";
          if (key.startsWith("sec-websocket-")) continue; // the upstream handshake has its own key and protocols
          const prev = headers[key];
          headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
        }
        const upstream = new WebSocket(url, protocols, {
          agent: options.agent,
          ...(options.servername ? { servername: options.servername } : {}),
          headers,
          perMessageDeflate: false,
          maxPayload: 64 * 1024 * 1024,
          handshakeTimeout: 30_000,
        } as WebSocket.ClientOptions);

        let clientWs: WebSocket | undefined;
        let pending: { reason: string; status: Status } | undefined;
        unregister = opts.onOpen((reason, closing) => {
          // Shutdown while the cluster's handshake is under way: the stream is ended with the Status as soon as the
          // client's WebSocket is open (answering the upgrade with an error instead would make kubectl fall back
          // to SPDY and lose the message). A second close (the grace period is over) cuts it.
          if (closing && !clientWs && !pending) {
            pending = { reason, status: closing };
            return;
          }
          // Shutdown: the command's client is told why on the error channel, then the socket closes normally.
          if (closing && clientWs?.readyState === WebSocket.OPEN) {
            endExecWith(clientWs, upstream.protocol, closing, reason);
            upstream.terminate();
            return;
          }
          upstream.terminate();
          socket.destroy(new Error(reason));
        });
        socket.on("close", () => upstream.terminate());

        upstream.on("unexpected-response", (_r, upstreamRes) => {
          // The cluster refused the upgrade: relay its answer and close the client connection.
          const chunks: Buffer[] = [];
          upstreamRes.on("data", (c: Buffer) => chunks.push(c));
          upstreamRes.on("end", () => {
            const body = Buffer.concat(chunks);
            const status = upstreamRes.statusCode ?? 502;
            const headLines = [`HTTP/1.1 ${status} ${upstreamRes.statusMessage ?? ""}`];
            headLines.push(`Content-Type: ${upstreamRes.headers["content-type"] ?? "application/json"}`);
            headLines.push(`Content-Length: ${body.length}`, "Connection: close", "", "");
            bytesOut = body.length;
            socket.end(Buffer.concat([Buffer.from(headLines.join("\r\n"), "latin1"), body]));
            upstream.terminate();
            finish(status);
          });
        });

        upstream.on("error", (err) => {
          if (pending && !settled && !socket.destroyed) {
            bytesOut = sendStatusOnSocket(socket, pending.status);
            return finish(pending.status.code, pending.status.message);
          }
          if (client.left()) return leftEarly(); // cancelled because the client left: not a cluster fault
          const answer = upstreamUnreachable(undefined, err.message);
          if (!settled && !socket.destroyed) bytesOut = sendStatusOnSocket(socket, answer);
          finish(answer.code, err.message);
        });

        upstream.on("open", () => {
          chosenProtocol.set(req, upstream.protocol);
          // ws's handleUpgrade drops a client socket that is no longer readable or writable (it sent FIN while the
          // cluster's handshake was under way) without calling back: the session never starts, and without this the
          // request would never be completed (the soak found exec audit events left open).
          socket.once("close", () => {
            if (clientWs) return;
            upstream.terminate();
            finish(499, "the client closed the connection before the session opened");
          });
          clientSide.handleUpgrade(req, socket, head, (client) => {
            clientWs = client;
            if (pending) {
              endExecWith(client, upstream.protocol, pending.status, pending.reason);
              upstream.terminate();
              return finish(101);
            }
            const masker = opts.frames?.(upstream.protocol);
            if (opts.frames && !masker) {
              // Masking applies but these frames cannot be read: close rather than relay them unmasked.
              client.close(1011, "airlock: masking failed");
              upstream.terminate();
              return finish(101, "masking failed: unreadable subprotocol");
            }
            const gate = opts.stdinGate;
            if (gate && (upstream.protocol.includes("base64") || upstream.protocol === "")) {
              // Inspection reads binary channel frames only: never relay stdin it cannot read.
              client.close(1011, "airlock: stdin inspection needs a binary channel protocol");
              upstream.terminate();
              return finish(101, "stdin inspection: unreadable subprotocol");
            }
            const tap = opts.tap?.(upstream.protocol, (reason) => {
              // A required recording that cannot be written ends the stream (fail closed).
              client.close(1011, reason.slice(0, 120));
              upstream.terminate();
            });
            if (masker) {
              relayMasked(
                upstream,
                client,
                masker,
                (n) => {
                  bytesOut += n;
                },
                tap?.toClient,
              );
            } else {
              relay(
                upstream,
                client,
                (n) => {
                  bytesOut += n;
                },
                tap?.toClient,
              );
            }
            const countIn = (n: number) => {
              bytesIn += n;
            };
            if (gate) relayGated(client, upstream, gate, countIn, tap);
            else relay(client, upstream, countIn, tap?.fromClient);
            client.on("close", () => tap?.end());
            client.on("close", (code) => closeWith(upstream, code));
            // The cluster's connection lost mid-session (an API server restart, a reset): the session ends with a
            // Status on the error channel, as the kubelet reports how a command ended, not with a bare cut.
            let lost = false;
            const clusterLost = (why: string) => {
              if (lost) return;
              lost = true;
              finish(101, `the connection to the cluster was lost: ${why}`);
              if (client.readyState !== WebSocket.OPEN) return client.terminate();
              const status = upstreamLost(opts.upstream.name, why);
              endExecWith(client, upstream.protocol, status, "the connection to the cluster was lost");
              // A client that never answers the close is cut after a second.
              setTimeout(() => client.terminate(), 1000).unref();
            };
            upstream.on("close", (code) => {
              // Whatever the masker still holds goes out (masked) before the close.
              if (masker && client.readyState === WebSocket.OPEN) {
                try {
                  for (const f of masker.flush()) {
                    tap?.toClient(f.data, f.binary);
                    client.send(f.data, { binary: f.binary });
                  }
                } catch (err) {
                  const status = maskingFailed((err as Error).message);
                  return endExecWith(client, upstream.protocol, status, "airlock: masking failed");
                }
              }
              // 1006: closed without a close frame, i.e. the connection went away.
              if (code === 1006) clusterLost("closed without a close frame");
              else closeWith(client, code);
            });
            client.on("error", () => upstream.terminate());
            upstream.on("error", (err) => clusterLost(err.message));
            client.on("close", () => finish(101));
          });
        });
      })
      .then(undefined, (err: Error) => {
        // Credentials failed before anything was sent upstream, or the relay could not be set up: either way the
        // client gets a Status naming the cause, and the connection is closed.
        const noCredential = !settled && err instanceof CredentialError;
        const status = noCredential
          ? upstreamNoCredential(undefined, err.message)
          : !settled && err instanceof NoAgentError
            ? err.status
            : internalError(`airlock: the stream could not be relayed: ${err.message}`);
        if (!settled && !socket.destroyed) bytesOut = sendStatusOnSocket(socket, status);
        finish(status.code, err.message);
      });
  });
}

/** A failure to obtain the connection's credential (as opposed to a failure relaying the stream). */
class CredentialError extends Error {}

function relay(
  from: WebSocket,
  to: WebSocket,
  count: (n: number) => void,
  seen?: (data: Buffer, binary: boolean) => void,
): void {
  from.on("message", (data: Buffer, isBinary: boolean) => {
    count(data.length);
    if (to.readyState !== WebSocket.OPEN) return;
    seen?.(data, isBinary);
    to.send(data, { binary: isBinary }, () => {
      if (to.bufferedAmount < HIGH_WATER) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  });
}

/**
 * Client → cluster through the stdin gate: only checked lines go on; a refused line's message goes back to the client
 * on stderr, and the recording gets the delivered bytes plus a marker for each refusal.
 */
function relayGated(
  from: WebSocket,
  to: WebSocket,
  gate: StdinLineGate,
  count: (n: number) => void,
  tap: StreamTap | undefined,
): void {
  from.on("message", (data: Buffer, isBinary: boolean) => {
    count(data.length);
    if (to.readyState !== WebSocket.OPEN) return;
    const refusedBefore = gate.refused.length;
    const out = gate.frame(Buffer.from(data));
    for (const r of gate.refused.slice(refusedBefore)) {
      const by = r.policy ? ` by policy ${r.policy} rule ${r.rule}` : "";
      tap?.marker?.(`airlock: stdin line not run${by}: ${r.message}`);
    }
    for (const reply of out.reply) {
      tap?.toClient(reply, true);
      from.send(reply, { binary: true });
    }
    for (const f of out.forward) {
      tap?.fromClient(f, isBinary);
      to.send(f, { binary: isBinary }, () => {
        if (to.bufferedAmount < HIGH_WATER) from.resume();
      });
    }
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  });
  from.on("close", () => gate.abandon());
}

/** Cluster → client through the masker: a frame it cannot read ends the session (fail closed). */
function relayMasked(
  from: WebSocket,
  to: WebSocket,
  masker: ChannelFrameMasker,
  count: (n: number) => void,
  seen?: (data: Buffer | string, binary: boolean) => void,
): void {
  from.on("message", (data: Buffer, isBinary: boolean) => {
    if (to.readyState !== WebSocket.OPEN) return;
    let frames: ReturnType<ChannelFrameMasker["transform"]>;
    try {
      frames = masker.transform(data, isBinary);
    } catch (err) {
      // The client learns why on the error channel (kubectl prints it and fails), then the session closes.
      from.terminate();
      endExecWith(to, from.protocol, maskingFailed((err as Error).message), "airlock: masking failed");
      return;
    }
    for (const f of frames) {
      count(f.data.length);
      seen?.(f.data, f.binary);
      to.send(f.data, { binary: f.binary }, () => {
        if (to.bufferedAmount < HIGH_WATER) from.resume();
      });
    }
    if (to.bufferedAmount >= HIGH_WATER) from.pause();
  });
}

function closeWith(ws: WebSocket, code: number): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  // 1005/1006 cannot be sent in a close frame.
  if (code >= 1000 && code < 5000 && code !== 1005 && code !== 1006) ws.close(code);
  else ws.close();
}
