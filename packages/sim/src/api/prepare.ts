// Checks and defaults applied to an object before it is written: the name rules, the namespace of the URL against
// the body, apiVersion/kind against the resource, and the few defaults kubectl and the controllers rely on.
//
// Failure stance: invalid input is refused with kube-apiserver's reason and message shape (422 Invalid with causes,
// 400 BadRequest for mismatches), before anything reaches the store.

import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { apiVersionOf } from "../registry.ts";
import { StatusError } from "../status.ts";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_TYPES = new Set(["namespaces", "services"]);

export function invalid(
  kind: string,
  group: string,
  name: string,
  field: string,
  message: string,
): StatusError {
  return StatusError.of(
    "Invalid",
    `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${field}: ${message}`,
    {
      name,
      group,
      kind,
      causes: [{ reason: "FieldValueInvalid", message, field }],
    },
  );
}

/** Name rules: a DNS-1123 label for namespaces and services, a subdomain otherwise (kube-apiserver's validators). */
export function nameProblem(type: ResourceType, name: string): string | undefined {
  if (LABEL_TYPES.has(type.resource)) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
    }
    return undefined;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
  }
  return undefined;
}

/** Checks the body of a create or update against the route and returns it as a KubeObject with metadata. */
export function checkObject(
  type: ResourceType,
  route: SimRequest,
  body: Record<string, unknown>,
): KubeObject {
  const expected = apiVersionOf(type);
  const apiVersion = body.apiVersion;
  const kind = body.kind;
  if (apiVersion !== undefined && apiVersion !== expected) {
    throw StatusError.of(
      "BadRequest",
      `the API version in the data (${String(apiVersion)}) does not match the expected API version (${expected})`,
    );
  }
  if (kind !== undefined && kind !== type.kind) {
    throw StatusError.of(
      "BadRequest",
      `the kind in the data (${String(kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  const metadata = body.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw StatusError.of("BadRequest", "metadata must be an object");
  }
  const obj = { ...body, apiVersion: expected, kind: type.kind, metadata: { ...metadata } } as KubeObject;
  const meta = obj.metadata;
  if (type.namespaced) {
    if (meta.namespace && route.namespace && meta.namespace !== route.namespace) {
      throw StatusError.of(
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    meta.namespace = route.namespace || meta.namespace;
    if (!meta.namespace) {
      throw invalid(type.kind, type.group, meta.name ?? "", "metadata.namespace", "Required value");
    }
  } else delete meta.namespace;
  if (route.name && meta.name && meta.name !== route.name) {
    throw StatusError.of(
      "BadRequest",
      `the name of the object (${meta.name}) does not match the name on the URL (${route.name})`,
    );
  }
  if (route.name && !meta.name) meta.name = route.name;
  if (!meta.name && !meta.generateName) {
    throw invalid(
      type.kind,
      type.group,
      "",
      "metadata.name",
      "Required value: name or generateName is required",
    );
  }
  if (meta.name) {
    const problem = nameProblem(type, meta.name);
    if (problem) throw invalid(type.kind, type.group, meta.name, "metadata.name", problem);
  }
  for (const [key, value] of Object.entries({ labels: meta.labels, annotations: meta.annotations })) {
    if (value === undefined || value === null) continue;
    if (typeof value !== "object" || Object.values(value).some((v) => typeof v !== "string")) {
      throw invalid(
        type.kind,
        type.group,
        meta.name ?? "",
        `metadata.${key}`,
        "Invalid value: values must be strings",
      );
    }
  }
  return obj;
}

/** The defaults kube-apiserver would fill in that clients and controllers read back. */
export function applyCreateDefaults(type: ResourceType, obj: KubeObject): void {
  obj.spec ??= {};
  const spec = obj.spec as Record<string, unknown>;
  switch (`${type.group}/${type.resource}`) {
    case "/namespaces":
      spec.finalizers ??= ["kubernetes"];
      obj.status = { phase: "Active" };
      break;
    case "/pods":
      obj.status = { phase: "Pending", ...(obj.status as object | undefined) };
      break;
    case "/services":
      spec.type ??= "ClusterIP";
      break;
    case "apps/deployments":
    case "apps/replicasets":
    case "apps/statefulsets":
      spec.replicas ??= 1;
      break;
    default:
      if (Object.keys(spec).length === 0) delete obj.spec;
  }
}

/** Fields a client may not set on create: the server assigns them. */
export function stripServerFields(obj: KubeObject): void {
  const meta = obj.metadata;
  delete meta.uid;
  delete meta.resourceVersion;
  delete meta.creationTimestamp;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.generation;
}
