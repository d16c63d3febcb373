// The built-in category `credentials`: requests that mint a cluster credential or widen privileges — a path around
// Airlock itself (a token the agent then uses directly, a binding to cluster-admin, a pod that runs as another
// ServiceAccount). Pure: the request (and the resulting object when one is known) in, the findings out.
//
// A request in the category is allowed only by an allow or review rule that names every class it falls in
// (`credentials: [tokens]`), or, for a binding, lists its roleRef in `bindableRoles:`; `verbs: ["*"]` and
// `resources: ["*"]` never cover it (evaluate.ts). docs/policy.md "The credentials category" is the reference.
//
// Fail closed: a write to one of these kinds whose body cannot be read (absent, binary) counts as in the category, and
// a patch is judged on the object it results in when that is known, else on what the patch document could change: a
// merge-style patch (JSON merge, strategic merge, apply) is read as the partial object it merges in (every sensitive
// value it adds is in it), and a JSON patch that touches any sensitive path counts as in the category.
import type { KubeRequest } from "../kube/request.ts";

export const CREDENTIAL_CLASSES = [
  "tokens",
  "certificates",
  "bindings",
  "escalating-roles",
  "workload-identity",
  "host-access",
  "ephemeral-containers",
  "node-proxy",
  "admission",
] as const;
export type CredentialClass = (typeof CREDENTIAL_CLASSES)[number];

export interface RoleRef {
  kind: string;
  name: string;
}

