// The agents connected for tunnel clusters (docs/agent.md): each link is one mutually authenticated TLS connection an
// agent dialled, with HTTP/2 on it in reverse (the gateway is the HTTP/2 client, the agent the server), so every
// request for the cluster becomes one stream the gateway opens.
//
// Security stance: a link is added only after the agent listener checked its certificate (agent CA, validity, the
// cluster named in it, not revoked: src/agent/gateway-listener.ts). A stream is an HTTP/2 CONNECT (RFC 9113 §8.5)
// whose own headers — written only here, never from client input — declare the exact Impersonate-* lines of the one
// request it carries; the agent refuses the request if they differ (src/agent/proxy.ts). Closing a link (revocation,
// certificate expiry) destroys the session, so every stream on it ends at once.
import { type ClientHttp2Session, type ClientHttp2Stream, constants } from "node:http2";

/** The stream header carrying the gateway's declaration of the request's Impersonate-* lines. */
export const IMPERSONATION_DECLARATION = "airlock-impersonation";

export interface TunnelAgentInfo {
  id: string;
  cluster: string;
  version: string;
  /** The agent's address as the gateway saw it (host:port). */
  address: string;
  connectedSince: string;
  /** Streams (requests, watches, exec sessions) open on the tunnel now. */
  inFlight: number;
}

/** Encodes the [name, value] Impersonate-* lines (names lower-cased) for the stream header. */
export function encodeDeclaration(lines: [string, string][]): string {
  return Buffer.from(JSON.stringify(lines.map(([k, v]) => [k.toLowerCase(), v]))).toString("base64url");
}

/** The declared lines, or undefined when the header is not a declaration this gateway could have written. */
export function decodeDeclaration(text: string | undefined): [string, string][] | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (!Array.isArray(parsed)) return undefined;
    const lines: [string, string][] = [];
    for (const item of parsed) {
      if (!Array.isArray(item) || item.length !== 2) return undefined;
      const [k, v] = item as unknown[];
      if (typeof k !== "string" || typeof v !== "string" || !/^impersonate-/.test(k)) return undefined;
      lines.push([k, v]);
    }
    return lines;
  } catch {
    return undefined;
  }
}

/** Gives an HTTP/2 stream the socket methods an HTTP/1.1 client or server (and ws) call on their connection. */
export function asSocket<T extends object>(stream: T): T {
  const s = stream as T & { setNoDelay?: () => T; setKeepAlive?: () => T };
  s.setNoDelay ??= () => stream;
  s.setKeepAlive ??= () => stream;
  return stream;
}

export class TunnelLink {
  readonly id: string;
  readonly cluster: string;
  readonly address: string;
  readonly since: Date;
  version = "unknown";
  inFlight = 0;
  /** Set once the hub carried it (the agent said hello): its end is then a disconnect worth noting. */
  connected = false;
  readonly #session: ClientHttp2Session;
  #closedWhy: string | undefined;
  /** The last stream id the agent's GOAWAY said it processed, once it sent one. */
  #goawayLastStreamId: number | undefined;
  /** Its certificate ends soon: the link is chosen only when the cluster has no other usable link. */
  #draining = false;

  constructor(
    session: ClientHttp2Session,
    info: { id: string; cluster: string; address: string; since: Date },
  ) {
    this.#session = session;
    this.id = info.id;
    this.cluster = info.cluster;
    this.address = info.address;
    this.since = info.since;
    session.on("goaway", (_code: number, lastStreamId: number) => {
      this.#goawayLastStreamId = Math.min(this.#goawayLastStreamId ?? lastStreamId, lastStreamId);
    });
  }

  /** Whether new streams may be opened (not closing, not gone away). */
  get usable(): boolean {
    return this.#closedWhy === undefined && !this.#session.closed && !this.#session.destroyed;
  }

  /** The link's certificate ends soon: from now on new requests prefer another link of the cluster. */
  drain(): void {
    this.#draining = true;
  }

