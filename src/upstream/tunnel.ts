// A tunnel cluster as a cluster connection: the gateway holds no address and no credential for it; each request is
// sent over one of the cluster's connected agents (tunnel-hub.ts), which adds the cluster credential it holds.
//
// The forwarder is unchanged: requestOptions() returns ordinary https.request options whose agent opens an HTTP/2
// CONNECT stream on the chosen tunnel instead of a TCP connection, and the HTTP/1.1 request (or WebSocket/SPDY upgrade)
// is written into that stream as it would be onto a socket. So plain requests, watches, exec/attach, port-forward and
// HTTP/2 clients all travel the same way, after the same pipeline.
import type { ClientHttp2Stream } from "node:http2";
import https from "node:https";
import { Duplex } from "node:stream";
import { internalError, noAgentConnected } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { TunnelHub, TunnelLink } from "./tunnel-hub.ts";
import type { Upstream } from "./types.ts";

const DROPPED_HEADERS = new Set(["authorization", "proxy-authorization", "host"]);

/** No agent of the cluster is connected: the caller answers this Status (503 naming the cluster). */
export class NoAgentError extends StatusError {}

/** Bytes of a request kept for its one resend until the agent accepts its stream; a request that wrote more is not resent. */
const RESEND_LIMIT = 1024 * 1024;

interface Opened {
  link: TunnelLink;
  stream: ClientHttp2Stream;
}

/**
 * The connection an HTTP/1.1 client (or ws) writes one request into: a stream of a tunnel, moved ONCE to another link
 * of the cluster when the agent provably never processed it (TunnelLink.unprocessed: refused, above its GOAWAY's last
 * stream, or never sent) — a renewal's GOAWAY or a certificate's end crossing the request's dispatch. Such a request
 * never reached the cluster, so sending it again is sending it once. The bytes written are kept until the agent
 * accepts the stream (answers the CONNECT); from then on the stream is the connection, and a stream cut after that
 * is never resent (the request may have reached the cluster): the client sees the failure.
 */
class TunnelSocket extends Duplex {
  #current: Opened;
  readonly #reopen: (failed: TunnelLink) => Opened | undefined;
  /** The bytes written so far, while the stream may still be resent; undefined once it may not. */
  #kept: Buffer[] | undefined = [];
  #keptBytes = 0;
  #ended = false;
  #resent = false;
  #timeout: [number, () => void] | undefined;

  constructor(first: Opened, reopen: (failed: TunnelLink) => Opened | undefined) {
    super({ allowHalfOpen: true });
    this.#current = first;
    this.#reopen = reopen;
    this.#attach(first);
  }

