// The namespace controller: new namespaces become Active and get their `default` ServiceAccount and the
// `kube-root-ca.crt` ConfigMap; a namespace being deleted turns Terminating, every namespaced object in it is
// deleted, and only when nothing is left are its finalizers cleared so that it goes. Objects that hold their own
// finalizers keep the namespace Terminating until someone clears them — the same stance kube-controller-manager takes.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, deleteObject } from "./context.ts";
import { deepEqual } from "./objects.ts";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

/** Polling backoff while waiting for finalizers held by others: no watch tells us when a foreign finalizer clears. */
const RECHECK_MS = [5, 10, 20, 50, 100, 250, 500, 1000];

export function reconcileNamespace(
  ctx: ControllerContext,
  name: string,
  rootCaPem: string,
  attempt = 0,
): void {
  const nsType = ctx.type("", "v1", "namespaces");
  if (!nsType) return;
  const ns = ctx.store.get(nsType, "", name);
  if (!ns) {
    purgeNamespace(ctx, name); // removed outright by someone: its content must not outlive it
    return;
  }
  if (!ns.metadata.deletionTimestamp) {
    const status = { ...(ns.status as object), phase: "Active" };
    if (!deepEqual(ns.status, status)) ctx.store.update(nsType, { ...ns, status });
    ensureDefaults(ctx, name, rootCaPem);
    return;
  }
  const left = purgeContent(ctx, name);
  const status = {
    ...(ns.status as object),
    phase: "Terminating",
    conditions: deletionConditions(left, (ns.status as NamespaceStatus | undefined)?.conditions, ctx.now()),
  };
  const current = deepEqual(ns.status, status) ? ns : ctx.store.update(nsType, { ...ns, status });
  if (left.objects > 0) {
    const delay = RECHECK_MS[Math.min(attempt, RECHECK_MS.length - 1)] ?? 1000;
    ctx.queue.addAfter(`namespace|${name}`, delay, () =>
      reconcileNamespace(ctx, name, rootCaPem, attempt + 1),
    );
    return;
  }
  const next: KubeObject = {
    ...current,
    metadata: { ...current.metadata, finalizers: [] },
    spec: { ...(current.spec as object), finalizers: [] },
  };
  // With no finalizers left, the store completes the deletion on this write.
  ctx.store.update(nsType, next);
  if (ctx.store.get(nsType, "", name)) ctx.store.remove(nsType, "", name);
}

/** What is left in a terminating namespace after a purge: counts by resource and by finalizer. */
export interface RemainingContent {
  objects: number;
  byResource: Map<string, number>;
  byFinalizer: Map<string, number>;
}

/** Deletes every namespaced object in the namespace; returns how many still exist afterwards. */
export function purgeNamespace(ctx: ControllerContext, namespace: string): number {
  return purgeContent(ctx, namespace).objects;
}

function purgeContent(ctx: ControllerContext, namespace: string): RemainingContent {
  const left: RemainingContent = { objects: 0, byResource: new Map(), byFinalizer: new Map() };
  const seen = new Set<string>();
  for (const type of ctx.registry.all()) {
    const key = `${type.group}/${type.resource}`;
    if (!type.namespaced || seen.has(key) || !type.verbs.includes("list")) continue;
    seen.add(key);
    for (const obj of ctx.store.list(type, namespace).items) {
      deleteObject(ctx, type, obj);
      const still = ctx.store.get(type, namespace, obj.metadata.name ?? "");
      if (!still) continue;
      left.objects++;
      const resource = `${type.resource}.${type.group}`;
      left.byResource.set(resource, (left.byResource.get(resource) ?? 0) + 1);
      for (const f of still.metadata.finalizers ?? [])
        left.byFinalizer.set(f, (left.byFinalizer.get(f) ?? 0) + 1);
    }
  }
  return left;
}

interface NamespaceCondition {
  type: string;
  status: "True" | "False";
  lastTransitionTime: string;
  reason: string;
  message: string;
}
interface NamespaceStatus {
  conditions?: NamespaceCondition[];
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b));

/**
 * The conditions kube-controller-manager's namespace deleter sets on a Terminating namespace, so `kubectl describe
 * ns` says what the deletion waits for. A condition keeps its lastTransitionTime while its status does not change.
 */
export function deletionConditions(
  left: RemainingContent,
  previous: NamespaceCondition[] | undefined,
  now: string,
): NamespaceCondition[] {
  const content = sorted(left.byResource)
    .map(([r, n]) => `${r} has ${n} resource instances`)
    .join(", ");
  const finalizers = sorted(left.byFinalizer)
    .map(([f, n]) => `${f} in ${n} resource instances`)
    .join(", ");
  const wanted: Omit<NamespaceCondition, "lastTransitionTime">[] = [
    {
      type: "NamespaceDeletionDiscoveryFailure",
      status: "False",
      reason: "ResourcesDiscovered",
      message: "All resources successfully discovered",
    },
    {
      type: "NamespaceDeletionGroupVersionParsingFailure",
      status: "False",
      reason: "ParsedGroupVersions",
      message: "All legacy kube types successfully parsed",
    },
    {
      type: "NamespaceDeletionContentFailure",
      status: "False",
      reason: "ContentDeleted",
      message: "All content successfully deleted, may be waiting on finalization",
    },
    content
      ? {
          type: "NamespaceContentRemaining",
          status: "True",
          reason: "SomeResourcesRemain",
          message: `Some resources are remaining: ${content}`,
        }
      : {
          type: "NamespaceContentRemaining",
          status: "False",
          reason: "ContentRemoved",
          message: "All content successfully removed",
        },
    finalizers
      ? {
          type: "NamespaceFinalizersRemaining",
          status: "True",
          reason: "SomeFinalizersRemain",
          message: `Some content in the namespace has finalizers remaining: ${finalizers}`,
        }
      : {
          type: "NamespaceFinalizersRemaining",
          status: "False",
          reason: "ContentHasNoFinalizers",
          message: "All content-preserving finalizers finished",
        },
  ];
  return wanted.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    const since = before && before.status === c.status ? before.lastTransitionTime : now;
    return {
      type: c.type,
      status: c.status,
      lastTransitionTime: since,
      reason: c.reason,
      message: c.message,
    };
  });
}

function ensureDefaults(ctx: ControllerContext, namespace: string, rootCaPem: string): void {
  const saType = ctx.type("", "v1", "serviceaccounts");
  const cmType = ctx.type("", "v1", "configmaps");
  if (saType && !ctx.store.get(saType, namespace, "default")) {
    ctx.store.create(saType, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace },
    });
  }
  if (cmType && !ctx.store.get(cmType, namespace, ROOT_CA_CONFIGMAP)) {
    ctx.store.create(cmType, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: ROOT_CA_CONFIGMAP,
        namespace,
        annotations: {
          "kubernetes.io/description":
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
        },
      },
      data: { "ca.crt": rootCaPem },
    });
  }
}
