// One open upstream connection: its credential source, its TLS material and its keep-alive pool.
//
// Security stance: the connection's own credential replaces whatever Authorization the client sent; TLS verification is
// always on (rejectUnauthorized is never false). When the CA or client certificate rotates (files re-read, exec plugin
// re-run), a new pool is built and the old one is drained: its in-flight requests (watches, exec) finish on the old
// sockets, idle ones are closed. Credential failures are 503 Status errors naming files and commands, not values.
import { createHash } from "node:crypto";
import type https from "node:https";
import type { Socket } from "node:net";
import { createSecureContext } from "node:tls";
import { dependencyUnavailable, internalError } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { configError, credentialError } from "./errors.ts";
import { ExecCredentialSource } from "./exec-plugin.ts";
import { H2Pool, UpstreamAgent } from "./h2-pool.ts";
import type { Material, OpenOptions, ResolvedConnection, Upstream } from "./types.ts";
import { WatchedFile } from "./watched-file.ts";

const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const DROPPED_HEADERS = new Set(["authorization", "proxy-authorization", "host"]);

interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

type PemReader = { read: () => Promise<string>; label: string; invalidate: () => void };

function reader(
  m: Material,
  opts: Required<Pick<OpenOptions, "now" | "fileCheckIntervalMs">>,
  onReload: (f: string) => void,
): PemReader {
  if ("pem" in m) return { read: async () => m.pem, label: m.origin, invalidate: () => {} };
  const f = new WatchedFile(m.file, { checkIntervalMs: opts.fileCheckIntervalMs, now: opts.now, onReload });
  return { read: () => f.read(), label: m.file, invalidate: () => f.invalidate() };
}

/** Closes a replaced pool's idle sockets now and its busy ones when their request ends. */
function drain(agent: UpstreamAgent): void {
  agent.on("free", (socket: Socket) => socket.destroy());
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  agent.h2?.drain();
}

function destroy(agent: UpstreamAgent): void {
  agent.destroy();
  agent.h2?.close();
}

export class OpenUpstream implements Upstream {
  readonly name: string;
  readonly url: URL;
  readonly impersonate: boolean;
  readonly #conn: ResolvedConnection;
  readonly #log: (e: object) => void;
  readonly #agentOptions: https.AgentOptions;
  readonly #basePath: string;
  readonly #ca: PemReader | undefined;
  readonly #cert: PemReader | undefined;
  readonly #key: PemReader | undefined;
  readonly #tokenFile: PemReader | undefined;
  readonly #exec: ExecCredentialSource | undefined;
  readonly #http2: boolean;
  #agent: UpstreamAgent;
  #fingerprint: string;
  #closed = false;
  #badFingerprint = "";
  #retired: UpstreamAgent[] = [];

