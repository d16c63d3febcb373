// RBAC rule matching and rule resolution, as kube-apiserver's RBAC authorizer does it
// (plugin/pkg/auth/authorizer/rbac: RuleAllows, appliesTo, VisitRulesFor and the "allowed by" describers).
//
// Pure: the roles and bindings come in as a PolicySnapshot; reading them from the store is the caller's business.
// Default deny: a request no rule allows is denied with an empty reason, as RBAC's "no opinion" is.
import type { AuthorizationAttributes, UserInfo } from "../contracts.ts";

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string; // User | Group | ServiceAccount
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string; // Role | ClusterRole
  name: string;
}

export interface Role {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] };
}

export interface Binding {
  metadata: { name?: string; namespace?: string };
  subjects?: Subject[];
  roleRef: RoleRef;
}

/** The RBAC objects an authorization decision reads. */
export interface PolicySnapshot {
  clusterRoles: Role[];
  clusterRoleBindings: Binding[];
  /** Roles and RoleBindings of one namespace. */
  roles(namespace: string): Role[];
  roleBindings(namespace: string): Binding[];
}

export const MASTERS_GROUP = "system:masters";

function matchesOrStar(values: string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((v) => v === "*" || v === wanted);
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === "*" || r === combined) return true;
    // "*/scale" grants the scale subresource of every resource, and nothing else.
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === "*" || url === path) return true;
    if (url.endsWith("*") && path.startsWith(url.replace(/\*+$/, ""))) return true;
  }
  return false;
}

type RuleAttributes = Pick<
  AuthorizationAttributes,
  "verb" | "resourceRequest" | "apiGroup" | "resource" | "subresource" | "name" | "path"
>;

export function ruleAllows(attrs: RuleAttributes, rule: PolicyRule): boolean {
  if (!matchesOrStar(rule.verbs, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceURLMatches(rule, attrs.path);
  return (
    matchesOrStar(rule.apiGroups, attrs.apiGroup) &&
    resourceMatches(rule, attrs.resource, attrs.subresource) &&
    resourceNameMatches(rule, attrs.name)
  );
}

const SA_PREFIX = "system:serviceaccount:";

/** Splits `system:serviceaccount:<ns>:<name>`; undefined for other users. */
export function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

export function subjectAppliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.username === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      // A RoleBinding may leave the ServiceAccount's namespace out: it then means the binding's own namespace.
      const ns = subject.namespace || bindingNamespace;
      return ns !== "" && user.username === `${SA_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === "ServiceAccount") {
    return `${subject.kind} ${JSON.stringify(`${subject.name}/${subject.namespace || bindingNamespace}`)}`;
  }
  return `${subject.kind} ${JSON.stringify(subject.name)}`;
}

function describeBinding(binding: Binding, subject: Subject): string {
  const ns = binding.metadata.namespace ?? "";
  const ref = `${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)}`;
  if (ns) {
    const name = JSON.stringify(`${binding.metadata.name}/${ns}`);
    return `RoleBinding ${name} of ${ref} to ${describeSubject(subject, ns)}`;
  }
  return `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${ref} to ${describeSubject(subject, "")}`;
}

function labelsMatch(
  labels: Record<string, string> | undefined,
  wanted: Record<string, string> | undefined,
): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** The rules of a ClusterRole, with an aggregationRule resolved against the other ClusterRoles' labels. */
export function clusterRoleRules(role: Role, all: Role[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors || selectors.length === 0) return role.rules ?? [];
  const rules = [...(role.rules ?? [])];
  for (const other of all) {
    if (other === role) continue;
    if (selectors.some((s) => labelsMatch(other.metadata.labels, s.matchLabels)))
      rules.push(...(other.rules ?? []));
  }
  return rules;
}

export interface RuleSource {
  /** "ClusterRoleBinding "x" of ClusterRole "y" to User "z"" */
  source: string;
  rules: PolicyRule[];
}

/**
 * Every rule that applies to the user in the namespace, grouped by the binding that grants it, in the order the RBAC
 * authorizer visits them: ClusterRoleBindings first, then the namespace's RoleBindings. Missing roles are reported in
 * `errors` with kube's not-found wording.
 */
export function rulesFor(
  policy: PolicySnapshot,
  user: UserInfo,
  namespace: string,
): { sources: RuleSource[]; errors: string[] } {
  const sources: RuleSource[] = [];
  const errors: string[] = [];
  const findClusterRole = (name: string) => policy.clusterRoles.find((r) => r.metadata.name === name);
  const visit = (binding: Binding, ns: string) => {
    const subject = (binding.subjects ?? []).find((s) => subjectAppliesTo(user, s, ns));
    if (!subject) return;
    const ref = binding.roleRef;
    let rules: PolicyRule[] | undefined;
    if (ref.kind === "ClusterRole") {
      const role = findClusterRole(ref.name);
      if (role) rules = clusterRoleRules(role, policy.clusterRoles);
      else errors.push(`clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
    } else if (ref.kind === "Role" && ns) {
      const role = policy.roles(ns).find((r) => r.metadata.name === ref.name);
      if (role) rules = role.rules ?? [];
      else errors.push(`role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
    }
    if (rules) sources.push({ source: describeBinding(binding, subject), rules });
  };
  for (const b of policy.clusterRoleBindings) visit(b, "");
  if (namespace) for (const b of policy.roleBindings(namespace)) visit(b, namespace);
  return { sources, errors };
}

/** The RBAC decision for one request, with the reason text kube-apiserver's RBAC authorizer gives. */
export function authorizeRBAC(
  policy: PolicySnapshot,
  attrs: AuthorizationAttributes,
): { allowed: boolean; reason: string } {
  const { sources, errors } = rulesFor(policy, attrs.user, attrs.resourceRequest ? attrs.namespace : "");
  for (const s of sources) {
    if (s.rules.some((r) => ruleAllows(attrs, r)))
      return { allowed: true, reason: `RBAC: allowed by ${s.source}` };
  }
  return { allowed: false, reason: errors.length > 0 ? `RBAC: [${errors.join(", ")}]` : "" };
}
