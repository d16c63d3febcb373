// A minimal OpenAPI v3 for the served types: the /openapi/v3 index and one document per group-version. It carries
// what kubectl reads — each resource's PATCH operation with `x-kubernetes-group-version-kind`, the `fieldValidation`
// parameter and the accepted patch types (so `apply` validates server-side and picks strategic merge only for
// built-in kinds from its compiled-in types) — and an open schema per kind so `explain` and `diff` find the kind.
//
// Failure stance: schemas are open (any field accepted); validation is the server's job, not the document's.
import { createHash } from "node:crypto";
import type { ResourceType } from "./contracts.ts";
import { apiVersionOf } from "./registry.ts";

const BUILTIN_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "rbac.authorization.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "apiextensions.k8s.io",
]);

/** The OpenAPI path prefix of a group-version: "api/v1" or "apis/apps/v1". */
export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function schemaName(t: ResourceType): string {
  const g = t.group ? t.group.split(".").reverse().join(".") : "core";
  return BUILTIN_GROUPS.has(t.group)
    ? `io.k8s.api.${g}.${t.version}.${t.kind}`
    : `${g}.${t.version}.${t.kind}`;
}

function operationsFor(t: ResourceType) {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const patchTypes = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
    // Strategic merge is accepted but not advertised: kubectl would then compute the patch from these open schemas
    // and warn that it cannot find fields; unadvertised, it uses its compiled-in types (or merge patch for CRDs).
  ];
  const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
  const param = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  const response = { "200": { description: "OK", content: { "application/json": { schema: ref } } } };
  return {
    get: {
      operationId: `read${t.kind}`,
      "x-kubernetes-action": "get",
      "x-kubernetes-group-version-kind": gvk,
      responses: response,
    },
    put: {
      operationId: `replace${t.kind}`,
      "x-kubernetes-action": "put",
      "x-kubernetes-group-version-kind": gvk,
      parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation")],
      requestBody: { content: { "*/*": { schema: ref } } },
      responses: response,
    },
    patch: {
      operationId: `patch${t.kind}`,
      "x-kubernetes-action": "patch",
      "x-kubernetes-group-version-kind": gvk,
      parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation"), param("force")],
      requestBody: {
        content: Object.fromEntries(patchTypes.map((p) => [p, { schema: { type: "object" } }])),
      },
      responses: response,
    },
    delete: {
      operationId: `delete${t.kind}`,
      "x-kubernetes-action": "delete",
      "x-kubernetes-group-version-kind": gvk,
      responses: response,
    },
  };
}

// Field descriptions of the common kinds, for `kubectl explain` and Airlock's k8s_explain (issue 20 §4). The
// schemas stay open: these add descriptions and types only, never required fields or closed objects.
type Field = { type: string; description: string; properties?: Record<string, Field>; items?: Field };
const open = (f: Field) => ({
  ...f,
  ...(f.type === "object" ? { "x-kubernetes-preserve-unknown-fields": true } : {}),
});
const obj = (description: string, properties?: Record<string, Field>): Field => ({
  type: "object",
  description,
  ...(properties ? { properties } : {}),
});
const str = (description: string): Field => ({ type: "string", description });
const int = (description: string): Field => ({ type: "integer", description });
const arr = (description: string, items: Field): Field => ({ type: "array", description, items });

const CONTAINER = obj("A single application container that you want to run within a pod.", {
  name: str(
    "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name.",
  ),
  image: str("Container image name."),
  command: arr("Entrypoint array. Not executed within a shell.", str("")),
  args: arr("Arguments to the entrypoint.", str("")),
  env: arr("List of environment variables to set in the container.", obj("EnvVar")),
  ports: arr("List of ports to expose from the container.", obj("ContainerPort")),
  resources: obj("Compute Resources required by this container (requests and limits)."),
});
const POD_SPEC = obj("Specification of the desired behavior of the pod.", {
  containers: arr("List of containers belonging to the pod. There must be at least one.", CONTAINER),
  restartPolicy: str("Restart policy for all containers within the pod: Always, OnFailure or Never."),
  serviceAccountName: str("Name of the ServiceAccount to use to run this pod."),
  nodeName: str("A request to schedule this pod onto a specific node."),
});
const TEMPLATE = obj("Template describes the pods that will be created.", {
  metadata: obj("Standard object's metadata."),
  spec: POD_SPEC,
});
const SELECTOR = obj("A label query over pods. It must match the pod template's labels.", {
  matchLabels: obj("A map of {key,value} pairs."),
});

