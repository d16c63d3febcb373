// The ReplicaSet controller: keeps `spec.replicas` active pods controlled by each ReplicaSet and reports their counts
// in its status. It never adopts pods it did not create (a pod must carry the ReplicaSet's controller reference), so a
// hand-made pod with matching labels is left alone rather than deleted.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, deleteObject, namespaceTerminating } from "./context.ts";
import { controllerRef, deepEqual, isControlledBy, randomSuffix, selectorMatches } from "./objects.ts";
import { isActivePod, isPodReady, type PodTemplate, podFromTemplate } from "./podspec.ts";

interface ReplicaSetSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: PodTemplate;
}

/** Which pods go first on scale-down: unscheduled, then not running, then not ready, then the newest. */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const rank = (p: KubeObject) => {
    const spec = p.spec as { nodeName?: string } | undefined;
    if (!spec?.nodeName) return 0;
    if ((p.status as { phase?: string } | undefined)?.phase !== "Running") return 1;
    return isPodReady(p) ? 3 : 2;
  };
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  const at = a.metadata.creationTimestamp ?? "";
  const bt = b.metadata.creationTimestamp ?? "";
  return at < bt ? 1 : at > bt ? -1 : 0;
}

export function reconcileReplicaSet(ctx: ControllerContext, namespace: string, name: string): void {
  const rsType = ctx.type("apps", "v1", "replicasets");
  const podType = ctx.type("", "v1", "pods");
  if (!rsType || !podType) return;
  const rs = ctx.store.get(rsType, namespace, name);
  if (!rs || rs.metadata.deletionTimestamp) return;
  const spec = (rs.spec ?? {}) as ReplicaSetSpec;
  const desired = spec.replicas ?? 1;
  const owned = ctx.store.list(podType, namespace).items.filter((p) => isControlledBy(p, rs));
  const active = owned.filter(isActivePod);
  const diff = desired - active.length;

  if (diff > 0 && !namespaceTerminating(ctx, namespace)) {
    for (let i = 0; i < diff; i++) {
      const pod = podFromTemplate(spec.template, { name: `${name}-${randomSuffix()}`, namespace }, [
        controllerRef(rs),
      ]);
      const created = ctx.store.create(podType, pod);
      ctx.events.record(
        rs,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${created.metadata.name}`,
        "replicaset-controller",
      );
    }
  } else if (diff < 0) {
    for (const pod of [...active].sort(deletionOrder).slice(0, -diff)) {
      deleteObject(ctx, podType, pod);
      ctx.events.record(
        rs,
        "Normal",
        "SuccessfulDelete",
        `Deleted pod: ${pod.metadata.name}`,
        "replicaset-controller",
      );
    }
  }

  // Counts describe the pods as they are now; the pod events from the writes above bring us back to recount.
  const ready = active.filter(isPodReady).length;
  const templateLabels = spec.template?.metadata?.labels ?? {};
  const status: Record<string, unknown> = {
    replicas: active.length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  const fullyLabeled = active.filter((p) =>
    selectorMatches({ matchLabels: templateLabels }, p.metadata.labels),
  ).length;
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) {
    status.readyReplicas = ready;
    status.availableReplicas = ready;
  }
  const conditions = (rs.status as { conditions?: unknown[] } | undefined)?.conditions;
  if (conditions) status.conditions = conditions;
  if (!deepEqual(rs.status, status)) ctx.store.update(rsType, { ...rs, status });
}
