// Test fixtures for the identity unit tests: a tiny in-memory ObjectStore and ResourceRegistry holding only what
// the auth module reads (RBAC objects, service accounts, pods, secrets), and builders for RBAC objects. The unit
// tests stay independent of the simulator's real store and seed.

import type { PolicyRule, Subject } from "@airlock/sim/auth/rbac.ts";
import type {
  KubeObject,
  ObjectStore,
  ResourceRegistry,
  ResourceType,
  UserInfo,
} from "@airlock/sim/contracts.ts";

function type(group: string, resource: string, kind: string, namespaced: boolean): ResourceType {
  return {
    group,
    version: "v1",
    resource,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames: [],
    categories: [],
    verbs: ["create", "get", "list"],
    subresources: [],
  };
}

const RBAC = "rbac.authorization.k8s.io";
const TYPES = [
  type(RBAC, "clusterroles", "ClusterRole", false),
  type(RBAC, "clusterrolebindings", "ClusterRoleBinding", false),
  type(RBAC, "roles", "Role", true),
  type(RBAC, "rolebindings", "RoleBinding", true),
  type("", "serviceaccounts", "ServiceAccount", true),
  type("", "pods", "Pod", true),
  type("", "secrets", "Secret", true),
];

export interface FakeCluster {
  store: ObjectStore;
  registry: ResourceRegistry;
  add(resource: string, object: { metadata: KubeObject["metadata"]; [field: string]: unknown }): KubeObject;
  remove(resource: string, namespace: string, name: string): void;
}

export function fakeCluster(): FakeCluster {
  const objects = new Map<string, KubeObject>();
  let rv = 1;
  let uid = 1;
  const key = (t: ResourceType, ns: string, name: string) => `${t.resource}/${ns}/${name}`;
  const registry: ResourceRegistry = {
    all: () => TYPES,
    find: (g, v, r) => TYPES.find((t) => t.group === g && t.version === v && t.resource === r),
    byKind: (g, k) => TYPES.find((t) => t.group === g && t.kind === k),
    register: () => {},
    unregister: () => {},
  };
  const store: ObjectStore = {
    currentResourceVersion: () => rv,
    get: (t, ns, name) => objects.get(key(t, ns, name)),
    list: (t, ns) => ({
      items: [...objects.entries()]
        .filter(([k]) => k.startsWith(`${t.resource}/${ns ? `${ns}/` : ""}`))
        .map(([, o]) => o),
      resourceVersion: String(rv),
    }),
    create: (t, o) => {
      const created = {
        ...o,
        metadata: { ...o.metadata, uid: `uid-${uid++}`, resourceVersion: String(++rv) },
      };
      objects.set(key(t, o.metadata.namespace ?? "", o.metadata.name ?? ""), created);
      return created;
    },
    update: (t, o) => {
      objects.set(key(t, o.metadata.namespace ?? "", o.metadata.name ?? ""), o);
      return o;
    },
    remove: (t, ns, name) => {
      const o = objects.get(key(t, ns, name));
      if (!o) throw new Error("not found");
      objects.delete(key(t, ns, name));
      return o;
    },
    watch: () => () => {},
  };
  const find = (resource: string) => {
    const t = TYPES.find((x) => x.resource === resource);
    if (!t) throw new Error(`no type ${resource}`);
    return t;
  };
  return {
    store,
    registry,
    add: (resource, object) => {
      const t = find(resource);
      return store.create(t, { ...object, apiVersion: t.group ? `${t.group}/v1` : "v1", kind: t.kind });
    },
    remove: (resource, ns, name) => {
      store.remove(find(resource), ns, name);
    },
  };
}

export const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups, extra: {} });

/** A ClusterRole plus a ClusterRoleBinding of it to the subjects. */
export function grantCluster(c: FakeCluster, name: string, rules: PolicyRule[], subjects: Subject[]): void {
  c.add("clusterroles", { metadata: { name }, rules });
  c.add("clusterrolebindings", {
    metadata: { name },
    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name },
    subjects,
  });
}

/** A Role plus a RoleBinding of it in the namespace. */
export function grantNamespace(
  c: FakeCluster,
  ns: string,
  name: string,
  rules: PolicyRule[],
  subjects: Subject[],
): void {
  c.add("roles", { metadata: { name, namespace: ns }, rules });
  c.add("rolebindings", {
    metadata: { name, namespace: ns },
    roleRef: { apiGroup: RBAC, kind: "Role", name },
    subjects,
  });
}