  #attach(opened: Opened): void {
    const { stream, link } = opened;
    let failure: Error | undefined;
    stream.on("response", () => {
      if (this.#current.stream === stream) this.#kept = undefined;
    });
    stream.on("data", (chunk: Buffer) => {
      if (this.#current.stream === stream && !this.push(chunk)) stream.pause();
    });
    stream.on("end", () => {
      if (this.#current.stream === stream) this.push(null);
    });
    stream.on("error", (err: Error) => {
      failure = err;
    });
    stream.on("close", () => {
      if (this.#current.stream !== stream || this.destroyed) return;
      if (this.#kept && !this.#resent && link.unprocessed(stream)) {
        const next = this.#reopen(link);
        if (next) {
          this.#resent = true;
          this.#current = next;
          this.#attach(next);
          for (const chunk of this.#kept) next.stream.write(chunk);
          if (this.#ended) next.stream.end();
          return;
        }
      }
      if (this.#kept && link.unprocessed(stream)) {
        // Never processed, and no other link to carry it (or already resent once): the agent was not reached.
        failure = Object.assign(
          new Error(
            `the tunnel of agent ${link.id} closed before the agent took the request (nothing reached the cluster)`,
          ),
          { code: "ECONNREFUSED" },
        );
      }
      if (!this.readableEnded && !failure)
        failure = Object.assign(new Error("the tunnel stream closed"), { code: "ECONNRESET" });
      this.destroy(failure);
    });
    if (this.#timeout) stream.setTimeout(...this.#timeout);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#kept) {
      this.#keptBytes += chunk.length;
      if (this.#keptBytes > RESEND_LIMIT) this.#kept = undefined;
      else this.#kept.push(chunk);
    }
    // A write to a stream that is closing fails; while the bytes are kept the close decides (resend or fail).
    const { stream } = this.#current;
    if (stream.destroyed || stream.write(chunk)) {
      callback();
      return;
    }
    const go = () => {
      stream.off("drain", go);
      stream.off("close", go);
      callback();
    };
    stream.on("drain", go);
    stream.on("close", go);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#current.stream.end();
    callback();
  }

  override _read(): void {
    this.#current.stream.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#current.stream.destroy();
    callback(err);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    if (onTimeout) this.once("timeout", onTimeout);
    this.#timeout = [ms, () => this.emit("timeout")];
    this.#current.stream.setTimeout(...this.#timeout);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** An https.Agent whose one connection is a stream of a tunnel (one request per stream, never kept alive). */
class TunnelStreamAgent extends https.Agent {
  readonly #open: () => Duplex;

  constructor(open: () => Duplex) {
    super({ keepAlive: false });
    this.#open = open;
  }

  override createConnection(
    _options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | undefined {
    let socket: Duplex;
    try {
      socket = this.#open();
    } catch (err) {
      // Node's agent turns this into the request's "error" (the forwarder's upstreamUnreachable, naming the cluster).
      callback?.(err as Error, undefined as unknown as Duplex);
      return undefined;
    }
    callback?.(null, socket);
    return undefined;
  }
}

export class TunnelUpstream implements Upstream {
  readonly name: string;
  readonly url: URL;
  readonly impersonate: boolean;
  readonly #hub: TunnelHub;
  /** Told when a stream opens and closes (the in-flight gauge). */
  readonly #onStream: (link: TunnelLink) => void;
  #closed = false;

  constructor(
    name: string,
    hub: TunnelHub,
    opts: { impersonate?: boolean; onStream?: (link: TunnelLink) => void },
  ) {
    this.name = name;
    // Never dialled: names the cluster in Host and in messages. ".invalid" (RFC 2606) resolves nowhere.
    this.url = new URL(`https://${name}.tunnel.invalid`);
    this.impersonate = opts.impersonate ?? true;
    this.#hub = hub;
    this.#onStream = opts.onStream ?? (() => {});
  }

  /** A tunnel has no pool of its own; each request's options carry their own stream agent. */
  get agent(): https.Agent {
    return this.#streamAgent([]);
  }

  async credentialHeaders(): Promise<Record<string, string>> {
    return {};
  }

  async requestOptions(
    method: string,
    pathAndQuery: string,
    headers: [string, string][],
  ): Promise<https.RequestOptions> {
    if (this.#closed) throw new NoAgentError(noAgentConnected(this.name, "the gateway is shutting down"));
    if (!pathAndQuery.startsWith("/"))
      throw new StatusError(internalError(`upstream path must start with "/" (cluster "${this.name}")`));
    // None connected: the 503 naming the cluster (the forwarder answers a NoAgentError's Status as it is).
    if (!this.#hub.pick(this.name)) throw new NoAgentError(noAgentConnected(this.name));
    // The Impersonate-* lines the gateway set for this request, declared on the stream: the agent refuses any other.
    const declared = headers.filter(([k]) => /^impersonate-/i.test(k));
    const flat: string[] = ["host", this.url.host];
    for (const [k, v] of headers) if (!DROPPED_HEADERS.has(k.toLowerCase())) flat.push(k, v);
    return {
      protocol: "https:",
      hostname: this.url.hostname,
      port: 443,
      method,
      path: pathAndQuery,
      headers: flat,
      agent: this.#streamAgent(declared),
    };
  }

  #streamAgent(declared: [string, string][]): https.Agent {
    const open = (except?: TunnelLink): Opened | undefined => {
      const link = this.#hub.pick(this.name, except);
      if (!link) return undefined;
      const stream = link.open(declared, () => this.#onStream(link));
      this.#onStream(link);
      return { link, stream };
    };
    return new TunnelStreamAgent(() => {
      const first = open();
      if (!first) {
        throw Object.assign(new Error(`no agent of cluster "${this.name}" is connected`), {
          code: "ECONNREFUSED",
        });
      }
      // The resend goes to another usable link; with none, the request fails as it would have.
      return new TunnelSocket(first, (failed) => open(failed));
    });
  }

  invalidate(): void {}

  close(): void {
    this.#closed = true;
  }
}
