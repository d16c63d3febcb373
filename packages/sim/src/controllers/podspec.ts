// Building pods from a workload's template, with the defaults kube-apiserver would have filled in on a create, and
// the status a kubelet reports once the containers run. Pure: names, addresses and times are passed in.
//
// The template's containers are copied as they are — env, ports, command — because exec and the gateway's masking
// read them later; defaulting only adds fields that are absent.
import { createHash } from "node:crypto";
import type { KubeObject, ObjectMeta } from "../contracts.ts";

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
}

type Container = Record<string, unknown> & { name?: string; image?: string };

function defaultContainer(c: Container): Container {
  const image = c.image ?? "";
  const tag = image.includes("@") ? "digest" : (image.split("/").pop() ?? "").split(":")[1];
  return {
    ...c,
    imagePullPolicy: c.imagePullPolicy ?? (tag === undefined || tag === "latest" ? "Always" : "IfNotPresent"),
    resources: c.resources ?? {},
    terminationMessagePath: c.terminationMessagePath ?? "/dev/termination-log",
    terminationMessagePolicy: c.terminationMessagePolicy ?? "File",
  };
}

/** A pod spec with the API server's defaults for fields the template left out. */
export function defaultPodSpec(spec: Record<string, unknown> | undefined): Record<string, unknown> {
  const s = structuredClone(spec ?? {});
  const containers = ((s.containers as Container[] | undefined) ?? []).map(defaultContainer);
  const out: Record<string, unknown> = {
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 30,
    dnsPolicy: "ClusterFirst",
    serviceAccountName:
      (s.serviceAccountName as string | undefined) ?? (s.serviceAccount as string) ?? "default",
    securityContext: {},
    schedulerName: "default-scheduler",
    enableServiceLinks: true,
    preemptionPolicy: "PreemptLowerPriority",
    priority: 0,
    tolerations: [
      {
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
      {
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
    ],
    ...s,
    containers,
  };
  out.serviceAccount = out.serviceAccountName;
  if (Array.isArray(s.initContainers))
    out.initContainers = (s.initContainers as Container[]).map(defaultContainer);
  return out;
}

/** A new pod from a template: labels and annotations from the template, plus the caller's extra labels. */
export function podFromTemplate(
  template: PodTemplate | undefined,
  meta: { name: string; namespace: string; labels?: Record<string, string> },
  owner: KubeObject["metadata"]["ownerReferences"],
  extraSpec: Record<string, unknown> = {},
): KubeObject {
  const t = template ?? {};
  const metadata: ObjectMeta = {
    name: meta.name,
    namespace: meta.namespace,
    labels: { ...(t.metadata?.labels ?? {}), ...(meta.labels ?? {}) },
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  if (owner) metadata.ownerReferences = owner;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: { ...defaultPodSpec(t.spec), ...extraSpec },
    status: { phase: "Pending", qosClass: qosClass(t.spec) },
  };
}

/** Guaranteed when every container sets equal limits and requests for cpu and memory; BestEffort when none set any. */
export function qosClass(spec: Record<string, unknown> | undefined): string {
  const containers = (spec?.containers as Container[] | undefined) ?? [];
  type Res = { requests?: Record<string, string>; limits?: Record<string, string> };
  const res = containers.map((c) => (c.resources ?? {}) as Res);
  const any = res.some((r) => Object.keys(r.requests ?? {}).length + Object.keys(r.limits ?? {}).length > 0);
  if (!any) return "BestEffort";
  const guaranteed = res.every((r) =>
    ["cpu", "memory"].every((k) => r.limits?.[k] && (r.requests?.[k] ?? r.limits[k]) === r.limits[k]),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The fully qualified image reference a container runtime reports (`docker.io/library/nginx:1.27`). */
export function qualifiedImage(image: string): string {
  const first = image.split("/")[0] ?? "";
  const hasRegistry =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return image;
  return image.includes("/") ? `docker.io/${image}` : `docker.io/library/${image}`;
}

function condition(type: string, status: string, time: string, reason?: string): Record<string, unknown> {
  return { type, status, lastProbeTime: null, lastTransitionTime: time, ...(reason ? { reason } : {}) };
}

/** The status a kubelet reports for a pod whose containers all started (phase Running, all ready). */
export function runningStatus(pod: KubeObject, ip: { podIP: string; hostIP: string }, time: string) {
  const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  const containerStatus = (c: Container, state: Record<string, unknown>, ready: boolean) => ({
    name: c.name,
    state,
    lastState: {},
    ready,
    restartCount: 0,
    image: qualifiedImage(c.image ?? ""),
    imageID: `${qualifiedImage(c.image ?? "").replace(/:[^:/@]+$/, "")}@sha256:${sha256(c.image ?? "")}`,
    containerID: `containerd://${sha256(`${pod.metadata.uid}/${c.name}`)}`,
    started: ready,
  });
  const status: Record<string, unknown> = {
    phase: "Running",
    conditions: [
      condition("PodReadyToStartContainers", "True", time),
      condition("Initialized", "True", time),
      condition("Ready", "True", time),
      condition("ContainersReady", "True", time),
      condition("PodScheduled", "True", time),
    ],
    hostIP: ip.hostIP,
    hostIPs: [{ ip: ip.hostIP }],
    podIP: ip.podIP,
    podIPs: [{ ip: ip.podIP }],
    startTime: time,
    containerStatuses: (spec.containers ?? []).map((c) =>
      containerStatus(c, { running: { startedAt: time } }, true),
    ),
    qosClass: qosClass(pod.spec as Record<string, unknown>),
  };
  if (spec.initContainers?.length) {
    status.initContainerStatuses = spec.initContainers.map((c) => ({
      ...containerStatus(
        c,
        {
          terminated: {
            exitCode: 0,
            reason: "Completed",
            startedAt: time,
            finishedAt: time,
            containerID: "",
          },
        },
        false,
      ),
      started: false,
    }));
  }
  return status;
}

/** A run-to-completion pod's status once its containers exited 0 (phase Succeeded). */
export function succeededStatus(running: Record<string, unknown>, time: string) {
  const statuses = (running.containerStatuses as Record<string, unknown>[] | undefined) ?? [];
  const conditions = (running.conditions as Record<string, unknown>[] | undefined) ?? [];
  return {
    ...running,
    phase: "Succeeded",
    conditions: conditions.map((c) =>
      c.type === "Ready" || c.type === "ContainersReady" || c.type === "PodReadyToStartContainers"
        ? {
            ...c,
            status: "False",
            lastTransitionTime: time,
            ...(c.type !== "PodReadyToStartContainers" ? { reason: "PodCompleted" } : {}),
          }
        : c,
    ),
    containerStatuses: statuses.map((cs) => {
      const startedAt =
        (cs.state as { running?: { startedAt?: string } } | undefined)?.running?.startedAt ?? time;
      return {
        ...cs,
        ready: false,
        started: false,
        state: {
          terminated: {
            exitCode: 0,
            reason: "Completed",
            startedAt,
            finishedAt: time,
            containerID: cs.containerID,
          },
        },
      };
    }),
  };
}

export function isPodReady(pod: KubeObject): boolean {
  const status = pod.status as
    | { phase?: string; conditions?: { type: string; status: string }[] }
    | undefined;
  return (
    status?.phase === "Running" && !!status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
  );
}

export function podPhase(pod: KubeObject): string {
  return (pod.status as { phase?: string } | undefined)?.phase ?? "Pending";
}

/** Counted by workload controllers: not being deleted and not finished. */
export function isActivePod(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return !pod.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}
