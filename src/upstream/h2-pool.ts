// HTTP/2 sessions to one cluster, for one set of TLS material: ordinary requests and watches become streams of a few
// long-lived connections (as client-go does with kube-apiserver), instead of one TLS connection per watch.
//
// Security stance: the TLS connection is made exactly as the HTTP/1.1 pool makes it — the same SecureContext (CA,
// client certificate), rejectUnauthorized always on, the same server name checked — and credentials stay per request
// (Authorization is a header of each stream), so one session carries many identities' impersonated requests just as
// one keep-alive socket does. ALPN decides: a cluster that answers "http/1.1" gets HTTP/1.1 (get() returns undefined
// and the caller uses the https.Agent); the answer is kept for the life of this pool (a new pool comes with new TLS
// material). A failed connection attempt is not remembered: the caller falls back to HTTP/1.1 for that request,
// whose own error then says what went wrong.
import http2, { type ClientHttp2Session } from "node:http2";
import https from "node:https";
import { isIP } from "node:net";
import tls, { type SecureContext } from "node:tls";

export interface H2PoolOptions {
  url: URL;
  secureContext: SecureContext;
  /** The name the server certificate is checked against (kubeconfig tls-server-name), else the URL's host. */
  servername?: string;
  /** Streams per session before another session is opened (the server's own limit applies if lower). */
  maxStreamsPerSession?: number;
  /** An idle session (no open stream) is closed after this long. */
  idleMs?: number;
  /** Connection-level receive window: unread data of a slow stream must not stall the session's other streams. */
  connectionWindowBytes?: number;
  /** Per-stream receive window: bounds what a slow reader of one stream holds in memory. */
  streamWindowBytes?: number;
  /** A connection that has not finished its TLS handshake by then is given up (a stalled cluster never hangs us). */
  connectTimeoutMs?: number;
}

/** The HTTP/1.1 keep-alive pool of one set of TLS material, with its HTTP/2 sessions beside it (when enabled). */
export class UpstreamAgent extends https.Agent {
  h2: H2Pool | undefined;
}

/** The HTTP/2 pool of request options' agent, if it has one. */
export function h2PoolOf(agent: unknown): H2Pool | undefined {
  return agent instanceof UpstreamAgent ? agent.h2 : undefined;
}

interface Entry {
  session: ClientHttp2Session;
  active: number;
  idle: NodeJS.Timeout | undefined;
}

const DEFAULTS = {
  maxStreamsPerSession: 250,
  idleMs: 60_000,
  connectionWindowBytes: 32 * 1024 * 1024,
  streamWindowBytes: 1024 * 1024,
  connectTimeoutMs: 5_000,
};

export class H2Pool {
  readonly #opts: H2PoolOptions & typeof DEFAULTS;
  readonly #sessions: Entry[] = [];
  /** Sessions of a drained pool that still carry streams (watches opened before a rotation): close() ends them. */
  readonly #draining = new Set<Entry>();
  #connecting: Promise<Entry | undefined> | undefined;
  /** The cluster chose HTTP/1.1 in ALPN. */
  #http1 = false;
  #closed = false;

  constructor(opts: H2PoolOptions) {
    this.#opts = { ...DEFAULTS, ...opts };
  }

  /** Whether the cluster has been seen to refuse h2 (tests and benchmarks read it). */
  get http1Only(): boolean {
    return this.#http1;
  }

  /** Sessions taking new streams (tests and benchmarks read it). */
  get sessionCount(): number {
    return this.#sessions.length;
  }

  /** Whether any session is still open, including drained ones finishing their streams. */
  get busy(): boolean {
    return this.#sessions.length > 0 || this.#draining.size > 0;
  }

