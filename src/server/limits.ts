// The listener's limits (issue 16 §6) and its connections' lifecycle (shutdown, issue 16 §8), for the one TLS port
// that serves HTTP/2 and HTTP/1.1 (the Kubernetes API, the admin API, the console and MCP alike):
//
// - connections: in total (limits.maxConnections) and per client address (limits.maxConnectionsPerClient). A
//   connection over a limit is not dropped blind: its first request is answered 429 with a Status naming the limit,
//   then the connection is closed. Beyond twice a limit connections are dropped at once (no TLS work is spent on them).
// - the request head: its size (limits.maxHeaderBytes: HTTP/1.1 through Node's parser, answered here with a 431
//   Status; HTTP/2 checked per request, with the protocol's own header-list limit as a hard cap) and the time to
//   receive it, TLS handshake included (limits.requestHeaderTimeoutSeconds: 408 Status on HTTP/1.1; an HTTP/2 session
//   that opens no stream in time is closed).
// - idle connections (limits.idleTimeoutSeconds): a keep-alive connection or an HTTP/2 session with no request in
//   progress is closed; a connection carrying a watch or an exec is never idle.
//
// Refusals are counted in airlock_limit_refusals_total{limit}. Nothing here runs before TLS but the counting: a
// Status can only be sent inside the TLS session.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2SecureServer, Http2ServerRequest, Http2Session, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { type AnyResponse, sendStatus, sendStatusOnSocket } from "../gateway/respond.ts";
import { badRequest, headersTooLarge, overLimit, requestTimeout, shuttingDown } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";

export interface ListenerLimits {
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxHeaderBytes: number;
  requestHeaderTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  idleTimeoutSeconds: number;
}

/** HTTP/2 header lists above this are refused by the protocol layer itself (the stream is reset, no Status). */
function h2HeaderCap(limits: ListenerLimits): number {
  return Math.max(4 * limits.maxHeaderBytes, 65_536);
}

/** Options for http2.createSecureServer that carry the limits (set once; `ListenerGuard.apply` updates the rest). */
export function listenerOptions(limits: ListenerLimits) {
  return {
    // HTTP/1.1 (allowHTTP1): Node's parser refuses a longer head; 'clientError' below answers it with a Status.
    maxHeaderSize: limits.maxHeaderBytes,
    handshakeTimeout: limits.requestHeaderTimeoutSeconds * 1000,
    // How often Node checks HTTP/1.1 connections against headersTimeout (its default, 30 s, would let a slow client
    // stay up to 30 s past the limit).
    connectionsCheckingInterval: 500,
    settings: { maxHeaderListSize: h2HeaderCap(limits) },
  };
}

interface ConnectionState {
  tls?: TLSSocket;
  /** Requests in progress on it (HTTP/1.1: at most one at a time; HTTP/2: open streams). */
  active: number;
  session?: Http2Session;
  timer?: NodeJS.Timeout;
  /** Set once a request arrived (HTTP/2: a stream opened). */
  used: boolean;
  /** A limit it went over at connection time: its first request is refused with it. */
  over?: Status;
}

export interface GuardDeps {
  limits(): ListenerLimits;
  /** Counts a refusal (airlock_limit_refusals_total{limit}). */
  refused(limit: string): void;
}

/** Installs the limits on `server`; the request and upgrade handlers call `admit` / `admitUpgrade` first. */
export class ListenerGuard {
  readonly #server: Http2SecureServer;
  readonly #deps: GuardDeps;
  readonly #byAddress = new Map<string, number>();
  #total = 0;
  /** Raw TCP socket → what it went over (set at 'connection', read once TLS is up). */
  readonly #overRaw = new WeakMap<Socket, Status>();
  /** Live connections by their TCP socket (not upgraded ones: those are streams, closed with the stream registry). */
  readonly #connections = new Map<Socket, ConnectionState>();
  #draining = false;
  readonly #tlsFailed = new WeakSet<Duplex>();