export interface CredentialFinding {
  class: CredentialClass;
  /** What the request does, in words (for the refusal message). */
  reason: string;
  /** bindings: the role the binding grants, when it can be known; undefined = unknown (never bindable). */
  roleRef?: RoleRef;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const WRITES = new Set(["create", "update", "patch"]);
const RBAC = "rbac.authorization.k8s.io";
export const SA_TOKEN_TYPE = "kubernetes.io/service-account-token";
const SA_NAME_ANNOTATION = "kubernetes.io/service-account.name";
const AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-";
/** Verbs a Role may grant that let the holder rise above what it has. */
const ESCALATING_VERBS = new Set(["escalate", "bind", "impersonate", "approve", "sign", "*"]);
/** Resources on which `*` verbs (or any verb) hand out identities or credentials. */
const CREDENTIAL_RESOURCES = new Set([
  "*",
  "roles",
  "clusterroles",
  "rolebindings",
  "clusterrolebindings",
  "users",
  "groups",
  "serviceaccounts",
  "serviceaccounts/*",
  "serviceaccounts/token",
  "userextras/*",
  "uids",
  "certificatesigningrequests/approval",
  "signers",
  "nodes/proxy",
  "nodes/*",
  "pods/ephemeralcontainers",
  "validatingwebhookconfigurations",
  "mutatingwebhookconfigurations",
  "validatingadmissionpolicies",
  "validatingadmissionpolicybindings",
]);
const DANGEROUS_CAPABILITIES = new Set([
  "ALL",
  "SYS_ADMIN",
  "SYS_PTRACE",
  "SYS_MODULE",
  "SYS_RAWIO",
  "NET_ADMIN",
  "DAC_READ_SEARCH",
  "BPF",
  "PERFMON",
]);

/** Where the pod spec sits in each workload kind (resource → path). */
const POD_SPEC_PATHS: Record<string, string[]> = {
  "/pods": ["spec"],
  "/replicationcontrollers": ["spec", "template", "spec"],
  "/podtemplates": ["template", "spec"],
  "apps/deployments": ["spec", "template", "spec"],
  "apps/replicasets": ["spec", "template", "spec"],
  "apps/statefulsets": ["spec", "template", "spec"],
  "apps/daemonsets": ["spec", "template", "spec"],
  "batch/jobs": ["spec", "template", "spec"],
  "batch/cronjobs": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/**
 * The classes of the `credentials` category a request falls in (empty: not in the category). `resulting` is the
 * object a write results in, when the gateway learnt it (server-side dry run); otherwise patches are judged on their
 * document.
 */
export function credentialFindings(kube: KubeRequest, resulting?: unknown): CredentialFinding[] {
  const { info, action } = kube;
  if (!info.isResourceRequest) return [];
  const group = info.apiGroup;
  const { resource, subresource } = info;
  const key = `${group}/${resource}`;
  const write = WRITES.has(action);

  if (key === "/nodes" && subresource === "proxy") {
    return [
      { class: "node-proxy", reason: "nodes/proxy reaches the kubelet API (exec, logs, pods of the node)" },
    ];
  }
  if (key === "/serviceaccounts" && subresource === "token") {
    return [
      { class: "tokens", reason: "serviceaccounts/token mints a service-account token (TokenRequest)" },
    ];
  }
  if (key === "certificates.k8s.io/certificatesigningrequests" && write) {
    const what = subresource ? `certificatesigningrequests/${subresource}` : "a CertificateSigningRequest";
    return [{ class: "certificates", reason: `${what} can issue a client certificate for the cluster` }];
  }
  if (
    group === "admissionregistration.k8s.io" &&
    (write || action === "delete" || action === "deletecollection")
  ) {
    return [{ class: "admission", reason: `${resource} change what the cluster admits (or lets through)` }];
  }
  if (key === "/pods" && subresource === "ephemeralcontainers" && write) {
    return [
      { class: "ephemeral-containers", reason: "pods/ephemeralcontainers adds a container to a running pod" },
    ];
  }
  if (!write || subresource !== "") return [];

  // `null`: the write leaves no object behind (a described request that states none).
  if (resulting === null) return [];
  const view = objectView(kube, resulting);
  if (key === "/secrets") return secretFindings(view);
  if (group === RBAC && (resource === "rolebindings" || resource === "clusterrolebindings")) {
    return bindingFindings(view, resource === "rolebindings");
  }
  if (group === RBAC && (resource === "roles" || resource === "clusterroles")) return roleFindings(view);
  const podPath = POD_SPEC_PATHS[key];
  if (podPath) return podFindings(view, podPath);
  if (key === "/persistentvolumes") return volumeFindings(view);
  return [];
}

/**
 * Whether judging this write needs the object it results in (server-side dry run): a patch, or a body the gateway
 * cannot read (protobuf), to a kind whose content decides the category.
 */
export function credentialsNeedResult(kube: KubeRequest): boolean {
  const { info, action } = kube;
  if (!info.isResourceRequest || !WRITES.has(action) || info.subresource !== "") return false;
  if (action !== "patch" && isObj(kube.body)) return false;
  return JUDGED_ON_CONTENT.has(`${info.apiGroup}/${info.resource}`);
}

/** The kinds whose written content decides the category (credentialFindings reads their objects). */
const JUDGED_ON_CONTENT = new Set([
  "/secrets",
  "/persistentvolumes",
  ...["roles", "clusterroles", "rolebindings", "clusterrolebindings"].map((r) => `${RBAC}/${r}`),
  ...Object.keys(POD_SPEC_PATHS),
]);

/** How the written object can be known: the whole object, a partial one (merge-style patch), or only touched paths. */
type ObjectView =
  | { kind: "object"; object: Obj; partial: boolean }
  | { kind: "paths"; paths: string[][] }
  | { kind: "unknown" };

function objectView(kube: KubeRequest, resulting: unknown): ObjectView {
  if (isObj(resulting)) return { kind: "object", object: resulting, partial: false };
  const body = kube.body;
  if (kube.action === "patch") {
    if (Array.isArray(body)) {
      const paths: string[][] = [];
      for (const op of body) {
        if (!isObj(op) || typeof op.path !== "string") return { kind: "unknown" };
        paths.push(pointer(op.path));
        if (typeof op.from === "string") paths.push(pointer(op.from));
      }
      return { kind: "paths", paths };
    }
    return isObj(body) ? { kind: "object", object: body, partial: true } : { kind: "unknown" };
  }
  return isObj(body) ? { kind: "object", object: body, partial: false } : { kind: "unknown" };
}

function pointer(p: string): string[] {
  return p
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** True when a JSON patch path and a sensitive path overlap (one is a prefix of the other). */
function touches(paths: string[][], sensitive: string[][]): boolean {
  return paths.some((p) =>
    sensitive.some((s) => {
      const n = Math.min(p.length, s.length);
      for (let i = 0; i < n; i++) if (s[i] !== "*" && p[i] !== s[i]) return false;
      return true;
    }),
  );
}

function get(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function unknownBody(cls: CredentialClass, what: string): CredentialFinding[] {
  return [
    { class: cls, reason: `${what}: the gateway cannot tell what it changes, so it counts as sensitive` },
  ];
}

function secretFindings(view: ObjectView): CredentialFinding[] {
  const reason = `a Secret of type ${SA_TOKEN_TYPE} is filled with a service-account token`;
  if (view.kind === "unknown") return unknownBody("tokens", "a Secret write without a readable body");
  if (view.kind === "paths") {
    const hit = touches(view.paths, [["type"], ["metadata", "annotations", SA_NAME_ANNOTATION]]);
    return hit ? [{ class: "tokens", reason }] : [];
  }
  const o = view.object;
  const annotations = get(o, "metadata", "annotations");
  const named = isObj(annotations) && annotations[SA_NAME_ANNOTATION] != null;
  // `$patch: replace` and friends in a strategic merge patch: fail closed.
  if (o.type === SA_TOKEN_TYPE || named || (view.partial && hasDirective(o, 3))) {
    return [{ class: "tokens", reason }];
  }
  return [];
}

function hasDirective(o: unknown, depth: number): boolean {
  if (depth < 0 || !isObj(o)) return false;
  for (const [k, v] of Object.entries(o)) if (k.startsWith("$") || hasDirective(v, depth - 1)) return true;
  return false;
}

function bindingFindings(view: ObjectView, namespaced: boolean): CredentialFinding[] {
  const kind = namespaced ? "RoleBinding" : "ClusterRoleBinding";
  if (view.kind === "unknown") return unknownBody("bindings", `a ${kind} write without a readable body`);
  if (view.kind === "paths") {
    return touches(view.paths, [["roleRef"], ["subjects"]])
      ? [{ class: "bindings", reason: `a ${kind} patch changes who holds a role the gateway cannot see` }]
      : [];
  }
  const ref = get(view.object, "roleRef");
  const refKind = get(ref, "kind");
  const refName = get(ref, "name");
  if (typeof refKind === "string" && typeof refName === "string") {
    return [
      {
        class: "bindings",
        reason: `a ${kind} grants ${refKind} "${refName}"`,
        roleRef: { kind: refKind, name: refName },
      },
    ];
  }
  // roleRef is immutable, so a patch that leaves it out binds whatever role the stored binding names.
  if (view.partial && get(view.object, "subjects") === undefined && !hasDirective(view.object, 1)) return [];
  return [{ class: "bindings", reason: `a ${kind} grants a role the gateway cannot see` }];
}

function roleFindings(view: ObjectView): CredentialFinding[] {
  if (view.kind === "unknown") return unknownBody("escalating-roles", "a Role write without a readable body");
  if (view.kind === "paths") {
    return touches(view.paths, [["rules"], ["aggregationRule"], ["metadata", "labels"]])
      ? [{ class: "escalating-roles", reason: "a JSON patch changes a Role's rules, labels or aggregation" }]
      : [];
  }
  const o = view.object;
  const reasons: string[] = [];
  if (get(o, "aggregationRule") != null) reasons.push("aggregates other ClusterRoles (aggregationRule)");
  const labels = get(o, "metadata", "labels");
  if (isObj(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      if (k.startsWith(AGGREGATE_LABEL) && v != null) reasons.push(`adds its rules to another role (${k})`);
    }
  }
  const rules = get(o, "rules");
  if (Array.isArray(rules)) {
    for (const r of rules) {
      const verbs = stringList(get(r, "verbs"));
      const resources = stringList(get(r, "resources"));
      const special = verbs.filter((v) => ESCALATING_VERBS.has(v) && v !== "*");
      if (special.length) reasons.push(`grants ${special.join(", ")}`);
      else if (verbs.includes("*") && resources.some((x) => CREDENTIAL_RESOURCES.has(x)))
        reasons.push(`grants every verb on ${resources.join(", ")}`);
      else if (resources.some((x) => x !== "*" && x.includes("/") && CREDENTIAL_RESOURCES.has(x)))
        reasons.push(`grants ${resources.filter((x) => CREDENTIAL_RESOURCES.has(x)).join(", ")}`);
      else if (
        resources.some((x) => x === "*" || x.startsWith("*/")) &&
        coreGroup(stringList(get(r, "apiGroups")))
      )
        // RBAC's `*` (and `*/sub`) covers every resource and subresource of the group: serviceaccounts/token,
        // nodes/proxy, pods/ephemeralcontainers — whatever the verb, it reaches one of them.
        reasons.push(`grants ${verbs.join(", ")} on every core resource (${resources.join(", ")})`);
    }
  } else if (rules !== undefined && rules !== null) reasons.push("has rules the gateway cannot read");
  if (view.partial && hasDirective(o, 2))
    reasons.push("a patch directive ($patch) the gateway does not resolve");
  return reasons.length ? [{ class: "escalating-roles", reason: `a role that ${reasons.join("; ")}` }] : [];
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function podFindings(view: ObjectView, specPath: string[]): CredentialFinding[] {
  if (view.kind === "unknown") {
    return [
      ...unknownBody("workload-identity", "a workload write without a readable body"),
      ...unknownBody("host-access", "a workload write without a readable body"),
    ];
  }
  if (view.kind === "paths") {
    if (!touches(view.paths, [specPath])) return [];
    const reason = "a JSON patch changes the pod spec, which the gateway judges only as a whole";
    return [
      { class: "workload-identity", reason },
      { class: "host-access", reason },
    ];
  }
  const spec = get(view.object, ...specPath);
  if (spec === undefined || spec === null) return [];
  if (!isObj(spec)) return unknownBody("host-access", "a pod spec that is not an object");
  const out: CredentialFinding[] = [];
  const sa = spec.serviceAccountName ?? spec.serviceAccount;
  if (sa != null && sa !== "default") {
    out.push({ class: "workload-identity", reason: `the pod runs as ServiceAccount ${JSON.stringify(sa)}` });
  }
  if (spec.automountServiceAccountToken === true) {
    out.push({
      class: "workload-identity",
      reason: "the pod mounts a service-account token (automountServiceAccountToken)",
    });
  }
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  if (volumes.some(projectsToken)) {
    out.push({ class: "workload-identity", reason: "a projected volume carries a service-account token" });
  }
  const host: string[] = [];
  for (const f of ["hostNetwork", "hostPID", "hostIPC"] as const)
    if (spec[f] === true) host.push(`${f}: true`);
  if (volumes.some((v) => get(v, "hostPath") != null)) host.push("a hostPath volume");
  for (const list of ["containers", "initContainers", "ephemeralContainers"]) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      const sc = get(c, "securityContext");
      if (get(sc, "privileged") === true)
        host.push(`privileged container ${JSON.stringify(get(c, "name") ?? "")}`);
      const add = stringList(get(sc, "capabilities", "add"));
      const bad = add.filter((cap) => DANGEROUS_CAPABILITIES.has(cap.toUpperCase().replace(/^CAP_/, "")));
      if (bad.length) host.push(`capabilities ${bad.join(", ")}`);
    }
  }
  if (host.length) out.push({ class: "host-access", reason: `the pod reaches the node: ${host.join(", ")}` });
  if (view.partial && hasDirective(spec, 3)) {
    out.push({ class: "host-access", reason: "a patch directive ($patch) the gateway does not resolve" });
  }
  return out;
}

/**
 * A PersistentVolume whose source is a directory of a node (`hostPath`, `local`): any pod that claims it reads and
 * writes the node's files, so creating one is host access whoever mounts it later.
 */
function volumeFindings(view: ObjectView): CredentialFinding[] {
  const reason = "a PersistentVolume backed by a node's filesystem (hostPath or local)";
  if (view.kind === "unknown")
    return unknownBody("host-access", "a PersistentVolume write without a readable body");
  if (view.kind === "paths") {
    return touches(view.paths, [["spec"]])
      ? [{ class: "host-access", reason: "a JSON patch changes a PersistentVolume's source" }]
      : [];
  }
  const spec = get(view.object, "spec");
  if (get(spec, "hostPath") != null || get(spec, "local") != null) return [{ class: "host-access", reason }];
  if (view.partial && hasDirective(spec, 2)) {
    return [{ class: "host-access", reason: "a patch directive ($patch) the gateway does not resolve" }];
  }
  return [];
}

function projectsToken(volume: unknown): boolean {
  const sources = get(volume, "projected", "sources");
  return Array.isArray(sources) && sources.some((s) => get(s, "serviceAccountToken") != null);
}

/** The core API group ("") or every group: where serviceaccounts/token, nodes/proxy and the pod subresources live. */
function coreGroup(groups: readonly string[]): boolean {
  return groups.length === 0 || groups.includes("") || groups.includes("*");
}
