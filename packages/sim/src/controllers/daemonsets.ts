// The DaemonSet controller: one pod per node (the simulator has one), bound to that node directly; an outdated pod is
// deleted and replaced once it is gone, which is a rolling update with maxUnavailable 1 on a one-node cluster.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, deleteObject, namespaceTerminating } from "./context.ts";
import { controllerRef, deepEqual, isControlledBy, podTemplateHash, randomSuffix } from "./objects.ts";
import { isActivePod, isPodReady, type PodTemplate, podFromTemplate } from "./podspec.ts";

const REVISION_LABEL = "controller-revision-hash";

export function reconcileDaemonSet(ctx: ControllerContext, namespace: string, name: string): void {
  const dsType = ctx.type("apps", "v1", "daemonsets");
  const podType = ctx.type("", "v1", "pods");
  const nodeType = ctx.type("", "v1", "nodes");
  if (!dsType || !podType || !nodeType) return;
  const ds = ctx.store.get(dsType, namespace, name);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const spec = (ds.spec ?? {}) as { template?: PodTemplate };
  const hash = podTemplateHash(spec.template);
  const nodes = ctx.store.list(nodeType, "").items.filter((n) => !n.metadata.deletionTimestamp);
  const pods = ctx.store.list(podType, namespace).items.filter((p) => isControlledBy(p, ds));
  const nodeOf = (p: KubeObject) => (p.spec as { nodeName?: string } | undefined)?.nodeName ?? "";
  const nodeNames = new Set(nodes.map((n) => n.metadata.name ?? ""));

  for (const node of nodeNames) {
    const onNode = pods.filter((p) => nodeOf(p) === node);
    const live = onNode.filter((p) => !p.metadata.deletionTimestamp);
    for (const p of live) if (p.metadata.labels?.[REVISION_LABEL] !== hash) deleteObject(ctx, podType, p);
    if (onNode.length === 0 && !namespaceTerminating(ctx, namespace)) {
      const pod = podFromTemplate(
        spec.template,
        {
          name: `${name}-${randomSuffix()}`,
          namespace,
          labels: { [REVISION_LABEL]: hash, "pod-template-generation": String(ds.metadata.generation ?? 1) },
        },
        [controllerRef(ds)],
        { nodeName: node },
      );
      const created = ctx.store.create(podType, pod);
      ctx.events.record(
        ds,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${created.metadata.name}`,
        "daemonset-controller",
      );
    }
  }
  for (const p of pods) if (!nodeNames.has(nodeOf(p))) deleteObject(ctx, podType, p);

  const active = pods.filter(isActivePod);
  const scheduled = active.filter((p) => nodeNames.has(nodeOf(p)));
  const ready = scheduled.filter(isPodReady).length;
  const updated = scheduled.filter((p) => p.metadata.labels?.[REVISION_LABEL] === hash).length;
  const status: Record<string, unknown> = {
    currentNumberScheduled: new Set(scheduled.map(nodeOf)).size,
    desiredNumberScheduled: nodeNames.size,
    numberMisscheduled: 0,
    numberReady: ready,
    observedGeneration: ds.metadata.generation ?? 1,
  };
  if (ready) status.numberAvailable = ready;
  if (nodeNames.size - ready > 0) status.numberUnavailable = nodeNames.size - ready;
  if (updated) status.updatedNumberScheduled = updated;
  if (!deepEqual(ds.status, status)) ctx.store.update(dsType, { ...ds, status });
}
