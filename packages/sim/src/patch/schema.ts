// The little of the Kubernetes OpenAPI schema that patching needs: which lists are merged by a key (and by which),
// which primitive lists are sets, and which kinds are built in (strategic merge patch applies) at all.
//
// Every list not named here is atomic: a patch or an apply replaces it whole. That is the safe default: it can only
// lose a merge the real apiserver would do, never invent one.

/** How a list at a given path is merged. */
export type ListStrategy = { type: "map"; key: string } | { type: "set" } | { type: "atomic" };

/** Kinds compiled into kubectl and the apiserver: strategic merge patch knows their schema. */
const BUILT_IN_KINDS = new Set([
  "Pod",
  "PodTemplate",
  "Deployment",
  "ReplicaSet",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "ReplicationController",
  "Service",
  "Endpoints",
  "ConfigMap",
  "Secret",
  "Namespace",
  "Node",
  "ServiceAccount",
  "Event",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "LimitRange",
  "ResourceQuota",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
  "Ingress",
  "IngressClass",
  "NetworkPolicy",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  "StorageClass",
  "PriorityClass",
  "Lease",
  "CustomResourceDefinition",
  "EndpointSlice",
]);

export function isBuiltInKind(kind: string): boolean {
  return BUILT_IN_KINDS.has(kind);
}

const POD_SPEC_LISTS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  schedulingGates: "name",
  resourceClaims: "name",
};
const CONTAINER_LISTS: Record<string, string> = {
  env: "name",
  ports: "containerPort",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  resizePolicy: "resourceName",
};
const CONTAINER_FIELDS = new Set(["containers", "initContainers", "ephemeralContainers"]);

/**
 * The strategy for the list at `path` (field names only, list positions left out) in an object of `kind`.
 * E.g. ["spec", "template", "spec", "containers", "env"] in a Deployment → merged by "name".
 */
export function listStrategy(kind: string, path: readonly string[]): ListStrategy {
  if (!isBuiltInKind(kind)) return { type: "atomic" };
  const field = path[path.length - 1] ?? "";
  const parent = path[path.length - 2] ?? "";
  if (path.length === 2 && path[0] === "metadata") {
    if (field === "ownerReferences") return { type: "map", key: "uid" };
    if (field === "finalizers") return { type: "set" };
    return { type: "atomic" };
  }
  if (CONTAINER_FIELDS.has(parent) && CONTAINER_LISTS[field])
    return { type: "map", key: CONTAINER_LISTS[field] };
  if (parent === "spec" && POD_SPEC_LISTS[field] && isPodSpecPath(kind, path)) {
    return { type: "map", key: POD_SPEC_LISTS[field] };
  }
  if (kind === "Service" && path.length === 2 && path[0] === "spec" && field === "ports") {
    return { type: "map", key: "port" };
  }
  if (parent === "status" && field === "conditions") return { type: "map", key: "type" };
  if (kind === "Node" && parent === "status" && field === "addresses") return { type: "map", key: "type" };
  return { type: "atomic" };
}

/** Whether the "spec" that ends `path` (minus its last field) is a PodSpec in this kind. */
function isPodSpecPath(kind: string, path: readonly string[]): boolean {
  const at = path.slice(0, -1).join(".");
  if (kind === "Pod") return at === "spec";
  if (kind === "CronJob") return at === "spec.jobTemplate.spec.template.spec";
  return at === "spec.template.spec" || at === "template.spec";
}