const KIND_FIELDS: Record<string, Record<string, Field>> = {
  Pod: {
    spec: POD_SPEC,
    status: obj("Most recently observed status of the pod.", {
      phase: str("The phase of a Pod: Pending, Running, Succeeded, Failed or Unknown."),
      podIP: str("IP address allocated to the pod."),
      containerStatuses: arr("Statuses of the containers in this pod.", obj("ContainerStatus")),
    }),
  },
  Deployment: {
    spec: obj("Specification of the desired behavior of the Deployment.", {
      replicas: int("Number of desired pods. Defaults to 1."),
      selector: SELECTOR,
      template: TEMPLATE,
      strategy: obj("The deployment strategy to use to replace existing pods with new ones."),
      paused: { type: "boolean", description: "Indicates that the deployment is paused." },
      revisionHistoryLimit: int("The number of old ReplicaSets to retain to allow rollback. Defaults to 10."),
    }),
    status: obj("Most recently observed status of the Deployment.", {
      replicas: int("Total number of non-terminated pods targeted by this deployment."),
      readyReplicas: int("Number of pods targeted by this Deployment with a Ready Condition."),
      updatedReplicas: int("Total number of non-terminated pods that have the desired template spec."),
    }),
  },
  Service: {
    spec: obj("Spec defines the behavior of a service.", {
      selector: obj("Route service traffic to pods with label keys and values matching this selector."),
      ports: arr("The list of ports that are exposed by this service.", obj("ServicePort")),
      type: str("How the Service is exposed: ClusterIP (default), NodePort, LoadBalancer or ExternalName."),
      clusterIP: str("The IP address of the service, usually assigned randomly."),
    }),
  },
  ConfigMap: {
    data: obj(
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'.",
    ),
  },
  Secret: {
    data: obj(
      "Data contains the secret data, base64 encoded. Each key must consist of alphanumeric characters, '-', '_' or '.'.",
    ),
    type: str("Used to facilitate programmatic handling of secret data."),
  },
  Job: {
    spec: obj("Specification of the desired behavior of a job.", {
      template: TEMPLATE,
      backoffLimit: int("The number of retries before marking this job failed. Defaults to 6."),
      completions: int("The desired number of successfully finished pods the job should be run with."),
    }),
    status: obj("Current status of a job.", {
      succeeded: int("The number of pods which reached phase Succeeded."),
      failed: int("The number of pods which reached phase Failed."),
    }),
  },
};

/** A described field as an OpenAPI schema: open objects, described children. */
function schemaOf(f: Field): Record<string, unknown> {
  return {
    ...open(f),
    ...(f.properties
      ? { properties: Object.fromEntries(Object.entries(f.properties).map(([k, v]) => [k, schemaOf(v)])) }
      : {}),
    ...(f.items ? { items: schemaOf(f.items) } : {}),
  };
}

function kindSchema(t: ResourceType) {
  const described = BUILTIN_GROUPS.has(t.group) ? KIND_FIELDS[t.kind] : undefined;
  const extra = described
    ? Object.fromEntries(Object.entries(described).map(([k, v]) => [k, schemaOf(v)]))
    : {};
  return {
    description: `${t.kind} (simulated by airlock sim; the schema is open).`,
    type: "object",
    properties: {
      apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this object." },
      kind: { type: "string", description: "Kind is a string value representing the REST resource." },
      metadata: {
        type: "object",
        description: "Standard object's metadata.",
        "x-kubernetes-preserve-unknown-fields": true,
      },
      spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      ...extra,
    },
    "x-kubernetes-preserve-unknown-fields": true,
    "x-kubernetes-group-version-kind": [{ group: t.group, version: t.version, kind: t.kind }],
  };
}

/** The document for one group-version, or undefined when it is not served. */
export function groupVersionDocument(types: ResourceType[], group: string, version: string) {
  const list = types.filter((t) => t.group === group && t.version === version);
  if (list.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of list) {
    const base = `/${gvPath(group, version)}/${t.namespaced ? "namespaces/{namespace}/" : ""}${t.resource}/{name}`;
    paths[base] = operationsFor(t);
    schemas[schemaName(t)] = kindSchema(t);
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.4" },
    paths,
    components: { schemas },
  };
}

/** The /openapi/v3 index: one entry per group-version, each with a content hash as kube-apiserver gives. */
export function openApiIndex(types: ResourceType[]) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const seen = new Set<string>();
  for (const t of types) {
    const key = apiVersionOf(t);
    if (seen.has(key)) continue;
    seen.add(key);
    const doc = groupVersionDocument(types, t.group, t.version);
    const hash = createHash("sha512").update(JSON.stringify(doc)).digest("hex").slice(0, 128).toUpperCase();
    paths[gvPath(t.group, t.version)] = {
      serverRelativeURL: `/openapi/v3/${gvPath(t.group, t.version)}?hash=${hash}`,
    };
  }
  return { paths };
}
