// The agent's side of each tunnel stream: the HTTP/1.1 request (or WebSocket/SPDY upgrade) the gateway wrote into an
// HTTP/2 CONNECT stream is parsed by node:http and sent to the cluster with the agent's own credential.
//
// Security stance (docs/agent.md, docs/security-model.md):
//   - The agent forwards only what its gateway sends: streams come only from the gateway's end of the mutually
//     authenticated tunnel (the agent pinned the gateway's CA; the gateway checked the agent's certificate).
//   - Impersonation: every stream's own header (written by the gateway's tunnel code, never from client input)
//     declares the exact Impersonate-* lines of its request. The request's Impersonate-* lines (any header whose name
//     starts with "impersonate-", any case) must equal that declaration — same names, values and order — or the
//     request is refused with a 403 Status and nothing reaches the cluster. A missing or malformed declaration refuses
//     the stream.
//   - One request per stream: a second request parsed from the same stream (a body that smuggles another request
//     after the first) is never forwarded; the stream is reset.
//   - The client's Authorization never reaches the cluster: the agent's Upstream drops it and adds the credential it
//     holds (in-cluster service account, kubeconfig, EKS role).
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { ServerHttp2Stream } from "node:http2";
import https from "node:https";
import type { Duplex } from "node:stream";
import { impersonationRefused, upstreamUnreachable } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import { asSocket, decodeDeclaration, IMPERSONATION_DECLARATION } from "../upstream/tunnel-hub.ts";
import type { Upstream } from "../upstream/types.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

interface StreamState {
  declared: [string, string][];
  requests: number;
}

export interface StreamProxy {
  /** Serves one CONNECT stream of the tunnel. */
  serve(stream: ServerHttp2Stream, headers: Record<string, string | string[] | undefined>): void;
  close(): void;
}

/** The request's Impersonate-* lines, names lower-cased, in order. */
function impersonationLines(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? "").toLowerCase();
    if (name.startsWith("impersonate-")) out.push([name, raw[i + 1] ?? ""]);
  }
  return out;
}

function sameLines(a: [string, string][], b: [string, string][]): boolean {
  return a.length === b.length && a.every(([k, v], i) => b[i]?.[0] === k && b[i]?.[1] === v);
}

function forwardedHeaders(raw: string[], keepUpgrade: boolean): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? "").toLowerCase();
    if (HOP_BY_HOP.has(name) && !(keepUpgrade && (name === "connection" || name === "upgrade"))) continue;
    out.push([raw[i] ?? "", raw[i + 1] ?? ""]);
  }
  return out;
}

