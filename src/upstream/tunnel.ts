// A tunnel cluster as a cluster connection: the gateway holds no address and no credential for it; each request is
// sent over one of the cluster's connected agents (tunnel-hub.ts), which adds the cluster credential it holds.
//
// The forwarder is unchanged: requestOptions() returns ordinary https.request options whose agent opens an HTTP/2
// CONNECT stream on the chosen tunnel instead of a TCP connection, and the HTTP/1.1 request (or WebSocket/SPDY upgrade)
// is written into that stream as it would be onto a socket. So plain requests, watches, exec/attach, port-forward and
// HTTP/2 clients all travel the same way, after the same pipeline.
import https from "node:https";
import type { Duplex } from "node:stream";
import { internalError, noAgentConnected } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { TunnelHub, TunnelLink } from "./tunnel-hub.ts";
import type { Upstream } from "./types.ts";

const DROPPED_HEADERS = new Set(["authorization", "proxy-authorization", "host"]);

/** No agent of the cluster is connected: the caller answers this Status (503 naming the cluster). */
export class NoAgentError extends StatusError {}

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
    return new TunnelStreamAgent(() => {
      const link = this.#hub.pick(this.name);
      if (!link) {
        throw Object.assign(new Error(`no agent of cluster "${this.name}" is connected`), {
          code: "ECONNREFUSED",
        });
      }
      const stream = link.open(declared, () => this.#onStream(link));
      this.#onStream(link);
      return stream;
    });
  }

  invalidate(): void {}

  close(): void {
    this.#closed = true;
  }
}
