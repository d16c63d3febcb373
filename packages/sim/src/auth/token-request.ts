// `serviceaccounts/<name>/token` (TokenRequest): issues a service-account JWT, optionally bound to a Pod or Secret.
//
// Like kube-apiserver: an unknown service account is 404, a bound object must exist (and match its uid when one is
// given), the lifetime defaults to one hour and must be at least ten minutes. The token goes into the response
// only; it is never logged.

import type { KubeObject, ObjectStore, ResourceRegistry, SimRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import type { TokenAuthenticator } from "./authenticator.ts";
import type { ObjectRefClaim } from "./sa-tokens.ts";

export interface TokenRequestDeps {
  store: ObjectStore;
  registry: ResourceRegistry;
  tokens: TokenAuthenticator;
}

const DEFAULT_SECONDS = 3600;
const MIN_SECONDS = 600;
const MAX_SECONDS = 2 ** 32;

function invalid(name: string, field: string, value: unknown, message: string): StatusError {
  const detail = `${field}: Invalid value: ${JSON.stringify(value)}: ${message}`;
  return StatusError.of(
    "Invalid",
    `TokenRequest.authentication.k8s.io ${JSON.stringify(name)} is invalid: ${detail}`,
    {
      name,
      group: "authentication.k8s.io",
      kind: "TokenRequest",
      causes: [
        { type: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${message}`, field },
      ],
    },
  );
}

function notFound(resource: string, name: string): StatusError {
  return StatusError.of("NotFound", `${resource} ${JSON.stringify(name)} not found`, {
    name,
    kind: resource,
  });
}

function lookup(
  deps: TokenRequestDeps,
  resource: string,
  namespace: string,
  name: string,
): KubeObject | undefined {
  const type = deps.registry.find("", "v1", resource);
  return type ? deps.store.get(type, namespace, name) : undefined;
}

export function handleTokenRequest(deps: TokenRequestDeps, route: SimRequest, body: KubeObject): KubeObject {
  const { namespace, name } = route;
  const sa = lookup(deps, "serviceaccounts", namespace, name);
  if (!sa?.metadata.uid) throw notFound("serviceaccounts", name);
  const spec = (body.spec ?? {}) as Record<string, unknown>;
  const seconds = spec.expirationSeconds === undefined ? DEFAULT_SECONDS : spec.expirationSeconds;
  if (typeof seconds !== "number" || !Number.isInteger(seconds)) {
    throw invalid(name, "spec.expirationSeconds", seconds, "must be an integer");
  }
  if (seconds < MIN_SECONDS) {
    throw invalid(name, "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes");
  }
  if (seconds > MAX_SECONDS) {
    throw invalid(
      name,
      "spec.expirationSeconds",
      seconds,
      "may not specify a duration larger than 2^32 seconds",
    );
  }
  const asked = Array.isArray(spec.audiences)
    ? spec.audiences.filter((a): a is string => typeof a === "string")
    : [];
  const audiences = asked.length > 0 ? asked : [deps.tokens.signer.issuer()];

  let pod: ObjectRefClaim | undefined;
  let secret: ObjectRefClaim | undefined;
  const ref = spec.boundObjectRef as { kind?: string; name?: string; uid?: string } | undefined | null;
  if (ref) {
    const resource = ref.kind === "Pod" ? "pods" : ref.kind === "Secret" ? "secrets" : undefined;
    if (!resource) {
      throw invalid(name, "spec.boundObjectRef.kind", ref.kind ?? "", 'supported values: "Pod", "Secret"');
    }
    const bound = lookup(deps, resource, namespace, ref.name ?? "");
    if (!bound?.metadata.uid) throw notFound(resource, ref.name ?? "");
    if (ref.uid && ref.uid !== bound.metadata.uid) {
      throw StatusError.of(
        "Conflict",
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    const claim = { name: ref.name ?? "", uid: bound.metadata.uid };
    if (resource === "pods") pod = claim;
    else secret = claim;
  }

  const now = deps.tokens.nowSeconds();
  const { token, claims } = deps.tokens.signer.issue({
    namespace,
    serviceAccount: { name, uid: sa.metadata.uid },
    audiences,
    expirationSeconds: seconds,
    ...(pod ? { pod } : {}),
    ...(secret ? { secret } : {}),
    now,
  });
  const outSpec: Record<string, unknown> = { audiences, expirationSeconds: seconds };
  if (ref) outSpec.boundObjectRef = ref;
  return {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: {
      name,
      namespace,
      creationTimestamp: new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    },
    spec: outSpec,
    status: {
      token,
      expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    },
  };
}
