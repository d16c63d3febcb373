// The resource registry: every type the simulator serves, as discovery advertises it and as the router looks it up.
// Built-in types are fixed; CustomResourceDefinitions add and remove their own at run time (packages/sim/src/crd.ts).
//
// Failure stance: an unknown group/version/resource is simply absent, and the router answers 404 for it.
import type { ResourceRegistry, ResourceType } from "./contracts.ts";

export const CRUD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const CREATE_ONLY = ["create"];

interface Spec {
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  subresources?: string[];
  singular?: string;
}

function group(groupName: string, version: string, specs: Spec[]): ResourceType[] {
  return specs.map((s) => ({
    group: groupName,
    version,
    resource: s.resource,
    singular: s.singular ?? s.kind.toLowerCase(),
    kind: s.kind,
    listKind: `${s.kind}List`,
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: s.verbs ?? CRUD_VERBS,
    subresources: s.subresources ?? [],
  }));
}

const ALL = ["all"];
const REVIEW = { verbs: CREATE_ONLY, namespaced: false };

export function builtinTypes(): ResourceType[] {
  return [
    ...group("", "v1", [
      {
        resource: "namespaces",
        kind: "Namespace",
        namespaced: false,
        shortNames: ["ns"],
        subresources: ["finalize", "status"],
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      },
      {
        resource: "pods",
        kind: "Pod",
        namespaced: true,
        shortNames: ["po"],
        categories: ALL,
        subresources: ["attach", "exec", "log", "portforward", "proxy", "status"],
      },
      { resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"], categories: ALL },
      {
        resource: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        shortNames: ["ep"],
        singular: "endpoints",
      },
      { resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
      { resource: "secrets", kind: "Secret", namespaced: true },
      {
        resource: "serviceaccounts",
        kind: "ServiceAccount",
        namespaced: true,
        shortNames: ["sa"],
        subresources: ["token"],
      },
      { resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
      { resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], subresources: ["status"] },
      {
        resource: "persistentvolumeclaims",
        kind: "PersistentVolumeClaim",
        namespaced: true,
        shortNames: ["pvc"],
        subresources: ["status"],
      },
      {
        resource: "persistentvolumes",
        kind: "PersistentVolume",
        namespaced: false,
        shortNames: ["pv"],
        subresources: ["status"],
      },
      {
        resource: "resourcequotas",
        kind: "ResourceQuota",
        namespaced: true,
        shortNames: ["quota"],
        subresources: ["status"],
      },
    ]),
    ...group("apps", "v1", [
      {
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
        shortNames: ["deploy"],
        categories: ALL,
        subresources: ["scale", "status"],
      },
      {
        resource: "replicasets",
        kind: "ReplicaSet",
        namespaced: true,
        shortNames: ["rs"],
        categories: ALL,
        subresources: ["scale", "status"],
      },
      {
        resource: "statefulsets",
        kind: "StatefulSet",
        namespaced: true,
        shortNames: ["sts"],
        categories: ALL,
        subresources: ["scale", "status"],
      },
      {
        resource: "daemonsets",
        kind: "DaemonSet",
        namespaced: true,
        shortNames: ["ds"],
        categories: ALL,
        subresources: ["status"],
      },
    ]),
    ...group("batch", "v1", [
      { resource: "jobs", kind: "Job", namespaced: true, categories: ALL, subresources: ["status"] },
      {
        resource: "cronjobs",
        kind: "CronJob",
        namespaced: true,
        shortNames: ["cj"],
        categories: ALL,
        subresources: ["status"],
      },
    ]),
    ...group("networking.k8s.io", "v1", [
      {
        resource: "ingresses",
        kind: "Ingress",
        namespaced: true,
        shortNames: ["ing"],
        subresources: ["status"],
      },
      { resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true, shortNames: ["netpol"] },
    ]),
    ...group("policy", "v1", [
      {
        resource: "poddisruptionbudgets",
        kind: "PodDisruptionBudget",
        namespaced: true,
        shortNames: ["pdb"],
        subresources: ["status"],
      },
    ]),
    ...group("scheduling.k8s.io", "v1", [
      { resource: "priorityclasses", kind: "PriorityClass", namespaced: false, shortNames: ["pc"] },
    ]),
    ...group("rbac.authorization.k8s.io", "v1", [
      { resource: "roles", kind: "Role", namespaced: true },
      { resource: "rolebindings", kind: "RoleBinding", namespaced: true },
      { resource: "clusterroles", kind: "ClusterRole", namespaced: false },
      { resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
    ]),
    ...group("authentication.k8s.io", "v1", [
      { resource: "selfsubjectreviews", kind: "SelfSubjectReview", ...REVIEW },
      { resource: "tokenreviews", kind: "TokenReview", ...REVIEW },
    ]),
    ...group("authorization.k8s.io", "v1", [
      { resource: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview", ...REVIEW },
      { resource: "selfsubjectrulesreviews", kind: "SelfSubjectRulesReview", ...REVIEW },
      { resource: "subjectaccessreviews", kind: "SubjectAccessReview", ...REVIEW },
      {
        resource: "localsubjectaccessreviews",
        kind: "LocalSubjectAccessReview",
        verbs: CREATE_ONLY,
        namespaced: true,
      },
    ]),
    // metrics-server's API, computed from the pods (api/metrics.ts): read-only.
    ...group("metrics.k8s.io", "v1beta1", [
      { resource: "pods", kind: "PodMetrics", namespaced: true, verbs: ["get", "list"] },
      { resource: "nodes", kind: "NodeMetrics", namespaced: false, verbs: ["get", "list"] },
    ]),
    ...group("apiextensions.k8s.io", "v1", [
      {
        resource: "customresourcedefinitions",
        kind: "CustomResourceDefinition",
        namespaced: false,
        shortNames: ["crd", "crds"],
        subresources: ["status"],
      },
    ]),
  ];
}

/** "apps/v1" for apps, "v1" for core. */
export function apiVersionOf(type: Pick<ResourceType, "group" | "version">): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export interface MemoryRegistry extends ResourceRegistry {
  /** Called after every register/unregister, so discovery and OpenAPI caches can be dropped. */
  onChange(listener: () => void): void;
}

export function createRegistry(types: ResourceType[] = builtinTypes()): MemoryRegistry {
  const byKey = new Map<string, ResourceType>();
  const listeners: (() => void)[] = [];
  const key = (g: string, v: string, r: string) => `${g}/${v}/${r}`;
  for (const t of types) byKey.set(key(t.group, t.version, t.resource), t);
  const changed = () => {
    for (const l of listeners) l();
  };
  return {
    all: () => [...byKey.values()],
    find: (g, v, r) => byKey.get(key(g, v, r)),
    byKind(g, kind) {
      for (const t of byKey.values()) if (t.group === g && t.kind === kind) return t;
      return undefined;
    },
    register(type) {
      byKey.set(key(type.group, type.version, type.resource), type);
      changed();
    },
    unregister(g, resource) {
      for (const [k, t] of byKey) if (t.group === g && t.resource === resource) byKey.delete(k);
      changed();
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
