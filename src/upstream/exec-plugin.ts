// Exec credential plugins (kubeconfig users[].user.exec, e.g. `aws eks get-token`), run the way client-go runs them.
//
// The plugin gets KUBERNETES_EXEC_INFO and no stdin (the gateway is never interactive), prints an ExecCredential, and
// its answer is cached until shortly before `expirationTimestamp`. One run is shared by all requests waiting for it.
// Fail closed: a plugin that fails, times out or prints something unexpected gives an error naming the command and
// its (redacted, truncated) stderr — never the token or key it may have printed.
import { spawn } from "node:child_process";
import { credentialError, redact } from "./errors.ts";
import type { ExecConfig } from "./types.ts";

export interface ExecCredential {
  token?: string;
  clientCertificatePem?: string;
  clientKeyPem?: string;
  /** Epoch ms; undefined = valid for the life of the process (client-go semantics). */
  expiresAt?: number;
}

const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR_SHOWN = 1024;
/** Refresh this long before expiry (or at half the lifetime, if that is shorter). */
const REFRESH_MARGIN_MS = 60_000;
/** An invalidate() arriving this soon after a fresh run is the same wave of 401s, not a new problem. */
const INVALIDATE_COALESCE_MS = 2_000;

/** Parses a plugin's stdout. Errors describe the shape, never the content. */
export function parseExecCredential(stdout: string, expectedApiVersion: string): ExecCredential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error("did not print a JSON ExecCredential on stdout");
  }
  if (typeof doc !== "object" || doc === null) throw new Error("did not print a JSON object");
  const d = doc as { kind?: unknown; apiVersion?: unknown; status?: unknown };
  if (d.kind !== "ExecCredential")
    throw new Error(`printed kind ${JSON.stringify(d.kind)}, not ExecCredential`);
  if (d.apiVersion !== expectedApiVersion) {
    throw new Error(
      `is configured to use API version ${expectedApiVersion}, plugin returned version ${JSON.stringify(d.apiVersion)}`,
    );
  }
  if (typeof d.status !== "object" || d.status === null)
    throw new Error("printed an ExecCredential without status");
  const s = d.status as Record<string, unknown>;
  const str = (k: string) => (typeof s[k] === "string" && s[k] !== "" ? (s[k] as string) : undefined);
  const cred: ExecCredential = {};
  const token = str("token");
  const cert = str("clientCertificateData");
  const key = str("clientKeyData");
  if (token) cred.token = token;
  if (!!cert !== !!key) throw new Error("returned only one of clientCertificateData and clientKeyData");
  if (cert && key) {
    cred.clientCertificatePem = cert;
    cred.clientKeyPem = key;
  }
  if (!token && !cert) throw new Error("returned neither a token nor a client certificate and key");
  const exp = s.expirationTimestamp;
  if (exp !== undefined && exp !== null) {
    const t = typeof exp === "string" ? Date.parse(exp) : Number.NaN;
    if (Number.isNaN(t)) throw new Error("returned an expirationTimestamp that is not RFC 3339");
    cred.expiresAt = t;
  }
  return cred;
}

/** When a credential fetched at `fetchedAt` should be fetched again (Infinity = never). */
export function refreshAt(fetchedAt: number, expiresAt: number | undefined): number {
  if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
  const lifetime = expiresAt - fetchedAt;
  return expiresAt - Math.min(REFRESH_MARGIN_MS, Math.max(0, lifetime / 2));
}

/** The KUBERNETES_EXEC_INFO value client-go sets for a non-interactive run. */
export function execInfo(config: ExecConfig): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (config.provideClusterInfo) spec.cluster = { ...config.cluster, config: config.cluster.config ?? null };
  return JSON.stringify({ kind: "ExecCredential", apiVersion: config.apiVersion, spec });
}

export interface ExecRunOptions {
  env: Record<string, string | undefined>;
  timeoutMs: number;
}

