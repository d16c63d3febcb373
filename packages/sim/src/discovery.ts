// API discovery, built from the registry on every call (CRDs change it at run time): aggregated discovery v2
// (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) on /api and /apis when the client asks for it, and the legacy
// documents (APIVersions, APIGroupList, APIGroup, APIResourceList) otherwise.
//
// Failure stance: the aggregated form is sent only with its exact Content-Type, because client-go decides how to
// parse the body from that header; a legacy client would misread it otherwise (wire-protocol §2.1).
import type { ResourceType } from "./contracts.ts";
import { apiVersionOf } from "./registry.ts";

export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** Whether the Accept header asks for aggregated discovery v2 (client-go lists it first). */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? "").split(",").some((part) => {
    const params = part.split(";").map((p) => p.trim());
    return (
      params.includes("g=apidiscovery.k8s.io") &&
      params.includes("v=v2") &&
      params.includes("as=APIGroupDiscoveryList")
    );
  });
}

interface SubresourceInfo {
  verbs: string[];
  kind?: { group: string; version: string; kind: string };
}

function subresourceInfo(type: ResourceType, sub: string): SubresourceInfo {
  const own = { group: type.group, version: type.version, kind: type.kind };
  switch (sub) {
    case "status":
      return { verbs: ["get", "patch", "update"], kind: own };
    case "scale":
      return {
        verbs: ["get", "patch", "update"],
        kind: { group: "autoscaling", version: "v1", kind: "Scale" },
      };
    case "finalize":
      return { verbs: ["update"], kind: own };
    case "token":
      return {
        verbs: ["create"],
        kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
      };
    case "log":
      return { verbs: ["get"], kind: own };
    case "exec":
      return { verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodExecOptions" } };
    case "attach":
      return { verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodAttachOptions" } };
    case "portforward":
      return { verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodPortForwardOptions" } };
    default:
      return { verbs: ["get"] };
  }
}

/** Groups in registry order, core first; each with its versions in registry order. */
function groupsOf(types: ResourceType[]): Map<string, Map<string, ResourceType[]>> {
  const groups = new Map<string, Map<string, ResourceType[]>>();
  for (const t of types) {
    let versions = groups.get(t.group);
    if (!versions) {
      versions = new Map();
      groups.set(t.group, versions);
    }
    const list = versions.get(t.version) ?? [];
    list.push(t);
    versions.set(t.version, list);
  }
  return groups;
}

function aggregatedResource(t: ResourceType) {
  return {
    resource: t.resource,
    responseKind: { group: t.group, version: t.version, kind: t.kind },
    scope: t.namespaced ? "Namespaced" : "Cluster",
    singularResource: t.singular,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
    ...(t.subresources.length
      ? {
          subresources: t.subresources.map((s) => {
            const info = subresourceInfo(t, s);
            return { subresource: s, ...(info.kind ? { responseKind: info.kind } : {}), verbs: info.verbs };
          }),
        }
      : {}),
  };
}

/** /api (core = true) or /apis as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(types: ResourceType[], core: boolean) {
  const items = [];
  for (const [group, versions] of groupsOf(types)) {
    if ((group === "") !== core) continue;
    items.push({
      metadata: { name: group, creationTimestamp: null },
      versions: [...versions].map(([version, list]) => ({
        version,
        resources: list.map(aggregatedResource),
        freshness: "Current",
      })),
    });
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

export function legacyApiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(group: string, versions: string[]) {
  const gvs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

export function legacyGroupList(types: ResourceType[]) {
  const groups = [];
  for (const [group, versions] of groupsOf(types))
    if (group !== "") groups.push(apiGroup(group, [...versions.keys()]));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** /apis/<group> as an APIGroup, or undefined when the group is not served. */
export function legacyGroup(types: ResourceType[], group: string) {
  const versions = groupsOf(types).get(group);
  if (!group || !versions) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, [...versions.keys()]) };
}

/** /api/v1 or /apis/<group>/<version> as an APIResourceList, or undefined when not served. */
export function legacyResourceList(types: ResourceType[], group: string, version: string) {
  const list = groupsOf(types).get(group)?.get(version);
  if (!list) return undefined;
  const resources = [];
  for (const t of list) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    });
    for (const s of t.subresources) {
      const info = subresourceInfo(t, s);
      resources.push({
        name: `${t.resource}/${s}`,
        singularName: "",
        namespaced: t.namespaced,
        ...(info.kind?.group ? { group: info.kind.group, version: info.kind.version } : {}),
        kind: info.kind?.kind ?? t.kind,
        verbs: info.verbs,
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}
