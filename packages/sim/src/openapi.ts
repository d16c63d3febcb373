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

function kindSchema(t: ResourceType) {
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