function statusBytes(status: Status): Buffer {
  const body = Buffer.from(JSON.stringify(status));
  const head =
    `HTTP/1.1 ${status.code} ${http.STATUS_CODES[status.code] ?? ""}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

export function createStreamProxy(upstream: Upstream, log: (event: object) => void): StreamProxy {
  const states = new WeakMap<object, StreamState>();

  /** Counts the request and checks its impersonation; a refusal Status, "smuggled", or undefined to forward. */
  const admit = (req: IncomingMessage): Status | "smuggled" | undefined => {
    const state = states.get(req.socket);
    if (!state) return "smuggled";
    state.requests++;
    if (state.requests > 1) {
      log({ severity: "warn", event: "agent.request.smuggled", cluster: upstream.name });
      return "smuggled";
    }
    // Only an origin-form target ("/api/…"), as the gateway writes it: an absolute URL could name another host.
    if (!(req.url ?? "").startsWith("/")) return "smuggled";
    const got = impersonationLines(req.rawHeaders);
    if (!sameLines(got, state.declared)) {
      log({
        severity: "warn",
        event: "agent.impersonation.refused",
        cluster: upstream.name,
        headers: got.map(([k]) => k),
      });
      return impersonationRefused(
        `airlock agent: the request carries Impersonate-* headers its gateway did not declare for it ` +
          `(${got.map(([k]) => k).join(", ") || "none"}; declared: ${state.declared.map(([k]) => k).join(", ") || "none"}); ` +
          `nothing was sent to the cluster "${upstream.name}"`,
      );
    }
    return undefined;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const refusal = admit(req);
    if (refusal === "smuggled") return void req.socket.destroy();
    // One request per stream: the stream ends after this answer.
    res.shouldKeepAlive = false;
    if (refusal) {
      const body = JSON.stringify(refusal);
      res.writeHead(refusal.code, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      });
      return void res.end(body);
    }
    upstream
      .requestOptions(req.method ?? "GET", req.url ?? "/", forwardedHeaders(req.rawHeaders, false))
      .then((options) => {
        const upReq = https.request(options, (upRes) => {
          const headers: string[] = [];
          for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2) {
            if (HOP_BY_HOP.has((upRes.rawHeaders[i] ?? "").toLowerCase())) continue;
            headers.push(upRes.rawHeaders[i] ?? "", upRes.rawHeaders[i + 1] ?? "");
          }
          res.writeHead(upRes.statusCode ?? 502, headers);
          // Watches and log follows: each chunk goes on as it comes.
          res.flushHeaders();
          upRes.pipe(res);
          upRes.on("error", () => res.destroy());
          upRes.on("close", () => {
            if (!upRes.readableEnded) res.destroy();
          });
        });
        upReq.on("error", (err) => {
          if (res.headersSent) return void res.destroy();
          const status = upstreamUnreachable(upstream.name, `the agent could not reach it: ${err.message}`);
          res.writeHead(status.code, { "content-type": "application/json" });
          res.end(JSON.stringify(status));
        });
        // The gateway went away (client left, revocation): the cluster request is cancelled too.
        res.on("close", () => {
          if (!res.writableFinished) upReq.destroy();
        });
        req.pipe(upReq);
      })
      .catch((err: Error) => {
        const status = upstreamUnreachable(upstream.name, `the agent has no credential: ${err.message}`);
        res.writeHead(status.code, { "content-type": "application/json" });
        res.end(JSON.stringify(status));
      });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = admit(req);
    if (refusal === "smuggled") return void socket.destroy();
    if (refusal) return void socket.end(statusBytes(refusal));
    upstream
      .requestOptions(req.method ?? "GET", req.url ?? "/", forwardedHeaders(req.rawHeaders, true))
      .then((options) => {
        const upReq = https.request({ ...options, timeout: 30_000 });
        upReq.on("timeout", () => upReq.destroy(new Error("the cluster did not answer the upgrade in 30 s")));
        upReq.on("upgrade", (upRes, upSocket, upHead) => {
          upReq.setTimeout(0);
          const lines = [`HTTP/1.1 101 ${upRes.statusMessage ?? "Switching Protocols"}`];
          for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2)
            lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
          socket.write(`${lines.join("\r\n")}\r\n\r\n`);
          if (upHead.length) socket.write(upHead);
          if (head.length) upSocket.write(head);
          upSocket.pipe(socket);
          socket.pipe(upSocket);
          const end = () => {
            socket.destroy();
            upSocket.destroy();
          };
          upSocket.on("close", end);
          socket.on("close", end);
          upSocket.on("error", end);
          socket.on("error", end);
        });
        upReq.on("response", (upRes) => {
          // The cluster refused the upgrade: its answer goes back as it is, then the stream ends.
          const chunks: Buffer[] = [];
          upRes.on("data", (c: Buffer) => chunks.push(c));
          upRes.on("end", () => {
            const body = Buffer.concat(chunks);
            const lines = [`HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? ""}`];
            for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2) {
              const name = (upRes.rawHeaders[i] ?? "").toLowerCase();
              if (HOP_BY_HOP.has(name) || name === "content-length") continue;
              lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
            }
            lines.push(`Content-Length: ${body.length}`, "Connection: close");
            socket.end(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]));
          });
        });
        upReq.on("error", (err) => {
          socket.end(
            statusBytes(upstreamUnreachable(upstream.name, `the agent could not reach it: ${err.message}`)),
          );
        });
        socket.on("close", () => upReq.destroy());
        upReq.end();
      })
      .catch((err: Error) => {
        socket.end(
          statusBytes(upstreamUnreachable(upstream.name, `the agent has no credential: ${err.message}`)),
        );
      });
  };

  const server = http.createServer(onRequest);
  server.on("upgrade", onUpgrade);
  // Streams are long-lived (watches, exec); the gateway bounds them, the agent does not.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 1_000;
  server.on("clientError", (_err, socket) => socket.destroy());

  return {
    serve(stream, headers) {
      const declared = decodeDeclaration(headers[IMPERSONATION_DECLARATION] as string | undefined);
      if (!declared) {
        log({ severity: "warn", event: "agent.stream.refused", why: "no impersonation declaration" });
        stream.respond({ ":status": 400 });
        stream.end();
        return;
      }
      stream.respond({ ":status": 200 });
      states.set(stream, { declared, requests: 0 });
      server.emit("connection", asSocket(stream));
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
