// Which API resource a tool argument names ("pods", "deploy", "deployments.apps", "Deployment") and the request path
// of an object of it. Common built-in resources are known without a round trip; anything else (CRDs) is looked up in
// the cluster's aggregated discovery, which is itself a request through the pipeline as the caller.
//
// Security stance: names and namespaces are checked against Kubernetes' own syntax before they become path segments,
// so a tool argument can never smuggle a "/", "..", a query or an encoded character into the request path.

export interface ResourceType {
  group: string;
  version: string;
  /** The plural resource name, as in paths and policy rules. */
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
}

const ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const R = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
): ResourceType => ({ group, version, resource, kind, namespaced, shortNames, verbs: ALL });

export const BUILTIN_RESOURCES: ResourceType[] = [
  R("", "v1", "pods", "Pod", true, ["po"]),
  R("", "v1", "services", "Service", true, ["svc"]),
  R("", "v1", "configmaps", "ConfigMap", true, ["cm"]),
  R("", "v1", "secrets", "Secret", true),
  R("", "v1", "namespaces", "Namespace", false, ["ns"]),
  R("", "v1", "nodes", "Node", false, ["no"]),
  R("", "v1", "events", "Event", true, ["ev"]),
  R("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"]),
  R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, ["pvc"]),
  R("", "v1", "persistentvolumes", "PersistentVolume", false, ["pv"]),
  R("", "v1", "endpoints", "Endpoints", true, ["ep"]),
  R("", "v1", "limitranges", "LimitRange", true, ["limits"]),
  R("", "v1", "resourcequotas", "ResourceQuota", true, ["quota"]),
  R("apps", "v1", "deployments", "Deployment", true, ["deploy"]),
  R("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"]),
  R("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"]),
  R("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"]),
  R("batch", "v1", "jobs", "Job", true),
  R("batch", "v1", "cronjobs", "CronJob", true, ["cj"]),
  R("networking.k8s.io", "v1", "ingresses", "Ingress", true, ["ing"]),
  R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, ["netpol"]),
  R("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
  R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
  R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
  R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
  R("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, ["hpa"]),
  R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"]),
];

/** Finds `name` among `types`: plural, singular (kind), short name, or `<plural>.<group>`; case-insensitive. */
export function findResource(types: ResourceType[], name: string): ResourceType | undefined {
  const wanted = name.trim().toLowerCase();
  const dot = wanted.indexOf(".");
  const [base, group] = dot > 0 ? [wanted.slice(0, dot), wanted.slice(dot + 1)] : [wanted, undefined];
  const matches = (t: ResourceType) =>
    (group === undefined || t.group === group) &&
    (t.resource === base || t.kind.toLowerCase() === base || t.shortNames.includes(base));
  // The core and well-known groups win over a CRD that reuses a short name, as kubectl's priority does.
  return types.find(matches);
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Object names of most kinds are subdomains; a few kinds (RBAC) allow more, but never "/" or "%" or "..".
const OBJECT_NAME = /^[A-Za-z0-9]([-A-Za-z0-9._:@]{0,251}[A-Za-z0-9])?$/;

export function checkName(name: string): string | undefined {
  if (!OBJECT_NAME.test(name) || name.includes(".."))
    return `"${name}" is not a valid object name (letters, digits, '-', '.', ':' or '@', at most 253)`;
  return undefined;
}

export function checkNamespace(namespace: string): string | undefined {
  return DNS_LABEL.test(namespace) ? undefined : `"${namespace}" is not a valid namespace name`;
}

export function checkCluster(cluster: string): string | undefined {
  return DNS_SUBDOMAIN.test(cluster) ? undefined : `"${cluster}" is not a valid cluster name`;
}

export interface ObjectRef {
  cluster?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** The request path of a collection or object; throws on a name that is not a valid path segment. */
export function resourcePath(t: ResourceType, ref: ObjectRef = {}): string {
  for (const problem of [
    ref.cluster ? checkCluster(ref.cluster) : undefined,
    ref.namespace ? checkNamespace(ref.namespace) : undefined,
    ref.name ? checkName(ref.name) : undefined,
  ]) {
    if (problem) throw new Error(problem);
  }
  const prefix = ref.cluster ? `/k8s/${ref.cluster}` : "";
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const ns = t.namespaced && ref.namespace ? `/namespaces/${ref.namespace}` : "";
  const name = ref.name ? `/${ref.name}` : "";
  const sub = ref.name && ref.subresource ? `/${ref.subresource}` : "";
  return `${prefix}${base}${ns}/${t.resource}${name}${sub}`;
}

interface DiscoveryResource {
  resource: string;
  responseKind?: { kind?: string };
  scope?: string;
  shortNames?: string[];
  verbs?: string[];
}
interface DiscoveryGroup {
  metadata?: { name?: string };
  versions?: { version: string; resources?: DiscoveryResource[] }[];
}

/** The resource types of an aggregated discovery document (APIGroupDiscoveryList), preferred version first. */
export function fromAggregatedDiscovery(doc: unknown): ResourceType[] {
  const items = ((doc as { items?: DiscoveryGroup[] })?.items ?? []) as DiscoveryGroup[];
  const out: ResourceType[] = [];
  for (const g of items) {
    const group = g.metadata?.name ?? "";
    const preferred = g.versions?.[0];
    if (!preferred) continue;
    for (const r of preferred.resources ?? []) {
      out.push({
        group,
        version: preferred.version,
        resource: r.resource,
        kind: r.responseKind?.kind ?? "",
        namespaced: r.scope === "Namespaced",
        shortNames: r.shortNames ?? [],
        verbs: r.verbs ?? [],
      });
    }
  }
  return out;
}