  /** Whether the link is in its last moments before its certificate ends. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Whether the agent provably never processed this stream of the link, so its request never reached the cluster
   * and may be sent on another link: the agent refused it (REFUSED_STREAM), or its id is above the last one the
   * agent's GOAWAY said it processed, or it never got an id (the session closed before the stream was sent).
   * A stream the agent accepted (answered its CONNECT) is never "unprocessed", whatever happened after.
   */
  unprocessed(stream: ClientHttp2Stream): boolean {
    if (stream.id === undefined) return true;
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return true;
    return this.#goawayLastStreamId !== undefined && stream.id > this.#goawayLastStreamId;
  }

  /** Opens the stream for one request; `declared` are its Impersonate-* lines. Throws when the link is gone. */
  open(declared: [string, string][], onClose: () => void): ClientHttp2Stream {
    if (!this.usable)
      throw Object.assign(new Error(`the tunnel of agent ${this.id} closed`), { code: "ECONNRESET" });
    const stream = this.#session.request(
      {
        ":method": "CONNECT",
        ":authority": `${this.cluster}:443`,
        [IMPERSONATION_DECLARATION]: encodeDeclaration(declared),
      },
      { endStream: false },
    );
    this.inFlight++;
    stream.once("close", () => {
      this.inFlight--;
      onClose();
    });
    return asSocket(stream);
  }

  /** Why it stopped taking streams, once it did. */
  get closedWhy(): string | undefined {
    return this.#closedWhy;
  }

  /** Ends the tunnel now: every stream on it is reset. */
  close(why: string): void {
    this.#closedWhy ??= why;
    this.#session.destroy();
  }

  /** Takes no new streams; open ones finish (the agent moved to a new connection, e.g. after renewing). */
  retire(why: string): void {
    this.#closedWhy ??= why;
  }

  info(): TunnelAgentInfo {
    return {
      id: this.id,
      cluster: this.cluster,
      version: this.version,
      address: this.address,
      connectedSince: this.since.toISOString(),
      inFlight: this.inFlight,
    };
  }
}

export class TunnelHub {
  readonly #byCluster = new Map<string, Set<TunnelLink>>();
  /** Told of every change (metrics). */
  onChange: (() => void) | undefined;

  add(link: TunnelLink): void {
    let set = this.#byCluster.get(link.cluster);
    if (!set) {
      set = new Set();
      this.#byCluster.set(link.cluster, set);
    }
    set.add(link);
    link.connected = true;
    this.onChange?.();
  }

  remove(link: TunnelLink): void {
    this.#byCluster.get(link.cluster)?.delete(link);
    this.onChange?.();
  }

  /**
   * The usable link of the cluster with the fewest open streams (ties: the one connected first), other than
   * `except`. A link whose certificate ends soon (draining) is chosen only when the cluster has no other.
   */
  pick(cluster: string, except?: TunnelLink): TunnelLink | undefined {
    let best: TunnelLink | undefined;
    let bestDraining = true;
    for (const link of this.#byCluster.get(cluster) ?? []) {
      if (!link.usable || link === except) continue;
      const draining = link.draining;
      if (
        !best ||
        (bestDraining && !draining) ||
        (draining === bestDraining && link.inFlight < best.inFlight)
      ) {
        best = link;
        bestDraining = draining;
      }
    }
    return best;
  }

  links(cluster?: string): TunnelLink[] {
    if (cluster !== undefined) return [...(this.#byCluster.get(cluster) ?? [])];
    return [...this.#byCluster.values()].flatMap((s) => [...s]);
  }

  /** Closes every tunnel of one agent (its id); how many were closed. */
  closeAgent(id: string, why: string): number {
    let n = 0;
    for (const link of this.links()) {
      if (link.id !== id) continue;
      link.close(why);
      this.remove(link);
      n++;
    }
    return n;
  }

  closeAll(why: string): void {
    for (const link of this.links()) link.close(why);
    this.#byCluster.clear();
    this.onChange?.();
  }
}
