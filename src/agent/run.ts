// `airlock agent`: runs next to a cluster and dials OUT to the gateway, so the cluster's API can stay private.
//
//   1. Join (once): a one-time join token is exchanged at the gateway's agent port (POST /join) for a client
//      certificate of the gateway's agent CA, bound to this one cluster. It is kept in the state directory (key 0600)
//      so a restarted agent reconnects without a new token.
//   2. Tunnel: one TLS connection to the agent port (ALPN "airlock-tunnel", the gateway's CA pinned, the agent's
//      certificate presented); on it the agent is the HTTP/2 server (http2.performServerHandshake on the socket it
//      dialled: no listening port, no server object) and serves the streams the gateway opens (proxy.ts).
//   3. Rotation: at two thirds of the certificate's life it asks for a new one (POST /renew, with the current one),
//      opens a new tunnel with it, and closes the old one gracefully (GOAWAY: open streams finish on it).
//   4. Reconnect: a lost tunnel is redialled after a delay drawn uniformly from [0, min(cap, base·2^attempt)] (full
//      jitter), so agents do not reconnect in lockstep after a gateway restart.
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import http2, { type ServerHttp2Session } from "node:http2";
import https from "node:https";
import { isIP } from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import type { Upstream } from "../upstream/types.ts";
import { TUNNEL_ALPN } from "./gateway-listener.ts";
import { createStreamProxy } from "./proxy.ts";

export interface AgentOptions {
  /** The gateway's agent port, https://host:port. */
  gateway: URL;
  cluster: string;
  /** Read only when the state directory holds no usable certificate. */
  joinTokenFile?: string;
  /** The CA of the gateway's serving certificate (pinned); without it, the system's trusted CAs. */
  gatewayCaPem?: string;
  stateDir: string;
  /** How the agent reaches its cluster, with the credential it holds. */
  upstream: Upstream;
  version: string;
  log: (event: object) => void;
  /** Reconnect back-off: first delay cap and largest delay (ms). */
  backoff?: { baseMs: number; maxMs: number };
  /** Renew at this fraction of the certificate's lifetime (default 2/3). */
  renewAt?: number;
  /** The clock (epoch ms). */
  now?: () => number;
}

interface Identity {
  agentId: string;
  cluster: string;
  certPem: string;
  keyPem: string;
  /** When this agent got (or loaded) it: renewal is timed from here (a certificate's notBefore is backdated). */
  sinceMs: number;
  expiresMs: number;
}

export class AgentError extends Error {}