/** Runs the plugin once and returns its stdout; rejects with a message naming the command and its stderr. */
export function runExecPlugin(config: ExecConfig, opts: ExecRunOptions): Promise<string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
  for (const { name, value } of config.env) env[name] = value;
  env.KUBERNETES_EXEC_INFO = execInfo(config);
  return new Promise((resolve, reject) => {
    const child = spawn(config.command, config.args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = "";
    let timedOut = false;
    let tooLarge = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      outLen += chunk.length;
      if (outLen > MAX_STDOUT) {
        tooLarge = true;
        child.kill("SIGKILL");
      } else out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString("utf8")).slice(-4 * MAX_STDERR_SHOWN);
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot run exec plugin ${config.command}: ${e.code ?? e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const shownErr = redact(err.trim(), [stdout]).slice(-MAX_STDERR_SHOWN);
      const tail = shownErr ? `; stderr: ${shownErr}` : "";
      if (timedOut)
        reject(new Error(`exec plugin ${config.command} timed out after ${opts.timeoutMs} ms${tail}`));
      else if (tooLarge)
        reject(new Error(`exec plugin ${config.command} printed more than ${MAX_STDOUT} bytes`));
      else if (code !== 0) {
        reject(new Error(`exec plugin ${config.command} failed (${signal ?? `exit code ${code}`})${tail}`));
      } else resolve(stdout);
    });
  });
}

/** A cached, single-flight source of ExecCredentials for one upstream. */
export class ExecCredentialSource {
  readonly #config: ExecConfig;
  readonly #cluster: string;
  readonly #run: () => Promise<string>;
  readonly #now: () => number;
  readonly #log: (e: object) => void;
  #cached: { cred: ExecCredential; fetchedAt: number; refreshAt: number } | undefined;
  #inflight: Promise<ExecCredential> | undefined;
  /** Kept only to scrub them from a later failure's stderr (a plugin may echo its previous answer). */
  #lastSecrets: string[] = [];

  constructor(
    cluster: string,
    config: ExecConfig,
    opts: ExecRunOptions & { now: () => number; log: (e: object) => void; run?: () => Promise<string> },
  ) {
    this.#cluster = cluster;
    this.#config = config;
    this.#now = opts.now;
    this.#log = opts.log;
    this.#run = opts.run ?? (() => runExecPlugin(config, opts));
  }

  get(): Promise<ExecCredential> {
    const c = this.#cached;
    if (c && this.#now() < c.refreshAt) return Promise.resolve(c.cred);
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Drops the cached credential unless a run is in flight or has just finished (same wave of 401s). */
  invalidate(): void {
    if (this.#inflight) return;
    const c = this.#cached;
    if (c && this.#now() - c.fetchedAt < INVALIDATE_COALESCE_MS) return;
    this.#cached = undefined;
  }

  async #fetch(): Promise<ExecCredential> {
    const started = this.#now();
    this.#log({
      severity: "debug",
      event: "upstream.exec.run",
      cluster: this.#cluster,
      command: this.#config.command,
    });
    let cred: ExecCredential;
    try {
      cred = parseExecCredential(await this.#run(), this.#config.apiVersion);
    } catch (err) {
      const msg = redact((err as Error).message, this.#lastSecrets);
      const text =
        msg.startsWith("exec plugin") || msg.startsWith("cannot run")
          ? msg
          : `exec plugin ${this.#config.command} ${msg}`;
      this.#log({
        severity: "warn",
        event: "upstream.exec.failed",
        cluster: this.#cluster,
        command: this.#config.command,
        error: text,
      });
      throw credentialError(this.#cluster, text);
    }
    const fetchedAt = this.#now();
    this.#lastSecrets = [cred.token, cred.clientKeyPem].filter((x): x is string => !!x);
    this.#cached = { cred, fetchedAt, refreshAt: refreshAt(fetchedAt, cred.expiresAt) };
    this.#log({
      severity: "info",
      event: "upstream.exec.ok",
      cluster: this.#cluster,
      command: this.#config.command,
      durationMs: fetchedAt - started,
      expiresAt: cred.expiresAt === undefined ? null : new Date(cred.expiresAt).toISOString(),
      kind: cred.token ? "token" : "client-certificate",
    });
    return cred;
  }
}
