// `airlock credential`: a kubectl exec credential plugin. Trades a long-lived token (AIRLOCK_TOKEN or --token-file)
// for a session credential valid for minutes (POST /airlock/v1/credentials/session) and prints an ExecCredential
// of the apiVersion kubectl asked for in KUBERNETES_EXEC_INFO (v1 or v1beta1; v1beta1 when absent).
//
// kubectl runs the plugin for every command, so the session is cached in $XDG_CACHE_HOME/airlock/ (or
// ~/.cache/airlock/), files 0600 in a 0700 directory, until one minute before it expires. The cache key covers the
// server, the long-lived token's hash, the reason and the delegation, so a different --reason gets its own session.
// The long-lived token is never printed or cached; only the short-lived one is.
//
// A reason per kubectl command (issue 21): kubectl passes its environment to the plugin, so
// `AIRLOCK_REASON="INC-42: roll back web" kubectl rollout undo deploy/web` gets a session bound to that reason (5
// minutes unless --ttl says otherwise; the next command with another reason gets another one). The reason is checked
// here as the gateway checks it (one printable line, at most 500 characters). When the kubeconfig's --reason and
// AIRLOCK_REASON are both set and differ, the plugin refuses: which one the audit should record would be a guess.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkJustification } from "../shared/justification.ts";
import { CLI_ERROR_USAGE, CliError, callAdminApi, parseDuration, resolveCa, runCli } from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage (as a kubectl exec plugin; see 'airlock kubeconfig --exec'):
  airlock credential [--server URL] [--ca FILE] [--token-file FILE] [--reason TEXT] [--on-behalf-of HUMAN]
                     [--ttl 15m] [--no-cache]

Prints an ExecCredential holding a short-lived Airlock session credential, traded for the long-lived token in
AIRLOCK_TOKEN or --token-file. The server and CA default to AIRLOCK_SERVER / AIRLOCK_CA, then to the cluster kubectl
passes in KUBERNETES_EXEC_INFO. --reason is recorded on every audit event of the session.

A reason for one kubectl command: AIRLOCK_REASON="INC-42: roll back web" kubectl rollout undo deploy/web
(the plugin reads AIRLOCK_REASON and presents a credential bound to that reason, valid 5 minutes unless --ttl).
`;

const OPTIONS = {
  server: { type: "string" },
  ca: { type: "string" },
  "token-file": { type: "string" },
  reason: { type: "string" },
  "on-behalf-of": { type: "string" },
  ttl: { type: "string" },
  "no-cache": { type: "boolean" },
  "cache-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";
/** A cached session is used until this long before it expires. */
export const CACHE_MARGIN_MS = 60_000;

type Env = Record<string, string | undefined>;

export interface ExecInfo {
  apiVersion: string;
  server?: string;
  caPem?: string;
}

/** What kubectl passed in KUBERNETES_EXEC_INFO. Pure. */
export function parseExecInfo(raw: string | undefined): ExecInfo {
  if (!raw) return { apiVersion: V1BETA1 };
  let info: {
    apiVersion?: unknown;
    spec?: { cluster?: { server?: unknown; "certificate-authority-data"?: unknown } };
  };
  try {
    info = JSON.parse(raw);
  } catch {
    throw new CliError(
      "KUBERNETES_EXEC_INFO is not JSON; is this run by kubectl? Run by hand, unset it and pass --server.",
    );
  }
  const apiVersion = info.apiVersion === V1 || info.apiVersion === V1BETA1 ? info.apiVersion : undefined;
  if (!apiVersion)
    throw new CliError(
      `unsupported ExecCredential apiVersion ${JSON.stringify(info.apiVersion)}; set the kubeconfig's exec apiVersion to client.authentication.k8s.io/v1 (or v1beta1)`,
    );
  const out: ExecInfo = { apiVersion };
  const cluster = info.spec?.cluster;
  if (typeof cluster?.server === "string") out.server = cluster.server;
  if (typeof cluster?.["certificate-authority-data"] === "string") {
    out.caPem = Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8");
  }
  return out;
}

/** The ExecCredential kubectl reads. Pure. */
export function execCredential(apiVersion: string, token: string, expiresAt: string): string {
  return `${JSON.stringify({ apiVersion, kind: "ExecCredential", status: { token, expirationTimestamp: expiresAt } })}\n`;
}

/** The gateway base URL of a cluster server URL: /k8s/<cluster> selects a cluster and is not part of the admin API. */
export function gatewayBase(server: string): string {
  const url = new URL(server);
  if (url.protocol !== "https:")
    throw new CliError(
      `the server must be an https:// URL (got "${server}"); pass --server https://… or set AIRLOCK_SERVER.`,
    );
  return `${url.origin}${url.pathname.replace(/\/k8s\/[^/]+\/?$/, "").replace(/\/+$/, "")}`;
}

function cacheDir(flag: string | undefined, env: Env): string {
  if (flag) return flag;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "airlock");
}

interface Cached {
  token: string;
  expiresAt: string;
}

