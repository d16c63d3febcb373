// Reads a kubeconfig (the file kubectl uses) into a ResolvedConnection: the chosen context's cluster and user.
//
// Pure: text in, connection out; files named in the kubeconfig are resolved against its folder but read later.
// Refusals are deliberate and each says why: basic auth and auth-provider (removed or unsafe), insecure TLS, proxies,
// and impersonation in the kubeconfig (the gateway sets Impersonate-* itself; a second layer would hide the caller).
// Errors name the file and the field, never a value.
import { dirname, isAbsolute, resolve, sep } from "node:path";
import { parse } from "yaml";
import { configError } from "./errors.ts";
import type { ExecConfig, Material, ResolvedAuth, ResolvedConnection } from "./types.ts";

type Obj = Record<string, unknown>;

const EXEC_VERSIONS = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"] as const;
const EXEC_EXTENSION = "client.authentication.k8s.io/exec";

export interface KubeconfigResult {
  connection: Omit<ResolvedConnection, "name" | "impersonate">;
  /** Fields that were ignored, for the caller to log. */
  warnings: string[];
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses kubeconfig text. `file` is used to resolve relative paths and in error messages. */
export function parseKubeconfig(text: string, file: string, contextName?: string): KubeconfigResult {
  const where = `kubeconfig ${file}`;
  const fail = (field: string, message: string) => configError(where, field, message);
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw fail("(file)", `not valid YAML: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw fail("(file)", "not a kubeconfig (expected a mapping)");
  const dir = dirname(file);
  const path = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const warnings: string[] = [];

  const chosen = contextName ?? doc["current-context"];
  if (typeof chosen !== "string" || chosen === "") {
    throw fail("current-context", "no context given and the kubeconfig has no current-context");
  }
  const ctx = named(doc, "contexts", "context", chosen, fail);
  const cField = `contexts[${chosen}].context`;
  if (typeof ctx.cluster !== "string") throw fail(`${cField}.cluster`, "missing");
  if (typeof ctx.user !== "string") throw fail(`${cField}.user`, "missing");
  const cluster = named(doc, "clusters", "cluster", ctx.cluster, fail);
  const user = named(doc, "users", "user", ctx.user, fail);

  const cf = `clusters[${ctx.cluster}].cluster`;
  if (typeof cluster.server !== "string") throw fail(`${cf}.server`, "missing");
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw fail(`${cf}.server`, "not a URL");
  }
  if (server.protocol !== "https:") {
    throw fail(`${cf}.server`, "must be https: the upstream credential is never sent in clear text");
  }
  if (cluster["insecure-skip-tls-verify"] === true) {
    throw fail(
      `${cf}.insecure-skip-tls-verify`,
      "refused: the gateway always verifies the cluster's certificate (give certificate-authority instead)",
    );
  }
  if (cluster["proxy-url"] !== undefined) {
    throw fail(
      `${cf}.proxy-url`,
      "refused: the gateway connects to the cluster directly and cannot use a proxy",
    );
  }
  if (cluster["disable-compression"] !== undefined)
    warnings.push(`${where}: ${cf}.disable-compression ignored`);
  if (ctx.namespace !== undefined)
    warnings.push(`${where}: ${cField}.namespace ignored (the client chooses)`);

  const ca = material(cluster, "certificate-authority", `${where}: ${cf}`, path, fail, `${cf}.`);
  const tlsServerName = optString(cluster["tls-server-name"], `${cf}.tls-server-name`, fail);

  const uf = `users[${ctx.user}].user`;
  const auth = parseUser(user, uf, where, path, fail, {
    server: cluster.server,
    ...(tlsServerName ? { "tls-server-name": tlsServerName } : {}),
    ...caDataForExec(cluster),
    ...execExtension(cluster),
  });
  return {
    connection: {
      where: `${where} context ${chosen}`,
      server,
      ...(tlsServerName ? { tlsServerName } : {}),
      ...(ca ? { ca } : {}),
      auth,
    },
    warnings,
  };
}

type Fail = (field: string, message: string) => Error;

function named(doc: Obj, list: string, key: string, name: string, fail: Fail): Obj {
  const items = doc[list];
  if (items !== undefined && !Array.isArray(items)) throw fail(list, "must be a list");
  const hit = (items ?? []).find((item: unknown) => isObj(item) && item.name === name);
  if (!hit) throw fail(list, `no ${key} named "${name}"`);
  const inner = (hit as Obj)[key];
  if (!isObj(inner)) throw fail(`${list}[${name}].${key}`, "missing or not a mapping");
  return inner;
}

function optString(v: unknown, field: string, fail: Fail): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw fail(field, "must be a string");
  return v;
}

/** Reads `<key>` (a file) or `<key>-data` (base64 PEM) from a kubeconfig mapping; -data wins, as in client-go. */
function material(
  obj: Obj,
  key: string,
  origin: string,
  path: (p: string) => string,
  fail: Fail,
  prefix: string,
): Material | undefined {
  const data = optString(obj[`${key}-data`], `${prefix}${key}-data`, fail);
  if (data) {
    const pem = Buffer.from(data, "base64").toString("utf8");
    if (!pem.includes("-----BEGIN")) throw fail(`${prefix}${key}-data`, "is not base64 of a PEM document");
    return { pem, origin: `${origin}.${key}-data` };
  }
  const file = optString(obj[key], `${prefix}${key}`, fail);
  return file ? { file: path(file) } : undefined;
}

function caDataForExec(cluster: Obj): { "certificate-authority-data"?: string } {
  const data = cluster["certificate-authority-data"];
  return typeof data === "string" && data ? { "certificate-authority-data": data } : {};
}

function execExtension(cluster: Obj): { config?: unknown } {
  const exts = cluster.extensions;
  if (!Array.isArray(exts)) return {};
  const hit = exts.find((e: unknown) => isObj(e) && e.name === EXEC_EXTENSION) as Obj | undefined;
  return hit && hit.extension !== undefined ? { config: hit.extension } : {};
}

function parseUser(
  user: Obj,
  uf: string,
  where: string,
  path: (p: string) => string,
  fail: Fail,
  execCluster: ExecConfig["cluster"],
): ResolvedAuth {
  if (user.username !== undefined || user.password !== undefined) {
    throw fail(
      `${uf}.username`,
      "refused: basic authentication is not supported (kube-apiserver removed it)",
    );
  }
  if (user["auth-provider"] !== undefined) {
    throw fail(
      `${uf}.auth-provider`,
      "refused: auth-provider plugins were removed from client-go; use an exec plugin (users[].user.exec) instead",
    );
  }
  for (const key of ["as", "as-uid", "as-groups", "as-user-extra"]) {
    if (user[key] !== undefined) {
      throw fail(`${uf}.${key}`, "refused: the gateway sets impersonation itself, per caller");
    }
  }
  const auth: ResolvedAuth = {};
  const token = optString(user.token, `${uf}.token`, fail);
  if (token) auth.token = token;
  const tokenFile = optString(user.tokenFile, `${uf}.tokenFile`, fail);
  if (tokenFile) auth.tokenFile = path(tokenFile);
  const cert = material(user, "client-certificate", `${where}: ${uf}`, path, fail, `${uf}.`);
  const key = material(user, "client-key", `${where}: ${uf}`, path, fail, `${uf}.`);
  if (cert && !key) throw fail(`${uf}.client-key`, "missing (client-certificate is set)");
  if (key && !cert) throw fail(`${uf}.client-certificate`, "missing (client-key is set)");
  if (cert && key) {
    auth.clientCert = cert;
    auth.clientKey = key;
  }
  if (user.exec !== undefined) {
    if (token || tokenFile || cert) {
      throw fail(`${uf}.exec`, "cannot be combined with token, tokenFile or a client certificate: use one");
    }
    auth.exec = parseExec(user.exec, `${uf}.exec`, path, fail, execCluster);
  }
  if (!auth.token && !auth.tokenFile && !auth.clientCert && !auth.exec) {
    throw fail(
      uf,
      "has no credential (token, tokenFile, client-certificate or exec); the gateway never connects anonymously",
    );
  }
  return auth;
}

function parseExec(
  raw: unknown,
  ef: string,
  path: (p: string) => string,
  fail: Fail,
  cluster: ExecConfig["cluster"],
): ExecConfig {
  if (!isObj(raw)) throw fail(ef, "must be a mapping");
  const apiVersion = raw.apiVersion;
  if (!EXEC_VERSIONS.includes(apiVersion as ExecConfig["apiVersion"])) {
    throw fail(`${ef}.apiVersion`, `must be one of ${EXEC_VERSIONS.join(", ")}`);
  }
  const command = optString(raw.command, `${ef}.command`, fail);
  if (!command) throw fail(`${ef}.command`, "missing");
  // As client-go does: a relative command with a path separator is relative to the kubeconfig; a bare name uses PATH.
  const resolvedCommand = !isAbsolute(command) && command.includes(sep) ? path(command) : command;
  const args = raw.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw fail(`${ef}.args`, "must be a list of strings");
  }
  const envRaw = raw.env ?? [];
  if (!Array.isArray(envRaw)) throw fail(`${ef}.env`, "must be a list of {name, value}");
  const env = envRaw.map((e: unknown, i: number) => {
    if (!isObj(e) || typeof e.name !== "string" || typeof e.value !== "string") {
      throw fail(`${ef}.env[${i}]`, "must be {name: string, value: string}");
    }
    return { name: e.name, value: e.value };
  });
  const mode = raw.interactiveMode;
  if (mode === undefined && apiVersion === "client.authentication.k8s.io/v1") {
    throw fail(`${ef}.interactiveMode`, "required for client.authentication.k8s.io/v1 (use Never)");
  }
  if (mode !== undefined && mode !== "Never" && mode !== "IfAvailable" && mode !== "Always") {
    throw fail(`${ef}.interactiveMode`, "must be Never, IfAvailable or Always");
  }
  if (mode === "Always") {
    throw fail(
      `${ef}.interactiveMode`,
      "refused: Always needs a terminal, and the gateway is a server (use Never)",
    );
  }
  return {
    apiVersion: apiVersion as ExecConfig["apiVersion"],
    command: resolvedCommand,
    args: args as string[],
    env,
    provideClusterInfo: raw.provideClusterInfo === true,
    cluster,
  };
}
