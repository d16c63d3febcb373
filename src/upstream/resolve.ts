// Turns each configured connection kind (kubeconfig, server URL, in-cluster) into one ResolvedConnection.
//
// Refuses what would weaken the connection rather than ignoring it: plain http, insecureSkipTlsVerify, two sources for
// the same thing, no credential at all. Errors name the cluster and field; secret values never appear in them.
import { readFile } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { configError } from "./errors.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import type { ConnectionSpec, Material, ResolvedAuth, ResolvedConnection } from "./types.ts";

export const IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** PEM text, or base64 of PEM text; undefined if neither. */
export function decodePemOrBase64(data: string): string | undefined {
  if (data.includes("-----BEGIN")) return data;
  const decoded = Buffer.from(data, "base64").toString("utf8");
  return decoded.includes("-----BEGIN") ? decoded : undefined;
}

function httpsUrl(raw: string, where: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(where, field, "not a URL");
  }
  if (url.protocol !== "https:") {
    throw configError(where, field, "must be https: the upstream credential is never sent in clear text");
  }
  if (url.search || url.hash || url.username || url.password) {
    throw configError(where, field, "must not carry a query, fragment or user info");
  }
  return url;
}

export async function resolveConnection(
  spec: ConnectionSpec,
  env: Record<string, string | undefined>,
  warn: (message: string) => void,
): Promise<ResolvedConnection> {
  const impersonate = spec.impersonate ?? true;
  const where = `cluster "${spec.name}"`;

  if ("kubeconfig" in spec) {
    const file = spec.kubeconfig.path;
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw configError(
        where,
        "kubeconfig.path",
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    const { connection, warnings } = parseKubeconfig(text, file, spec.kubeconfig.context);
    for (const w of warnings) warn(w);
    return { ...connection, name: spec.name, impersonate };
  }

  if ("server" in spec) {
    if ((spec.insecureSkipTlsVerify as boolean | undefined) === true) {
      throw configError(
        where,
        "insecureSkipTlsVerify",
        "refused: the gateway always verifies the cluster's certificate, or anyone on the path could read the " +
          "upstream credential and every response (give caFile or caData instead)",
      );
    }
    const server = httpsUrl(spec.server, where, "server");
    if (spec.token && spec.tokenFile) throw configError(where, "token", "give token or tokenFile, not both");
    if (spec.caFile && spec.caData) throw configError(where, "caData", "give caFile or caData, not both");
    if (!!spec.clientCertFile !== !!spec.clientKeyFile) {
      throw configError(where, "clientCertFile", "clientCertFile and clientKeyFile go together");
    }
    const auth: ResolvedAuth = {};
    if (spec.token) auth.token = spec.token;
    if (spec.tokenFile) auth.tokenFile = spec.tokenFile;
    if (spec.clientCertFile && spec.clientKeyFile) {
      auth.clientCert = { file: spec.clientCertFile };
      auth.clientKey = { file: spec.clientKeyFile };
    }
    if (!auth.token && !auth.tokenFile && !auth.clientCert) {
      throw configError(
        where,
        "token",
        "no credential (token, tokenFile or clientCertFile); the gateway never connects anonymously",
      );
    }
    let ca: Material | undefined;
    if (spec.caFile) ca = { file: spec.caFile };
    if (spec.caData) {
      const pem = decodePemOrBase64(spec.caData);
      if (!pem) throw configError(where, "caData", "neither PEM nor base64 of PEM");
      ca = { pem, origin: `${where}: caData` };
    }
    return { name: spec.name, where, server, ...(ca ? { ca } : {}), auth, impersonate };
  }

  if ("eks" in spec) {
    // The credential is minted per request by eks.ts; here only the endpoint and its CA.
    const e = spec.eks;
    const server = httpsUrl(e.server, where, "eks.server");
    if (e.caFile && e.caData) throw configError(where, "eks.caData", "give caFile or caData, not both");
    let ca: Material | undefined;
    if (e.caFile) ca = { file: e.caFile };
    if (e.caData) {
      const pem = decodePemOrBase64(e.caData);
      if (!pem) throw configError(where, "eks.caData", "neither PEM nor base64 of PEM");
      ca = { pem, origin: `${where}: eks.caData` };
    }
    return { name: spec.name, where, server, ...(ca ? { ca } : {}), auth: {}, impersonate };
  }

  const ic = spec.inCluster;
  const host = ic.host ?? env.KUBERNETES_SERVICE_HOST;
  const port = ic.port ?? env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) {
    throw configError(
      where,
      "inCluster.host",
      "not given and KUBERNETES_SERVICE_HOST is not set (is the gateway running in a pod?)",
    );
  }
  if (!/^[0-9]{1,5}$/.test(port)) throw configError(where, "inCluster.port", "not a port number");
  const server = httpsUrl(`https://${isIPv6(host) ? `[${host}]` : host}:${port}`, where, "inCluster.host");
  return {
    name: spec.name,
    where,
    server,
    ca: { file: ic.caFile ?? `${IN_CLUSTER_DIR}/ca.crt` },
    auth: { tokenFile: ic.tokenFile ?? `${IN_CLUSTER_DIR}/token` },
    impersonate,
  };
}