  /**
   * A session with room for one more stream, connecting if needed; undefined means "use HTTP/1.1". The caller must
   * call the returned release() when its stream closes.
   */
  async acquire(): Promise<{ session: ClientHttp2Session; release: () => void } | undefined> {
    for (;;) {
      if (this.#closed || this.#http1) return undefined;
      const entry = this.#sessions.find((e) => usable(e.session) && e.active < this.#limit(e.session));
      if (entry) return this.#lease(entry);
      this.#connecting ??= this.#connect().finally(() => {
        this.#connecting = undefined;
      });
      const made = await this.#connecting;
      if (!made) return undefined;
      // Loop: concurrent callers share the new session up to its limit, the rest trigger the next one.
    }
  }

  /** No new streams; open ones finish (material rotated: their requests complete on the old connection). */
  drain(): void {
    this.#closed = true;
    for (const e of this.#sessions.splice(0)) {
      if (e.idle) clearTimeout(e.idle);
      this.#draining.add(e);
      e.session.close();
    }
  }

  /** Ends every session and its streams now. */
  close(): void {
    this.#closed = true;
    for (const e of [...this.#sessions.splice(0), ...this.#draining]) {
      if (e.idle) clearTimeout(e.idle);
      e.session.destroy();
    }
    this.#draining.clear();
  }

  #limit(session: ClientHttp2Session): number {
    const remote = session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    return Math.max(1, Math.min(remote, this.#opts.maxStreamsPerSession));
  }

  #lease(entry: Entry): { session: ClientHttp2Session; release: () => void } {
    entry.active++;
    if (entry.idle) {
      clearTimeout(entry.idle);
      entry.idle = undefined;
    }
    // Like a busy keep-alive socket, a session with open streams keeps the process alive; an idle one does not.
    if (entry.active === 1) entry.session.ref();
    let released = false;
    return {
      session: entry.session,
      release: () => {
        if (released) return;
        released = true;
        entry.active--;
        if (entry.active > 0 || !usable(entry.session)) return;
        entry.session.unref();
        entry.idle = setTimeout(() => this.#retire(entry, false), this.#opts.idleMs);
        entry.idle.unref();
      },
    };
  }

  /** Takes a session out of the pool: at once (destroy), or gracefully, its open streams finishing first. */
  #retire(entry: Entry, destroy: boolean): void {
    const i = this.#sessions.indexOf(entry);
    if (i >= 0) this.#sessions.splice(i, 1);
    if (entry.idle) clearTimeout(entry.idle);
    if (destroy || entry.session.destroyed) {
      this.#draining.delete(entry);
      entry.session.destroy();
      return;
    }
    this.#draining.add(entry);
    if (!entry.session.closed) entry.session.close();
  }

  #forget(entry: Entry): void {
    const i = this.#sessions.indexOf(entry);
    if (i >= 0) this.#sessions.splice(i, 1);
    if (entry.idle) clearTimeout(entry.idle);
    this.#draining.delete(entry);
  }

  #connect(): Promise<Entry | undefined> {
    const { url, secureContext } = this.#opts;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const servername = this.#opts.servername ?? (isIP(host) ? undefined : host);
    return new Promise((resolve) => {
      const socket = tls.connect({
        host,
        port: Number(url.port || 443),
        secureContext,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: true,
        ALPNProtocols: ["h2", "http/1.1"],
      });
      // As http.Agent: frames are small and a request's HEADERS must not wait for an ACK of the previous write.
      socket.setNoDelay(true);
      const fail = () => {
        socket.destroy();
        resolve(undefined);
      };
      socket.once("error", fail);
      socket.setTimeout(this.#opts.connectTimeoutMs, fail);
      socket.once("secureConnect", () => {
        socket.removeListener("error", fail);
        socket.removeListener("timeout", fail); // setTimeout(0) disarms the timer but keeps the listener
        socket.setTimeout(0);
        if (socket.alpnProtocol !== "h2" || this.#closed) {
          if (!this.#closed) this.#http1 = true;
          socket.destroy();
          resolve(undefined);
          return;
        }
        const session = http2.connect(url.origin, {
          createConnection: () => socket,
          settings: { initialWindowSize: this.#opts.streamWindowBytes, enablePush: false },
        });
        const entry: Entry = { session, active: 0, idle: undefined };
        session.once("connect", () => session.setLocalWindowSize(this.#opts.connectionWindowBytes));
        // A session that ends or is told to go away takes no new streams; its open ones end on their own terms.
        session.on("goaway", () => this.#retire(entry, false));
        session.on("close", () => this.#forget(entry));
        session.on("error", () => this.#retire(entry, true));
        session.unref();
        this.#sessions.push(entry);
        resolve(entry);
      });
    });
  }
}

function usable(session: ClientHttp2Session): boolean {
  return !session.closed && !session.destroyed;
}
