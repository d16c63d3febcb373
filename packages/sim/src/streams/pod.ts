// Looking up the pod and container a stream request names, with the errors kube-apiserver and the kubelet give:
// 404 for an unknown pod, 400 for a missing or unknown container and for a pod that is not running. Pure over the
// store (reads only); the caller turns a thrown StatusError into a response.

import type { KubeObject, ResourceType, StreamContext } from "../contracts.ts";
import { StatusError } from "../status.ts";

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: { containerPort?: number; name?: string; protocol?: string }[];
  stdin?: boolean;
  tty?: boolean;
  workingDir?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key?: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key?: string; optional?: boolean };
    fieldRef?: { fieldPath?: string };
  };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}

export interface PodView {
  pod: KubeObject;
  namespace: string;
  name: string;
  uid: string;
  containers: ContainerSpec[];
  initContainers: ContainerSpec[];
  phase: string;
  startTime: Date;
}

export function podType(ctx: StreamContext): ResourceType {
  const type = ctx.types.find("", "v1", "pods");
  if (!type) throw StatusError.of("InternalError", "the simulator serves no pods resource");
  return type;
}

export function viewPod(pod: KubeObject): PodView {
  const spec = (pod.spec ?? {}) as { containers?: ContainerSpec[]; initContainers?: ContainerSpec[] };
  const status = (pod.status ?? {}) as { phase?: string; startTime?: string };
  const started = status.startTime ?? pod.metadata.creationTimestamp;
  return {
    pod,
    namespace: pod.metadata.namespace ?? "",
    name: pod.metadata.name ?? "",
    uid: pod.metadata.uid ?? "",
    containers: spec.containers ?? [],
    initContainers: spec.initContainers ?? [],
    phase: status.phase ?? "Pending",
    startTime: started ? new Date(started) : new Date(0),
  };
}

export function findPod(ctx: StreamContext, namespace: string, name: string): PodView {
  const pod = ctx.store.get(podType(ctx), namespace, name);
  if (!pod) throw StatusError.of("NotFound", `pods "${name}" not found`, { name, kind: "pods" });
  return viewPod(pod);
}

const names = (cs: ContainerSpec[]) => cs.map((c) => c.name).join(" ");

/** kube-apiserver's container defaulting (pkg/registry/core/pod/strategy.go): the only one, or name it. */
export function chooseContainer(view: PodView, requested: string | null): ContainerSpec {
  if (!requested) {
    const only = view.containers.length === 1 ? view.containers[0] : undefined;
    if (only) return only;
    let message = `a container name must be specified for pod ${view.name}`;
    if (view.containers.length > 1) {
      message += `, choose one of: [${names(view.containers)}]`;
      if (view.initContainers.length > 0)
        message += ` or one of the init containers: [${names(view.initContainers)}]`;
    }
    throw StatusError.of("BadRequest", message);
  }
  const found = [...view.containers, ...view.initContainers].find((c) => c.name === requested);
  if (!found) throw StatusError.of("BadRequest", `container ${requested} is not valid for pod ${view.name}`);
  return found;
}

/** Exec, attach and port-forward need a running pod, as the kubelet does. */
export function requireRunning(
  view: PodView,
  container: string | undefined,
  action: "exec" | "attach" | "logs",
) {
  if (view.phase === "Running") return;
  if (view.phase === "Succeeded" || view.phase === "Failed") {
    const what = action === "logs" ? "read logs of" : `${action} into`;
    throw StatusError.of(
      "BadRequest",
      `cannot ${what} a container in a completed pod; current phase is ${view.phase}`,
    );
  }
  const who = container ? `container "${container}" in pod "${view.name}"` : `pod "${view.name}"`;
  throw StatusError.of("BadRequest", `${who} is waiting to start: ContainerCreating`);
}

/** True for a query flag kube treats as set (`true`/`1`). */
export function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v === "true" || v === "1" || v === "True";
}