  constructor(server: Http2SecureServer, deps: GuardDeps) {
    this.#server = server;
    this.#deps = deps;
    this.apply();
    server.on("connection", (raw: Socket) => this.#onConnection(raw));
    server.on("secureConnection", (tls: TLSSocket) => this.#onSecure(tls));
    server.on("session", (session: Http2Session) => this.#onSession(session));
    server.on("clientError", (err: Error & { code?: string }, socket: Duplex) =>
      this.#onClientError(err, socket),
    );
    server.on("tlsClientError", (err: Error & { code?: string }, socket: TLSSocket) =>
      this.#onTlsError(err, socket),
    );
  }

  /** (Re)applies the limits Node enforces itself (at start and on reload). */
  apply(): void {
    const limits = this.#deps.limits();
    const s = this.#server as unknown as {
      headersTimeout: number;
      requestTimeout: number;
      keepAliveTimeout: number;
      maxHeaderSize: number;
    };
    s.headersTimeout = limits.requestHeaderTimeoutSeconds * 1000;
    // The body's arrival is bounded per request by the pipeline (limits.requestTimeoutSeconds, 408), for both
    // protocols; Node's own requestTimeout would also cut a long upload with a bare 408.
    s.requestTimeout = 0;
    s.keepAliveTimeout = limits.idleTimeoutSeconds * 1000;
    s.maxHeaderSize = limits.maxHeaderBytes;
    this.#server.updateSettings({ maxHeaderListSize: h2HeaderCap(limits) });
    this.#server.maxConnections = 2 * limits.maxConnections;
  }

  /** Open client connections (TLS established, not upgraded). */
  connections(): number {
    return this.#connections.size;
  }

  /**
   * Called first by the request handler: answers (and returns true) when the request is refused by a listener
   * limit — its connection is over a connection limit, its HTTP/2 header list is too large, or the gateway is
   * shutting down.
   */
  admit(req: IncomingMessage | Http2ServerRequest, res: AnyResponse): boolean {
    const h2 = req.httpVersionMajor === 2;
    const state = this.#connections.get(rawOf(req.socket));
    if (state && !h2) this.#begin(state, res);
    const refusal = this.#refusalFor(state, req, h2);
    if (!refusal) return false;
    const headers: Record<string, string> = {};
    if (refusal.details?.retryAfterSeconds)
      headers["retry-after"] = String(refusal.details.retryAfterSeconds);
    if (!h2) headers.connection = "close";
    sendStatus(res, refusal, headers);
    if (h2 && (state?.over || this.#draining)) state?.session?.close();
    return true;
  }

  /** The same for an HTTP/1.1 upgrade (exec, attach, port-forward): the socket leaves the listener's care. */
  admitUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const raw = rawOf(socket);
    const state = this.#connections.get(raw);
    this.#release(raw);
    const refusal = this.#refusalFor(state, req, false);
    if (!refusal) return false;
    sendStatusOnSocket(socket, refusal);
    return true;
  }

  /**
   * Shutdown: no new requests from here on. HTTP/2 sessions get a GOAWAY (their open streams may finish), idle
   * HTTP/1.1 connections are closed, busy ones are closed when their response ends.
   */
  drain(): void {
    this.#draining = true;
    for (const state of this.#connections.values()) {
      clearTimeout(state.timer);
      if (state.session) state.session.close();
      else if (state.active === 0) state.tls?.end();
    }
  }

  /** Ends every connection still open (the grace period is over). */
  destroyAll(): void {
    for (const [raw, state] of this.#connections) {
      clearTimeout(state.timer);
      state.session?.destroy();
      state.tls?.destroy();
      raw.destroy();
    }
  }

  #refusalFor(
    state: ConnectionState | undefined,
    req: IncomingMessage | Http2ServerRequest,
    h2: boolean,
  ): Status | undefined {
    if (this.#draining) {
      return shuttingDown(
        "airlock: the gateway is shutting down; retry (another replica, or this one once restarted)",
      );
    }
    if (state?.over) return state.over;
    if (h2) {
      const max = this.#deps.limits().maxHeaderBytes;
      const size = headerListSize(req.rawHeaders);
      if (size > max) {
        this.#deps.refused("maxHeaderBytes");
        return headerTooLarge(size, max);
      }
    }
    return undefined;
  }

  #onConnection(raw: Socket): void {
    const limits = this.#deps.limits();
    const address = raw.remoteAddress ?? "";
    const fromHere = (this.#byAddress.get(address) ?? 0) + 1;
    this.#byAddress.set(address, fromHere);
    this.#total++;
    raw.once("close", () => {
      this.#total--;
      const n = (this.#byAddress.get(address) ?? 1) - 1;
      if (n > 0) this.#byAddress.set(address, n);
      else this.#byAddress.delete(address);
    });
    let over: Status | undefined;
    if (fromHere > limits.maxConnectionsPerClient) {
      this.#deps.refused("maxConnectionsPerClient");
      if (fromHere > 2 * limits.maxConnectionsPerClient) return void raw.destroy();
      over = overLimit(
        `airlock: this client address already has ${fromHere - 1} open connections to the gateway; the limit is ` +
          `${limits.maxConnectionsPerClient} (limits.maxConnectionsPerClient). Reuse connections (HTTP/2, keep-alive) ` +
          "or close some, then retry.",
      );
    } else if (this.#total > limits.maxConnections) {
      this.#deps.refused("maxConnections");
      over = overLimit(
        `airlock: the gateway already has ${this.#total - 1} open connections; the limit is ` +
          `${limits.maxConnections} (limits.maxConnections). Retry shortly, or raise the limit if the gateway has room.`,
      );
    }
    if (over) this.#overRaw.set(raw, over);
  }

  /** The connection's state, made when first seen (for HTTP/2 'session' comes before our 'secureConnection'). */
  #stateOf(raw: Socket): ConnectionState {
    let state = this.#connections.get(raw);
    if (!state) {
      state = { active: 0, used: false };
      const over = this.#overRaw.get(raw);
      if (over) state.over = over;
      this.#connections.set(raw, state);
      raw.once("close", () => this.#release(raw));
    }
    return state;
  }

  #onSecure(tls: TLSSocket): void {
    const state = this.#stateOf(rawOf(tls));
    state.tls = tls;
    if (this.#draining) tls.end();
  }

  #release(raw: Socket): void {
    const state = this.#connections.get(raw);
    if (!state) return;
    clearTimeout(state.timer);
    this.#connections.delete(raw);
  }

  /** HTTP/1.1: a request began on the connection; it ends when its response closes. */
  #begin(state: ConnectionState, res: AnyResponse): void {
    state.active++;
    state.used = true;
    (res as ServerResponse).once("close", () => {
      state.active--;
      if (this.#draining && state.active === 0) state.tls?.end();
    });
  }

  /** HTTP/2: a session with no open stream is idle; before its first stream the head timeout applies. */
  #onSession(session: Http2Session): void {
    const state = this.#stateOf(rawOf(session.socket));
    state.session = session;
    const arm = () => {
      clearTimeout(state.timer);
      const limits = this.#deps.limits();
      const first = !state.used;
      const seconds = first ? limits.requestHeaderTimeoutSeconds : limits.idleTimeoutSeconds;
      state.timer = setTimeout(() => {
        if (state.active > 0) return;
        if (first) this.#deps.refused("requestHeaderTimeoutSeconds");
        session.close();
        // A client that ignores the GOAWAY does not keep the connection.
        setTimeout(() => session.destroy(), 1000).unref();
      }, seconds * 1000);
      state.timer.unref();
    };
    arm();
    session.on("stream", (stream: ServerHttp2Stream) => {
      state.used = true;
      state.active++;
      clearTimeout(state.timer);
      stream.once("close", () => {
        state.active--;
        if (state.active === 0 && !this.#draining && !session.closed) arm();
      });
    });
    session.once("close", () => clearTimeout(state.timer));
  }

  /** A TLS handshake that failed or timed out (limits.requestHeaderTimeoutSeconds): nothing can be answered. */
  #onTlsError(err: Error & { code?: string }, socket: Duplex): void {
    if (err.code === "ERR_TLS_HANDSHAKE_TIMEOUT" && !this.#tlsFailed.has(socket)) {
      this.#deps.refused("requestHeaderTimeoutSeconds");
    }
    this.#tlsFailed.add(socket);
    socket.destroy();
  }

  #onClientError(err: Error & { code?: string }, socket: Duplex): void {
    // With a 'clientError' listener, Node routes TLS errors (a handshake timeout) here too: no HTTP can be spoken.
    if (
      err.code?.startsWith("ERR_TLS") ||
      err.code?.startsWith("ERR_SSL") ||
      !(socket as TLSSocket).encrypted
    ) {
      return void this.#onTlsError(err, socket);
    }
    const limits = this.#deps.limits();
    const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === "ECONNRESET" || !socket.writable || busy) return void socket.destroy();
    let status: Status;
    if (err.code === "HPE_HEADER_OVERFLOW") {
      this.#deps.refused("maxHeaderBytes");
      status = headerTooLarge(undefined, limits.maxHeaderBytes);
    } else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      this.#deps.refused("requestHeaderTimeoutSeconds");
      status = requestTimeout(
        `airlock: the request's head did not arrive within ${limits.requestHeaderTimeoutSeconds} s ` +
          "(limits.requestHeaderTimeoutSeconds); the connection is closed",
      );
    } else {
      status = badRequest(`airlock: the request is not valid HTTP/1.1 (${err.code ?? err.message})`);
    }
    sendStatusOnSocket(socket, status);
  }
}

/** HPACK's accounting (RFC 7541 §4.1): name + value + 32 per field. */
function headerListSize(raw: string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) size += (raw[i]?.length ?? 0) + (raw[i + 1]?.length ?? 0) + 32;
  return size;
}

function headerTooLarge(size: number | undefined, max: number): Status {
  const measured = size === undefined ? "" : ` (${size} bytes)`;
  return headersTooLarge(
    `airlock: the request's headers${measured} exceed ${max} bytes (limits.maxHeaderBytes); send fewer or smaller ` +
      "headers, or raise the limit",
  );
}

/**
 * The TCP socket under a TLS socket (HTTP/1.1: `req.socket`; HTTP/2: the session's socket proxy, which forwards
 * property reads to the TLS socket).
 */
function rawOf(socket: unknown): Socket {
  return ((socket as { _parent?: Socket })._parent ?? socket) as Socket;
}
