// Errors of the upstream layer, as Kubernetes Status errors built by the refusal catalogue (src/kube/refusals.ts).
//
// Configuration problems name the file or cluster and the field, never the value (it may be a secret). Credential
// failures at request time are 503 ServiceUnavailable: the cluster cannot be reached with a valid credential right now,
// which is the gateway's problem, not the client's.
import { dependencyUnavailable, internalError } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";

/** A connection that cannot be used as configured (at start-up). */
export function configError(where: string, field: string, message: string): StatusError {
  return new StatusError(internalError(`${where}: ${field}: ${message}`));
}

/** A credential that could not be obtained for a request (plugin failed, token file unreadable). */
export function credentialError(cluster: string, message: string): StatusError {
  return new StatusError(
    dependencyUnavailable(`cluster "${cluster}": upstream credential unavailable: ${message}`),
  );
}

/** Removes what looks like a bearer token from text we did not write (plugin stderr), and any known secret. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/k8s-aws-v1\.[A-Za-z0-9_-]+/g, "k8s-aws-v1.<redacted>");
  out = out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, "$1<redacted>");
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join("<redacted>");
  return out;
}
