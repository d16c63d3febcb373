// The Deployment controller: one ReplicaSet per distinct pod template (named <deployment>-<pod-template-hash>), a
// quick rolling update (the new ReplicaSet is scaled up at once, the old ones to 0 as soon as the new one is fully
// available), Recreate, revision annotations for `kubectl rollout history/undo`, history cleanup, and the status
// `kubectl rollout status` waits on. A paused Deployment only scales; it starts no rollout.
import type { KubeObject, ResourceType } from "../contracts.ts";
import { type ControllerContext, deleteObject, namespaceTerminating } from "./context.ts";
import { controllerRef, deepEqual, isControlledBy, podTemplateHash } from "./objects.ts";
import type { PodTemplate } from "./podspec.ts";
import { deploymentStatus, REVISION, resolveIntOrPercent, revisionOf } from "./rollout.ts";

interface DeploymentSpec {
  replicas?: number;
  paused?: boolean;
  revisionHistoryLimit?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: unknown } };
}

const COMPONENT = "deployment-controller";
// Annotations of the Deployment that are its own and not copied onto its ReplicaSets (deployment/util.skipCopyAnnotation).
const NOT_COPIED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  "deployment.kubernetes.io/revision-history",
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
]);

const replicasOf = (rs: KubeObject) => (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;
const statusOf = (rs: KubeObject) => (rs.status ?? {}) as { replicas?: number; availableReplicas?: number };

export function reconcileDeployment(ctx: ControllerContext, namespace: string, name: string): void {
  const deployType = ctx.type("apps", "v1", "deployments");
  const rsType = ctx.type("apps", "v1", "replicasets");
  if (!deployType || !rsType) return;
  const d = ctx.store.get(deployType, namespace, name);
  if (!d || d.metadata.deletionTimestamp) return;
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const desired = spec.replicas ?? 1;
  const owned = ctx.store.list(rsType, namespace).items.filter((rs) => isControlledBy(rs, d));
  const collisionCount = (d.status as { collisionCount?: number } | undefined)?.collisionCount ?? 0;
  const hash = podTemplateHash(spec.template, collisionCount);
  let newRS = owned.find(
    (rs) => podTemplateHash((rs.spec as DeploymentSpec).template, collisionCount) === hash,
  );
  const oldRSs = owned.filter((rs) => rs !== newRS);
  const maxRevision = owned.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  const maxSurge = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge, desired, true, "25%");
  const recreate = spec.strategy?.type === "Recreate";

  const scale = (rs: KubeObject, to: number, extraAnnotations: Record<string, string> = {}): KubeObject => {
    const from = replicasOf(rs);
    const annotations = {
      ...rs.metadata.annotations,
      "deployment.kubernetes.io/desired-replicas": String(desired),
      "deployment.kubernetes.io/max-replicas": String(desired + (recreate ? 0 : maxSurge)),
      ...extraAnnotations,
    };
    const next = {
      ...rs,
      metadata: { ...rs.metadata, annotations },
      spec: { ...(rs.spec as object), replicas: to },
    };
    if (deepEqual(next, rs)) return rs;
    const written = ctx.store.update(rsType, next);
    if (from !== to) {
      const verb = to > from ? "up" : "down";
      ctx.events.record(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${to}`,
        COMPONENT,
      );
    }
    return written;
  };

  if (!newRS && !spec.paused && !namespaceTerminating(ctx, namespace)) {
    const created = createReplicaSet(ctx, rsType, d, spec, hash, maxRevision + 1, oldRSs, recreate);
    if (!created) return; // a name collision: collisionCount was bumped, and its event brings us back
    newRS = created;
  } else if (newRS && revisionOf(newRS) < maxRevision && !spec.paused) {
    // Rolling back to an older template makes its ReplicaSet the newest revision again.
    newRS = scale(newRS, replicasOf(newRS), { [REVISION]: String(maxRevision + 1) });
  }

  if (newRS && !spec.paused) {
    const oldPods = oldRSs.reduce((n, rs) => n + (statusOf(rs).replicas ?? 0), 0);
    if (recreate) {
      for (const rs of oldRSs) if (replicasOf(rs) > 0) scale(rs, 0);
      if (oldPods === 0) newRS = scale(newRS, desired);
    } else {
      newRS = scale(newRS, desired);
      const newStatus = statusOf(newRS);
      const newReady =
        replicasOf(newRS) === desired &&
        (newStatus.availableReplicas ?? 0) >= desired &&
        (newStatus.replicas ?? 0) === desired;
      if (newReady) for (const rs of oldRSs) if (replicasOf(rs) > 0) scale(rs, 0);
    }
  } else if (spec.paused) {
    // Paused: honour scaling on the ReplicaSet that currently runs the pods, start nothing new.
    const active = newRS ?? [...oldRSs].sort((a, b) => replicasOf(b) - replicasOf(a))[0];
    if (
      active &&
      replicasOf(active) !== desired &&
      oldRSs.every((rs) => rs === active || replicasOf(rs) === 0)
    ) {
      const written = scale(active, desired);
      if (active === newRS) newRS = written;
    }
  }

  cleanupHistory(ctx, rsType, oldRSs, spec.revisionHistoryLimit ?? 10);

  const fresh = ctx.store.get(deployType, namespace, name);
  if (!fresh || fresh.metadata.resourceVersion !== d.metadata.resourceVersion) return; // changed: we are requeued
  const latestOld = oldRSs
    .map((rs) => ctx.store.get(rsType, namespace, rs.metadata.name ?? ""))
    .filter((x) => !!x);
  const status = deploymentStatus(d, newRS, latestOld, ctx.now());
  const annotations = { ...d.metadata.annotations };
  if (newRS) annotations[REVISION] = String(revisionOf(newRS));
  const next: KubeObject = { ...d, metadata: { ...d.metadata, annotations }, status };
  if (!deepEqual(next, d)) ctx.store.update(deployType, next);
}

function createReplicaSet(
  ctx: ControllerContext,
  rsType: ResourceType,
  d: KubeObject,
  spec: DeploymentSpec,
  hash: string,
  revision: number,
  oldRSs: KubeObject[],
  recreate: boolean,
): KubeObject | undefined {
  const namespace = d.metadata.namespace ?? "";
  const name = `${d.metadata.name}-${hash}`;
  const existing = ctx.store.get(rsType, namespace, name);
  if (existing) {
    // Someone else's ReplicaSet holds our name: try the next hash, as kube-controller-manager does.
    const status = (d.status ?? {}) as { collisionCount?: number };
    ctx.store.update(ctx.type("apps", "v1", "deployments") as ResourceType, {
      ...d,
      status: { ...status, collisionCount: (status.collisionCount ?? 0) + 1 },
    });
    return undefined;
  }
  const desired = spec.replicas ?? 1;
  const template = structuredClone(spec.template ?? {});
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, "pod-template-hash": hash },
  };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {}))
    if (!NOT_COPIED.has(k)) annotations[k] = v;
  const maxSurge = resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxSurge, desired, true, "25%");
  annotations["deployment.kubernetes.io/desired-replicas"] = String(desired);
  annotations["deployment.kubernetes.io/max-replicas"] = String(desired + (recreate ? 0 : maxSurge));
  annotations[REVISION] = String(revision);
  const oldPods = oldRSs.reduce((n, rs) => n + ((rs.status as { replicas?: number })?.replicas ?? 0), 0);
  const replicas = recreate && (oldPods > 0 || oldRSs.some((rs) => replicasOf(rs) > 0)) ? 0 : desired;
  const selector = structuredClone(spec.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, "pod-template-hash": hash };
  const rs = ctx.store.create(rsType, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace,
      labels: template.metadata.labels,
      annotations,
      ownerReferences: [controllerRef(d)],
    },
    spec: {
      replicas,
      minReadySeconds: (d.spec as { minReadySeconds?: number }).minReadySeconds ?? 0,
      selector,
      template,
    },
    status: { replicas: 0 },
  });
  if (replicas > 0) {
    ctx.events.record(
      d,
      "Normal",
      "ScalingReplicaSet",
      `Scaled up replica set ${name} from 0 to ${replicas}`,
      COMPONENT,
    );
  }
  return rs;
}

/** Old ReplicaSets beyond revisionHistoryLimit go, oldest revision first, once they run no pods. */
function cleanupHistory(
  ctx: ControllerContext,
  rsType: ResourceType,
  oldRSs: KubeObject[],
  limit: number,
): void {
  const idle = oldRSs
    .filter(
      (rs) => replicasOf(rs) === 0 && (statusOf(rs).replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp,
    )
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, oldRSs.length - limit))) deleteObject(ctx, rsType, rs);
}
