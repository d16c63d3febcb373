// Upstream connections: how the gateway reaches each cluster with the connection's own credential.
//
// openUpstream() turns a configured connection (kubeconfig + context, server URL + token/cert, in-cluster service
// account, or an EKS cluster reached through an assumed IAM role) into an Upstream whose requestOptions() the forwarder passes to https.request. The forwarder adds the
// Impersonate-* headers; this module adds only the credential, and the forwarder calls invalidate() after a 401.
// See docs/connections.md.
import { checkEksSpec, EksUpstream } from "./eks.ts";
import { configError } from "./errors.ts";
import { resolveConnection } from "./resolve.ts";
import type { ConnectionSpec, OpenOptions, Upstream } from "./types.ts";
import { OpenUpstream } from "./upstream.ts";

export { checkEksSpec } from "./eks.ts";
export { sessionNameFor } from "./eks-session.ts";
export { parseExecCredential, refreshAt } from "./exec-plugin.ts";
export { parseKubeconfig } from "./kubeconfig.ts";
export { UpstreamRegistry } from "./registry.ts";
export { NoAgentError, TunnelUpstream } from "./tunnel.ts";
export type { ConnectionSpec, OpenOptions, Upstream } from "./types.ts";

/** Opens one connection: resolves it, reads and checks its files. Throws a StatusError naming the field on failure. */
export async function openUpstream(spec: ConnectionSpec, opts: OpenOptions = {}): Promise<Upstream> {
  const log = opts.log ?? (() => {});
  const conn = await resolveConnection(spec, opts.env ?? {}, (message) =>
    log({ severity: "warn", event: "upstream.config.warning", cluster: spec.name, message }),
  );
  if ("eks" in spec) {
    const problem = checkEksSpec(spec.eks)[0];
    if (problem) throw configError(conn.where, problem[0], problem[1]);
  }
  const upstream = "eks" in spec ? new EksUpstream(conn, spec.eks, opts) : new OpenUpstream(conn, opts);
  try {
    await upstream.prime();
  } catch (err) {
    upstream.close();
    throw err;
  }
  log({
    severity: "info",
    event: "upstream.open",
    cluster: conn.name,
    server: conn.server.origin,
    via: conn.where,
  });
  return upstream;
}

/** Opens every connection, or none: if one fails, those already open are closed and the error is thrown. */
export async function openUpstreams(specs: ConnectionSpec[], opts: OpenOptions = {}): Promise<Upstream[]> {
  const results = await Promise.allSettled(specs.map((s) => openUpstream(s, opts)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    for (const r of results) if (r.status === "fulfilled") r.value.close();
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<Upstream>).value);
}
