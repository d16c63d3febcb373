// The scheduler and the kubelet of the one simulated node: every pod is bound to sim-node-1 and reported Running with
// an address, ready containers and the Scheduled/Pulled/Created/Started events. Pods owned by a Job then "exit 0".
// A pod being deleted with no finalizers left is removed at once — there are no real processes to wait for.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, NODE_IP, NODE_NAME } from "./context.ts";
import type { IpPool } from "./ipam.ts";
import { podPhase, runningStatus, succeededStatus } from "./podspec.ts";

/** How long a Job's pod "runs" before it succeeds: long enough to be seen Running, short enough for tests. */
export const JOB_POD_RUN_MS = 5;

export function reconcilePod(ctx: ControllerContext, podIps: IpPool, namespace: string, name: string): void {
  const podType = ctx.type("", "v1", "pods");
  if (!podType) return;
  const pod = ctx.store.get(podType, namespace, name);
  if (!pod) return;
  if (pod.metadata.deletionTimestamp) {
    if ((pod.metadata.finalizers ?? []).length === 0) ctx.store.remove(podType, namespace, name);
    return;
  }
  const phase = podPhase(pod);
  if (phase === "Succeeded" || phase === "Failed") return;
  const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: { name?: string; image?: string }[] };

  if (phase === "Running") {
    if (ownedByJob(pod)) {
      ctx.queue.addAfter(`pod-exit|${namespace}/${name}`, JOB_POD_RUN_MS, () =>
        completePod(ctx, namespace, name),
      );
    }
    return;
  }

  const scheduled = !!spec.nodeName;
  const next: KubeObject = structuredClone(pod);
  (next.spec as Record<string, unknown>).nodeName = spec.nodeName || NODE_NAME;
  const existingIp = (pod.status as { podIP?: string } | undefined)?.podIP;
  const podIP = (pod.spec as { hostNetwork?: boolean }).hostNetwork
    ? NODE_IP
    : (existingIp ?? podIps.allocate());
  next.status = runningStatus(next, { podIP, hostIP: NODE_IP }, ctx.now());
  ctx.store.update(podType, next);

  if (!scheduled) {
    ctx.events.record(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${namespace}/${name} to ${NODE_NAME}`,
      "default-scheduler",
    );
  }
  for (const c of spec.containers ?? []) {
    ctx.events.record(
      pod,
      "Normal",
      "Pulled",
      `Container image "${c.image}" already present on machine`,
      "kubelet",
    );
    ctx.events.record(pod, "Normal", "Created", `Created container: ${c.name}`, "kubelet");
    ctx.events.record(pod, "Normal", "Started", `Started container ${c.name}`, "kubelet");
  }
}

function ownedByJob(pod: KubeObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === "Job");
}

function completePod(ctx: ControllerContext, namespace: string, name: string): void {
  const podType = ctx.type("", "v1", "pods");
  if (!podType) return;
  const pod = ctx.store.get(podType, namespace, name);
  if (!pod || pod.metadata.deletionTimestamp || podPhase(pod) !== "Running") return;
  ctx.store.update(podType, {
    ...pod,
    status: succeededStatus((pod.status ?? {}) as Record<string, unknown>, ctx.now()),
  });
}