function readCache(path: string, nowMs: number): Cached | undefined {
  try {
    const cached = JSON.parse(readFileSync(path, "utf8")) as Partial<Cached>;
    if (typeof cached.token !== "string" || typeof cached.expiresAt !== "string") return undefined;
    if (Date.parse(cached.expiresAt) - CACHE_MARGIN_MS <= nowMs) return undefined;
    return { token: cached.token, expiresAt: cached.expiresAt };
  } catch {
    return undefined;
  }
}

function writeCache(dir: string, path: string, value: Cached): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // A cache that cannot be written costs a round trip per kubectl command, nothing more.
  }
}

/** A credential bound to one command's reason lives this long (unless --ttl): it should not outlast the task. */
export const PER_COMMAND_TTL_MS = 5 * 60_000;

/**
 * The reason the session is asked for: --reason (from the kubeconfig) or AIRLOCK_REASON (this command), checked as
 * the gateway checks it; both set and different is refused. An empty AIRLOCK_REASON counts as unset. Pure.
 */
export function reasonOf(
  flag: string | undefined,
  envReason: string | undefined,
): { text?: string; perCommand: boolean } {
  const fromEnv = envReason === "" ? undefined : envReason;
  if (flag !== undefined && fromEnv !== undefined && flag !== fromEnv)
    throw new CliError(
      "AIRLOCK_REASON and the kubeconfig's --reason differ; the request must carry one reason: unset AIRLOCK_REASON, or remove --reason from the kubeconfig's exec args",
      CLI_ERROR_USAGE,
    );
  const text = fromEnv ?? flag;
  if (text === undefined) return { perCommand: false };
  const checked = checkJustification(text);
  if (!checked.ok)
    throw new CliError(
      `${fromEnv !== undefined ? "AIRLOCK_REASON" : "--reason"} is refused: ${checked.why}`,
      CLI_ERROR_USAGE,
    );
  return { text: checked.value, perCommand: fromEnv !== undefined && flag === undefined };
}

async function run(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length)
    throw new CliError(`credential takes no arguments. Run 'airlock credential --help'.`, CLI_ERROR_USAGE);
  const info = parseExecInfo(env.KUBERNETES_EXEC_INFO);
  const serverRaw = values.server ?? env.AIRLOCK_SERVER ?? info.server;
  if (!serverRaw)
    throw new CliError("no server: pass --server, set AIRLOCK_SERVER, or set provideClusterInfo: true");
  const server = gatewayBase(serverRaw);
  const caPem = resolveCa(values.ca, env) ?? info.caPem;
  let token = env.AIRLOCK_TOKEN;
  if (values["token-file"]) {
    try {
      token = readFileSync(values["token-file"], "utf8").trim();
    } catch (err) {
      throw new CliError(
        `cannot read --token-file ${values["token-file"]} (${(err as NodeJS.ErrnoException).code}); check the path in the kubeconfig's exec args`,
      );
    }
  }
  if (!token)
    throw new CliError(
      "no token: set AIRLOCK_TOKEN or pass --token-file with the identity's long-lived token",
    );
  let ttlMs = values.ttl === undefined ? undefined : parseDuration(values.ttl);
  if (values.ttl !== undefined && ttlMs === undefined)
    throw new CliError(`--ttl "${values.ttl}" is not a duration (15m, 1h)`, CLI_ERROR_USAGE);
  const reason = reasonOf(values.reason, env.AIRLOCK_REASON);
  if (reason.perCommand && ttlMs === undefined) ttlMs = PER_COMMAND_TTL_MS;

  const key = createHash("sha256")
    .update(
      JSON.stringify([
        server,
        createHash("sha256").update(token).digest("hex"),
        reason.text ?? "",
        values["on-behalf-of"] ?? "",
        ttlMs ?? 0,
      ]),
    )
    .digest("hex")
    .slice(0, 32);
  const dir = cacheDir(values["cache-dir"], env);
  const path = join(dir, `session-${key}.json`);
  const now = Date.now();
  const cached = values["no-cache"] ? undefined : readCache(path, now);
  if (cached) {
    process.stdout.write(execCredential(info.apiVersion, cached.token, cached.expiresAt));
    return 0;
  }
  const body: Record<string, unknown> = {};
  if (reason.text !== undefined) body.reason = reason.text;
  if (values["on-behalf-of"] !== undefined) body.onBehalfOf = values["on-behalf-of"];
  if (ttlMs !== undefined) body.ttlSeconds = Math.round(ttlMs / 1000);
  const session = (await callAdminApi(
    { server, token, caPem },
    "POST",
    "/airlock/v1/credentials/session",
    body,
  )) as Cached;
  if (!values["no-cache"]) writeCache(dir, path, { token: session.token, expiresAt: session.expiresAt });
  process.stdout.write(execCredential(info.apiVersion, session.token, session.expiresAt));
  return 0;
}

export const credentialCommand: Command = {
  summary: "kubectl exec credential plugin: a short-lived session credential for an identity",
  run: (args) => runCli("credential", () => run(args, process.env)),
};
