// The pure part of the Deployment controller: surge/unavailability arithmetic and the status and conditions a
// Deployment reports for a set of ReplicaSets. These are the fields `kubectl rollout status` reads, so they follow
// pkg/controller/deployment/sync.go (calculateStatus) and util.DeploymentComplete.
import type { KubeObject } from "../contracts.ts";
import { deepEqual } from "./objects.ts";

export const REVISION = "deployment.kubernetes.io/revision";

interface RsStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** An intOrString like 1 or "25%", resolved against `total` (percentages round up for surge, down for unavailable). */
export function resolveIntOrPercent(
  value: unknown,
  total: number,
  roundUp: boolean,
  fallback: string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return Number.parseInt(String(v), 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function revisionOf(rs: KubeObject): number {
  return Number.parseInt(rs.metadata.annotations?.[REVISION] ?? "0", 10) || 0;
}

const st = (rs: KubeObject | undefined) => (rs?.status ?? {}) as RsStatus;
const specReplicas = (rs: KubeObject) => (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;

/** Keeps a condition's times when nothing about it changed, so a resync writes nothing. */
export function mergeCondition(old: Condition[] | undefined, next: Condition, now: string): Condition {
  const prior = old?.find((c) => c.type === next.type);
  if (
    prior &&
    prior.status === next.status &&
    prior.reason === next.reason &&
    prior.message === next.message
  ) {
    return prior;
  }
  return {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: prior && prior.status === next.status ? (prior.lastTransitionTime ?? now) : now,
  };
}

export function deploymentStatus(
  deployment: KubeObject,
  newRS: KubeObject | undefined,
  oldRSs: KubeObject[],
  now: string,
): Record<string, unknown> {
  const spec = (deployment.spec ?? {}) as {
    replicas?: number;
    strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: unknown } };
  };
  const old = (deployment.status ?? {}) as { conditions?: Condition[]; collisionCount?: number };
  const desired = spec.replicas ?? 1;
  const all = newRS ? [newRS, ...oldRSs] : oldRSs;
  const sum = (f: (s: RsStatus) => number | undefined) => all.reduce((n, rs) => n + (f(st(rs)) ?? 0), 0);
  const replicas = sum((s) => s.replicas);
  const updatedReplicas = st(newRS).replicas ?? 0;
  const readyReplicas = sum((s) => s.readyReplicas);
  const availableReplicas = sum((s) => s.availableReplicas);
  const total = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const unavailableReplicas = Math.max(0, total - availableReplicas);

  const maxUnavailable =
    spec.strategy?.type === "Recreate"
      ? 0
      : resolveIntOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, "25%");
  const available = availableReplicas >= desired - maxUnavailable;
  const complete =
    updatedReplicas === desired &&
    replicas === desired &&
    availableReplicas === desired &&
    newRS !== undefined;
  const rsName = newRS?.metadata.name ?? "";
  const conditions = [
    mergeCondition(
      old.conditions,
      available
        ? {
            type: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
          }
        : {
            type: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
          },
      now,
    ),
    mergeCondition(
      old.conditions,
      complete
        ? {
            type: "Progressing",
            status: "True",
            reason: "NewReplicaSetAvailable",
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : {
            type: "Progressing",
            status: "True",
            reason: "ReplicaSetUpdated",
            message: `ReplicaSet "${rsName}" is progressing.`,
          },
      now,
    ),
  ];
  const status: Record<string, unknown> = { observedGeneration: deployment.metadata.generation ?? 1 };
  // Zero counts are omitted, as the Go types' omitempty does.
  if (replicas) status.replicas = replicas;
  if (updatedReplicas) status.updatedReplicas = updatedReplicas;
  if (readyReplicas) status.readyReplicas = readyReplicas;
  if (availableReplicas) status.availableReplicas = availableReplicas;
  if (unavailableReplicas) status.unavailableReplicas = unavailableReplicas;
  status.conditions = conditions;
  if (old.collisionCount) status.collisionCount = old.collisionCount;
  return status;
}

export function sameStatus(a: unknown, b: unknown): boolean {
  return deepEqual(a ?? {}, b ?? {});
}
