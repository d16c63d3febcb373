// The StatefulSet controller: pods <name>-0 … <name>-(n-1) with stable names and hostnames, scale-down from the
// highest ordinal, and a rolling update that replaces one outdated pod at a time (highest ordinal first) once every
// other pod is ready. currentRevision catches up with updateRevision when the last pod is updated, which is what
// `kubectl rollout status statefulset` waits for.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, deleteObject, namespaceTerminating } from "./context.ts";
import { controllerRef, deepEqual, isControlledBy, podTemplateHash } from "./objects.ts";
import { isActivePod, isPodReady, type PodTemplate, podFromTemplate } from "./podspec.ts";

const REVISION_LABEL = "controller-revision-hash";

export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function reconcileStatefulSet(ctx: ControllerContext, namespace: string, name: string): void {
  const stsType = ctx.type("apps", "v1", "statefulsets");
  const podType = ctx.type("", "v1", "pods");
  if (!stsType || !podType) return;
  const sts = ctx.store.get(stsType, namespace, name);
  if (!sts || sts.metadata.deletionTimestamp) return;
  const spec = (sts.spec ?? {}) as { replicas?: number; serviceName?: string; template?: PodTemplate };
  const desired = spec.replicas ?? 1;
  const revision = `${name}-${podTemplateHash(spec.template)}`;
  const pods = ctx.store.list(podType, namespace).items.filter((p) => isControlledBy(p, sts));
  const byOrdinal = new Map<number, KubeObject>();
  for (const p of pods) {
    const ord = ordinalOf(name, p.metadata.name ?? "");
    if (ord !== undefined) byOrdinal.set(ord, p);
  }

  if (!namespaceTerminating(ctx, namespace)) {
    for (let i = 0; i < desired; i++) {
      if (byOrdinal.has(i)) continue;
      const podName = `${name}-${i}`;
      if (ctx.store.get(podType, namespace, podName)) continue; // not ours, or still going away
      const pod = podFromTemplate(
        spec.template,
        {
          name: podName,
          namespace,
          labels: {
            [REVISION_LABEL]: revision,
            "statefulset.kubernetes.io/pod-name": podName,
            "apps.kubernetes.io/pod-index": String(i),
          },
        },
        [controllerRef(sts)],
        { hostname: podName, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}) },
      );
      ctx.store.create(podType, pod);
      ctx.events.record(
        sts,
        "Normal",
        "SuccessfulCreate",
        `create Pod ${podName} in StatefulSet ${name} successful`,
        "statefulset-controller",
      );
    }
  }
  const ordinals = [...byOrdinal.keys()].sort((a, b) => b - a);
  for (const ord of ordinals) {
    const pod = byOrdinal.get(ord) as KubeObject;
    if (ord >= desired && !pod.metadata.deletionTimestamp) {
      deleteObject(ctx, podType, pod);
      ctx.events.record(
        sts,
        "Normal",
        "SuccessfulDelete",
        `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`,
        "statefulset-controller",
      );
    }
  }
  const inRange = ordinals.filter((o) => o < desired).map((o) => byOrdinal.get(o) as KubeObject);
  const outdated = inRange.filter((p) => p.metadata.labels?.[REVISION_LABEL] !== revision);
  const othersReady = inRange.length === desired && inRange.every((p) => isActivePod(p) && isPodReady(p));
  const first = outdated[0];
  if (first && othersReady && !first.metadata.deletionTimestamp) deleteObject(ctx, podType, first);

  const active = pods.filter(isActivePod);
  const ready = active.filter(isPodReady);
  const updated = active.filter((p) => p.metadata.labels?.[REVISION_LABEL] === revision);
  const old = (sts.status ?? {}) as { currentRevision?: string };
  const allUpdated = updated.length === desired && active.length === desired;
  const currentRevision = allUpdated || !old.currentRevision ? revision : old.currentRevision;
  const status: Record<string, unknown> = {
    observedGeneration: sts.metadata.generation ?? 1,
    replicas: active.length,
    readyReplicas: ready.length,
    currentReplicas: allUpdated ? updated.length : active.length - updated.length,
    updatedReplicas: updated.length,
    availableReplicas: ready.length,
    currentRevision,
    updateRevision: revision,
    collisionCount: 0,
  };
  for (const k of ["readyReplicas", "currentReplicas", "updatedReplicas"])
    if (status[k] === 0) delete status[k];
  if (!deepEqual(sts.status, status)) ctx.store.update(stsType, { ...sts, status });
}