  /** Use openUpstream(), which calls prime() before handing the connection out. */
  constructor(conn: ResolvedConnection, opts: OpenOptions) {
    this.name = conn.name;
    this.url = conn.server;
    this.impersonate = conn.impersonate;
    this.#conn = conn;
    this.#log = opts.log ?? (() => {});
    const now = opts.now ?? Date.now;
    const fileOpts = { now, fileCheckIntervalMs: opts.fileCheckIntervalMs ?? 1000 };
    const onReload = (file: string) =>
      this.#log({ severity: "info", event: "upstream.file.reloaded", cluster: this.name, file });
    if (conn.ca) this.#ca = reader(conn.ca, fileOpts, onReload);
    if (conn.auth.clientCert) this.#cert = reader(conn.auth.clientCert, fileOpts, onReload);
    if (conn.auth.clientKey) this.#key = reader(conn.auth.clientKey, fileOpts, onReload);
    if (conn.auth.tokenFile) this.#tokenFile = reader({ file: conn.auth.tokenFile }, fileOpts, onReload);
    if (conn.auth.exec) {
      this.#exec = new ExecCredentialSource(conn.name, conn.auth.exec, {
        env: opts.env ?? {},
        timeoutMs: opts.execTimeoutMs ?? 30_000,
        now,
        log: this.#log,
      });
    }
    this.#basePath = conn.server.pathname.replace(/\/+$/, "");
    this.#agentOptions = {
      keepAlive: true,
      // Watches and exec sessions each hold a socket for their lifetime, so the pool must be wide; idle ones are capped.
      maxSockets: opts.maxSockets ?? 512,
      maxFreeSockets: opts.maxFreeSockets ?? 32,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(conn.tlsServerName ? { servername: conn.tlsServerName } : {}),
    };
    this.#http2 = opts.http2 ?? true;
    this.#fingerprint = "";
    this.#agent = this.#newAgent({});
  }

  get agent(): https.Agent {
    return this.#agent;
  }

  /**
   * Reads every file once and checks the TLS material parses, so a bad connection fails at start-up. An exec plugin is
   * not run here (as in client-go, it runs on first use): a plugin that is briefly failing must not stop the gateway.
   */
  async prime(): Promise<void> {
    const material = await this.#material(false);
    try {
      createSecureContext(material);
    } catch (err) {
      throw configError(
        this.#conn.where,
        "TLS material",
        `unusable CA, certificate or key: ${(err as Error).message}`,
      );
    }
    if (!this.#exec) await this.credentialHeaders();
    destroy(this.#agent);
    this.#fingerprint = fingerprint(material);
    this.#agent = this.#newAgent(material);
  }

  async credentialHeaders(): Promise<Record<string, string>> {
    let token: string | undefined;
    let source: string;
    if (this.#exec) {
      token = (await this.#exec.get()).token;
      source = `the token from exec plugin ${this.#conn.auth.exec?.command}`;
    } else if (this.#tokenFile) {
      // As client-go: a token file wins over an inline token (the file is the one that rotates).
      token = await this.#readTokenFile();
      source = `the token in ${this.#tokenFile.label}`;
    } else {
      token = this.#conn.auth.token;
      source = `the token of ${this.#conn.where}`;
    }
    if (token === undefined) return {};
    // A stray newline or control character would be rejected by Node deep inside the forwarder (or, worse, split a
    // header); say which source is malformed instead.
    if (!TOKEN_CHARS.test(token))
      throw credentialError(this.name, `${source} contains characters not allowed in a header`);
    return { authorization: `Bearer ${token}` };
  }

  async requestOptions(
    method: string,
    pathAndQuery: string,
    headers: [string, string][],
  ): Promise<https.RequestOptions> {
    if (this.#closed)
      throw new StatusError(dependencyUnavailable(`cluster "${this.name}": connection closed`));
    if (!pathAndQuery.startsWith("/")) {
      throw new StatusError(internalError(`upstream path must start with "/" (cluster "${this.name}")`));
    }
    const [credential, agent] = await Promise.all([this.credentialHeaders(), this.#currentAgent()]);
    // With a header list Node adds no Host of its own, and the client's Host names the gateway: set the cluster's.
    const flat: string[] = ["host", this.url.host];
    for (const [k, v] of headers) if (!DROPPED_HEADERS.has(k.toLowerCase())) flat.push(k, v);
    for (const [k, v] of Object.entries(credential)) flat.push(k, v);
    return {
      protocol: "https:",
      hostname: this.url.hostname.startsWith("[") ? this.url.hostname.slice(1, -1) : this.url.hostname,
      port: this.url.port || 443,
      method,
      path: this.#basePath + pathAndQuery,
      // A flat list keeps repeated headers (Impersonate-Group) as separate lines, in order.
      headers: flat,
      agent,
      ...(this.#conn.tlsServerName ? { servername: this.#conn.tlsServerName } : {}),
    };
  }

  invalidate(): void {
    this.#exec?.invalidate();
    this.#tokenFile?.invalidate();
    this.#cert?.invalidate();
    this.#key?.invalidate();
  }

  close(): void {
    this.#closed = true;
    destroy(this.#agent);
    for (const a of this.#retired.splice(0)) destroy(a);
  }

  async #readTokenFile(): Promise<string> {
    const reader = this.#tokenFile!;
    try {
      return (await reader.read()).trim();
    } catch (err) {
      throw credentialError(this.name, (err as Error).message);
    }
  }

  async #material(withExec = true): Promise<TlsMaterial> {
    const read = async (r: PemReader | undefined) => {
      if (!r) return undefined;
      try {
        return await r.read();
      } catch (err) {
        throw credentialError(this.name, (err as Error).message);
      }
    };
    const [ca, cert, key] = await Promise.all([read(this.#ca), read(this.#cert), read(this.#key)]);
    const m: TlsMaterial = {};
    if (ca) m.ca = ca;
    if (cert && key) {
      m.cert = cert;
      m.key = key;
    } else if (this.#exec && withExec) {
      const cred = await this.#exec.get();
      if (cred.clientCertificatePem && cred.clientKeyPem) {
        m.cert = cred.clientCertificatePem;
        m.key = cred.clientKeyPem;
      }
    }
    return m;
  }

  async #currentAgent(): Promise<UpstreamAgent> {
    const material = await this.#material();
    const fp = fingerprint(material);
    if (fp === this.#fingerprint) return this.#agent;
    try {
      createSecureContext(material);
    } catch (err) {
      const message = `new TLS material is unusable: ${(err as Error).message}`;
      // Files are often rewritten one at a time (certificate, then key): until the pair matches again, keep the
      // pool built from the last good material (checked at open). Nothing weaker is ever used: at worst the
      // cluster refuses the old certificate with a 401 and the forwarder's invalidate() tries again.
      if (this.#badFingerprint !== fp)
        this.#log({ severity: "warn", event: "upstream.tls.rotation-deferred", cluster: this.name, message });
      this.#badFingerprint = fp;
      return this.#agent;
    }
    const old = this.#agent;
    this.#fingerprint = fp;
    this.#agent = this.#newAgent(material);
    drain(old);
    // Keep replaced pools only while they still carry requests, so close() can end those too.
    this.#retired = [...this.#retired.filter((a) => Object.keys(a.sockets).length > 0 || a.h2?.busy), old];
    this.#log({ severity: "info", event: "upstream.tls.rotated", cluster: this.name });
    return this.#agent;
  }

  /**
   * One SecureContext per set of TLS material, shared by every connection of the pool and its HTTP/2 sessions: with
   * ca/cert/key in the agent options Node would parse them again for each new connection (~20 KiB and a CA parse per
   * handshake).
   */
  #newAgent(material: TlsMaterial): UpstreamAgent {
    const secureContext = createSecureContext({ ...material, minVersion: "TLSv1.2" });
    const agent = new UpstreamAgent({ ...this.#agentOptions, secureContext });
    if (this.#http2) {
      agent.h2 = new H2Pool({
        url: this.url,
        secureContext,
        ...(this.#conn.tlsServerName ? { servername: this.#conn.tlsServerName } : {}),
      });
    }
    return agent;
  }
}

function fingerprint(m: TlsMaterial): string {
  return createHash("sha256")
    .update(`${m.ca ?? ""}\0${m.cert ?? ""}\0${m.key ?? ""}`)
    .digest("hex");
}