/** An EC P-256 key pair made by the agent: the private half stays in its state directory (0600). */
function newKey(): { keyPem: string; publicKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function identityOf(
  certPem: string,
  keyPem: string,
  agentId: string,
  cluster: string,
  sinceMs: number,
): Identity {
  const cert = new X509Certificate(certPem);
  return { agentId, cluster, certPem, keyPem, sinceMs, expiresMs: Date.parse(cert.validTo) };
}

export class Agent {
  readonly #opts: AgentOptions;
  readonly #now: () => number;
  readonly #log: (event: object) => void;
  readonly #proxy: ReturnType<typeof createStreamProxy>;
  #identity: Identity | undefined;
  #sessions = new Set<ServerHttp2Session>();
  #current: ServerHttp2Session | undefined;
  #attempt = 0;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #connectedWaiters: (() => void)[] = [];
  /** Why the gateway last refused the tunnel (tests and logs). */
  lastRefusal: string | undefined;

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log;
    this.#proxy = createStreamProxy(opts.upstream, opts.log);
  }

  get stateDir(): string {
    return this.#opts.stateDir;
  }

  get agentId(): string | undefined {
    return this.#identity?.agentId;
  }

  get connected(): boolean {
    return this.#current !== undefined && !this.#current.closed && !this.#current.destroyed;
  }

  /** Joins if needed, then keeps the tunnel up until stop(). Throws when it cannot join. */
  async start(): Promise<void> {
    this.#identity = (await this.#loadState()) ?? (await this.#join());
    this.#scheduleRenewal();
    this.#connect();
  }

  /** Resolves once a tunnel is up (the gateway said hello). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.#connectedWaiters.push(resolve));
  }

  /** Stops at once: tunnels destroyed (as a killed process would leave them), nothing redialled. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    for (const s of this.#sessions) s.destroy();
    this.#sessions.clear();
    this.#proxy.close();
    this.#opts.upstream.close();
  }

  /**
   * Stops gracefully (SIGTERM): each tunnel is told GOAWAY, so the gateway sends new requests to the cluster's other
   * agents while the streams already open here (watches, exec sessions) go on; after `graceMs`, or once they are all
   * done, everything is closed.
   */
  async drain(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#renewTimer);
    this.#log({ severity: "info", event: "agent.draining", graceMs });
    const open = [...this.#sessions].filter((s) => !s.closed && !s.destroyed);
    const done = Promise.all(
      open.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once("close", () => resolve());
            s.close();
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.stop();
  }

  // --- state ---------------------------------------------------------------------------------------------------

  async #loadState(): Promise<Identity | undefined> {
    const dir = this.#opts.stateDir;
    const files = ["agent.json", "agent.crt", "agent.key"].map((f) => join(dir, f));
    if (!files.every((f) => existsSync(f))) return undefined;
    const [meta, certPem, keyPem] = await Promise.all(files.map((f) => readFile(f, "utf8")));
    const { agentId, cluster } = JSON.parse(meta ?? "{}") as { agentId?: string; cluster?: string };
    if (!agentId || !cluster) throw new AgentError(`${files[0]} is not an agent state file`);
    if (cluster !== this.#opts.cluster) {
      throw new AgentError(
        `the state directory ${dir} holds agent ${agentId} of cluster "${cluster}", not "${this.#opts.cluster}": ` +
          "give each cluster's agent its own --state-dir",
      );
    }
    const identity = identityOf(certPem ?? "", keyPem ?? "", agentId, cluster, this.#now());
    if (identity.expiresMs <= this.#now()) {
      this.#log({ severity: "warn", event: "agent.certificate.expired", agent: agentId });
      return undefined;
    }
    return identity;
  }

  async #saveState(identity: Identity): Promise<void> {
    const dir = this.#opts.stateDir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a crash never leaves a certificate with another's key.
    const put = async (name: string, text: string, mode: number) => {
      await writeFile(join(dir, `${name}.tmp`), text, { mode });
      await rename(join(dir, `${name}.tmp`), join(dir, name));
    };
    await put("agent.key", identity.keyPem, 0o600);
    await put("agent.crt", identity.certPem, 0o644);
    await put("agent.json", JSON.stringify({ agentId: identity.agentId, cluster: identity.cluster }), 0o644);
  }

  // --- join and renew ------------------------------------------------------------------------------------------

  #post(
    path: string,
    body: object,
    client?: Identity,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = new URL(path, this.#opts.gateway);
    const text = JSON.stringify(body);
    const options: https.RequestOptions = {
      protocol: "https:",
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 443),
      path: url.pathname,
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
      ...(this.#opts.gatewayCaPem ? { ca: this.#opts.gatewayCaPem } : {}),
      ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
      minVersion: "TLSv1.2",
      agent: false,
      timeout: 15_000,
    };
    return new Promise((resolve, reject) => {
      const req = https.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          } catch {
            // answered below by status
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      req.on("timeout", () => req.destroy(new Error("the gateway did not answer within 15 s")));
      req.on("error", reject);
      req.end(text);
    });
  }

  /** The certificate the gateway issued on the public half of `keyPem` (made here; it never leaves the agent). */
  #identityFrom(json: Record<string, unknown>, keyPem: string): Identity {
    const { agentId, cluster, certPem } = json;
    if (typeof agentId !== "string" || typeof certPem !== "string")
      throw new AgentError("the gateway's answer holds no certificate");
    if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)))
      throw new AgentError("the gateway's certificate is not for this agent's key");
    if (cluster !== this.#opts.cluster)
      throw new AgentError(
        `the gateway issued a certificate for cluster "${String(cluster)}", not "${this.#opts.cluster}"`,
      );
    return identityOf(certPem, keyPem, agentId, this.#opts.cluster, this.#now());
  }

  async #join(): Promise<Identity> {
    const file = this.#opts.joinTokenFile;
    if (!file) {
      throw new AgentError(
        `no agent certificate in ${this.#opts.stateDir} and no --join-token-file: create a join token with ` +
          `'airlock cluster join-token create ${this.#opts.cluster} --ttl 1h' and give it to the agent`,
      );
    }
    const token = (await readFile(file, "utf8")).trim();
    const key = newKey();
    const res = await this.#post("/join", {
      cluster: this.#opts.cluster,
      token,
      version: this.#opts.version,
      publicKey: key.publicKeyPem,
    });
    if (res.status !== 201) {
      throw new AgentError(
        `the gateway refused the join (HTTP ${res.status}): ${String(res.json.message ?? "no message")}`,
      );
    }
    const identity = this.#identityFrom(res.json, key.keyPem);
    await this.#saveState(identity);
    this.#log({
      severity: "info",
      event: "agent.joined",
      agent: identity.agentId,
      cluster: identity.cluster,
    });
    return identity;
  }

  #scheduleRenewal(): void {
    clearTimeout(this.#renewTimer);
    const id = this.#identity;
    if (!id || this.#stopped) return;
    const at = id.sinceMs + (id.expiresMs - id.sinceMs) * (this.#opts.renewAt ?? 2 / 3);
    const delay = Math.min(2 ** 31 - 1, Math.max(0, at - this.#now()));
    this.#renewTimer = setTimeout(() => void this.renew(), delay);
    this.#renewTimer.unref();
  }

  /** Asks for a new certificate now and moves to a new tunnel with it. */
  async renew(): Promise<void> {
    const current = this.#identity;
    if (!current || this.#stopped) return;
    try {
      // A fresh key pair for each certificate.
      const key = newKey();
      const res = await this.#post(
        "/renew",
        { agentId: current.agentId, publicKey: key.publicKeyPem },
        current,
      );
      if (res.status !== 201) throw new AgentError(`HTTP ${res.status}: ${String(res.json.message ?? "")}`);
      const next = this.#identityFrom(res.json, key.keyPem);
      await this.#saveState(next);
      this.#identity = next;
      this.#log({
        severity: "info",
        event: "agent.renewed",
        agent: next.agentId,
        expiresAt: new Date(next.expiresMs).toISOString(),
      });
      this.#scheduleRenewal();
      // A new tunnel with the new certificate; the old one is closed gracefully once the new one is up.
      this.#connect();
    } catch (err) {
      this.#log({ severity: "warn", event: "agent.renew.failed", message: (err as Error).message });
      clearTimeout(this.#renewTimer);
      this.#renewTimer = setTimeout(() => void this.renew(), 30_000);
      this.#renewTimer.unref();
    }
  }

  // --- tunnel --------------------------------------------------------------------------------------------------

  #retry(): void {
    if (this.#stopped || this.#retryTimer) return;
    if (this.connected) return;
    const { baseMs, maxMs } = this.#opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    const cap = Math.min(maxMs, baseMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    const delay = Math.floor(Math.random() * cap);
    this.#log({ severity: "info", event: "agent.reconnecting", inMs: delay });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delay);
  }

  #connect(): void {
    const id = this.#identity;
    if (!id || this.#stopped) return;
    const url = this.#opts.gateway;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      ...(this.#opts.gatewayCaPem ? { ca: this.#opts.gatewayCaPem } : {}),
      cert: id.certPem,
      key: id.keyPem,
      ALPNProtocols: [TUNNEL_ALPN],
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 20_000);
    const failed = (err: Error) => {
      this.#log({ severity: "warn", event: "agent.connect.failed", message: err.message });
      socket.destroy();
      this.#retry();
    };
    socket.once("error", failed);
    socket.setTimeout(15_000, () => failed(new Error("the TLS handshake did not finish in 15 s")));
    socket.once("secureConnect", () => {
      socket.removeListener("error", failed);
      socket.setTimeout(0);
      socket.removeAllListeners("timeout");
      socket.on("error", () => {});
      if (socket.alpnProtocol !== TUNNEL_ALPN)
        return failed(new Error("the gateway does not speak the tunnel protocol"));
      const session = http2.performServerHandshake(socket, {
        settings: { maxConcurrentStreams: 10_000, initialWindowSize: 1024 * 1024, enablePush: false },
      });
      this.#sessions.add(session);
      session.on("error", () => {});
      session.once("connect", () => session.setLocalWindowSize(32 * 1024 * 1024));
      session.on("stream", (stream, headers) => {
        stream.on("error", () => {});
        const method = headers[":method"];
        const path = headers[":path"];
        if (method === "CONNECT") return this.#proxy.serve(stream, headers);
        if (method === "POST" && path === "/airlock/hello") {
          stream.resume();
          stream.respond({ ":status": 200, "content-type": "application/json" });
          stream.end(JSON.stringify({ version: this.#opts.version }));
          return this.#connected(session);
        }
        if (method === "POST" && path === "/airlock/refused") {
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.length < 16 && chunks.push(c));
          stream.on("end", () => {
            this.lastRefusal = Buffer.concat(chunks).toString("utf8").slice(0, 500);
            this.#log({ severity: "error", event: "agent.refused", message: this.lastRefusal });
            stream.respond({ ":status": 204 });
            stream.end();
          });
          return;
        }
        stream.respond({ ":status": 404 });
        stream.end();
      });
      session.once("close", () => {
        this.#sessions.delete(session);
        if (this.#current === session) {
          this.#current = undefined;
          this.#log({ severity: "warn", event: "agent.disconnected", agent: id.agentId });
        }
        this.#retry();
      });
    });
  }

  #connected(session: ServerHttp2Session): void {
    const previous = this.#current;
    this.#current = session;
    this.#attempt = 0;
    this.lastRefusal = undefined;
    this.#log({
      severity: "info",
      event: "agent.connected",
      agent: this.#identity?.agentId,
      cluster: this.#opts.cluster,
    });
    // After a renewal: the old tunnel takes no new streams and closes when its open ones are done.
    if (previous && previous !== session) previous.close();
    for (const w of this.#connectedWaiters.splice(0)) w();
  }
}
