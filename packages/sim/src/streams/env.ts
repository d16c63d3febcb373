// The environment a container's processes see, computed the way the kubelet does (pkg/kubelet/kubelet_pods.go
// makeEnvironmentVariables): envFrom first, then env (which wins), `$(VAR)` references expanded against what came
// before, Secret data base64-decoded. Then the runtime's own: PATH, HOSTNAME, HOME, TERM for a tty.
//
// Failure stance: a missing Secret, ConfigMap or key leaves the variable out (the real kubelet would refuse to start
// the container, which the simulator does not model); it never invents a value.
import type { KubeObject, StreamContext } from "../contracts.ts";
import type { ContainerSpec, PodView } from "./pod.ts";

export interface EnvSources {
  secret(name: string): Record<string, string> | undefined;
  configMap(name: string): Record<string, string> | undefined;
}

/** Reads Secrets and ConfigMaps of the pod's namespace from the store; Secret values come out decoded. */
export function storeEnvSources(ctx: StreamContext, namespace: string): EnvSources {
  const read = (resource: string, name: string): KubeObject | undefined => {
    const type = ctx.types.find("", "v1", resource);
    return type ? ctx.store.get(type, namespace, name) : undefined;
  };
  return {
    secret(name) {
      const s = read("secrets", name);
      if (!s) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries((s.data ?? {}) as Record<string, string>)) {
        out[k] = Buffer.from(v, "base64").toString("utf8");
      }
      for (const [k, v] of Object.entries((s.stringData ?? {}) as Record<string, string>)) out[k] = v;
      return out;
    },
    configMap(name) {
      const c = read("configmaps", name);
      return c ? { ...((c.data ?? {}) as Record<string, string>) } : undefined;
    },
  };
}

function fieldValue(view: PodView, path: string | undefined): string | undefined {
  const status = (view.pod.status ?? {}) as { podIP?: string; hostIP?: string };
  const spec = (view.pod.spec ?? {}) as { nodeName?: string; serviceAccountName?: string };
  switch (path) {
    case "metadata.name":
      return view.name;
    case "metadata.namespace":
      return view.namespace;
    case "metadata.uid":
      return view.uid;
    case "status.podIP":
      return status.podIP ?? "";
    case "status.hostIP":
      return status.hostIP ?? "";
    case "spec.nodeName":
      return spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return spec.serviceAccountName ?? "default";
  }
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path ?? "");
  if (label) {
    const map = label[1] === "labels" ? view.pod.metadata.labels : view.pod.metadata.annotations;
    return map?.[label[2] as string] ?? "";
  }
  return undefined;
}

/** `$(NAME)` expands to an earlier variable; `$$(NAME)` escapes; unknown references stay as written. */
export function expandReferences(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === "$$") return "$";
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] as string) : whole;
  });
}

/** The container's declared environment (envFrom, then env), without the runtime's additions. */
export function containerEnv(
  view: PodView,
  container: ContainerSpec,
  sources: EnvSources,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const data = from.secretRef?.name
      ? sources.secret(from.secretRef.name)
      : from.configMapRef?.name
        ? sources.configMap(from.configMapRef.name)
        : undefined;
    for (const [k, v] of Object.entries(data ?? {})) env[`${from.prefix ?? ""}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    let value: string | undefined;
    const from = e.valueFrom;
    if (e.value !== undefined) value = expandReferences(e.value, env);
    else if (from?.secretKeyRef?.name && from.secretKeyRef.key) {
      value = sources.secret(from.secretKeyRef.name)?.[from.secretKeyRef.key];
    } else if (from?.configMapKeyRef?.name && from.configMapKeyRef.key) {
      value = sources.configMap(from.configMapKeyRef.name)?.[from.configMapKeyRef.key];
    } else if (from?.fieldRef) value = fieldValue(view, from.fieldRef.fieldPath);
    else if (!from) value = "";
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}

/** Everything a process in the container starts with. `hostPath` is the simulator's PATH, handed in by the caller. */
export function processEnv(
  view: PodView,
  container: ContainerSpec,
  sources: EnvSources,
  runtime: { hostPath: string; home: string; tty: boolean },
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: runtime.hostPath,
    HOSTNAME: view.name,
    HOME: runtime.home,
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    KUBERNETES_SERVICE_PORT: "443",
  };
  if (runtime.tty) env.TERM = "xterm";
  return { ...env, ...containerEnv(view, container, sources) };
}
