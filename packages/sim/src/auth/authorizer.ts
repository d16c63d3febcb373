// The simulator's authorizer: system:masters first (kube's privileged-group authorizer), then RBAC over the Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings in the store, read at decision time so a new binding takes
// effect on the next request.
//
// kube-apiserver bootstraps a few roles every user relies on (discovery, public info, self reviews). The simulator
// supplies the same ones, with the same names, unless the store holds an object of that name, so `kubectl auth
// can-i` works for a user without bindings and answers "no" rather than failing on discovery. Fail closed: if the
// RBAC types are not registered, only system:masters and the bootstrap roles grant anything.
import type {
  AuthorizationAttributes,
  Authorizer,
  KubeObject,
  ObjectStore,
  ResourceRegistry,
  UserInfo,
} from "../contracts.ts";
import {
  authorizeRBAC,
  type Binding,
  MASTERS_GROUP,
  type PolicyRule,
  type PolicySnapshot,
  type Role,
  rulesFor,
} from "./rbac.ts";

const RBAC_GROUP = "rbac.authorization.k8s.io";

const AUTHENTICATED = { kind: "Group", apiGroup: RBAC_GROUP, name: "system:authenticated" };
const UNAUTHENTICATED = { kind: "Group", apiGroup: RBAC_GROUP, name: "system:unauthenticated" };

const BOOTSTRAP_ROLES: Role[] = [
  {
    metadata: { name: "system:discovery" },
    rules: [
      {
        verbs: ["get"],
        nonResourceURLs: [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/openapi",
          "/openapi/*",
          "/readyz",
          "/version",
          "/version/",
        ],
      },
    ],
  },
  {
    metadata: { name: "system:public-info-viewer" },
    rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] }],
  },
  {
    metadata: { name: "system:service-account-issuer-discovery" },
    rules: [{ verbs: ["get"], nonResourceURLs: ["/.well-known/openid-configuration", "/openid/v1/jwks"] }],
  },
  {
    metadata: { name: "system:basic-user" },
    rules: [
      {
        verbs: ["create"],
        apiGroups: ["authorization.k8s.io"],
        resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
      },
      { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
    ],
  },
];

const BOOTSTRAP_BINDINGS: Binding[] = [
  { metadata: { name: "system:discovery" }, roleRef: ref("system:discovery"), subjects: [AUTHENTICATED] },
  {
    metadata: { name: "system:public-info-viewer" },
    roleRef: ref("system:public-info-viewer"),
    subjects: [AUTHENTICATED, UNAUTHENTICATED],
  },
  { metadata: { name: "system:basic-user" }, roleRef: ref("system:basic-user"), subjects: [AUTHENTICATED] },
  // kube binds this to system:serviceaccounts only; the simulator publishes its issuer to everyone (packages/sim/src/oidc.ts).
  {
    metadata: { name: "system:service-account-issuer-discovery" },
    roleRef: ref("system:service-account-issuer-discovery"),
    subjects: [AUTHENTICATED, UNAUTHENTICATED],
  },
];

function ref(name: string) {
  return { apiGroup: RBAC_GROUP, kind: "ClusterRole", name };
}

/** Store objects win over bootstrap defaults of the same name, as reconciled bootstrap policy can be edited. */
function withDefaults<T extends { metadata: { name?: string } }>(stored: T[], defaults: T[]): T[] {
  const names = new Set(stored.map((o) => o.metadata.name));
  return [...stored, ...defaults.filter((d) => !names.has(d.metadata.name))];
}

export interface SimAuthorizer extends Authorizer {
  /** The rules a SelfSubjectRulesReview reports for the user in the namespace. */
  rulesFor(
    user: UserInfo,
    namespace: string,
  ): { resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[]; incomplete: boolean };
}

export function createAuthorizer(store: ObjectStore, registry: ResourceRegistry): SimAuthorizer {
  const list = (resource: string, namespace: string): KubeObject[] => {
    const type = registry.find(RBAC_GROUP, "v1", resource);
    return type ? store.list(type, namespace).items : [];
  };
  const snapshot = (): PolicySnapshot => ({
    clusterRoles: withDefaults(list("clusterroles", "") as unknown as Role[], BOOTSTRAP_ROLES),
    clusterRoleBindings: withDefaults(
      list("clusterrolebindings", "") as unknown as Binding[],
      BOOTSTRAP_BINDINGS,
    ),
    // A namespaced list with namespace "" would list every namespace; "" never reaches here (rulesFor skips it).
    roles: (ns) => list("roles", ns) as unknown as Role[],
    roleBindings: (ns) => list("rolebindings", ns) as unknown as Binding[],
  });
  return {
    authorize(attrs: AuthorizationAttributes) {
      // kube's privileged-group authorizer allows with no reason text.
      if (attrs.user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: "" };
      return authorizeRBAC(snapshot(), attrs);
    },
    rulesFor(user, namespace) {
      if (user.groups.includes(MASTERS_GROUP)) {
        return {
          resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
          nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
          incomplete: false,
        };
      }
      const { sources, errors } = rulesFor(snapshot(), user, namespace);
      const rules = sources.flatMap((s) => s.rules);
      return {
        resourceRules: rules
          .filter((r) => (r.resources ?? []).length > 0)
          .map((r) => ({
            verbs: r.verbs ?? [],
            apiGroups: r.apiGroups ?? [],
            resources: r.resources ?? [],
            ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
          })),
        nonResourceRules: rules
          .filter((r) => (r.nonResourceURLs ?? []).length > 0)
          .map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] })),
        incomplete: errors.length > 0,
      };
    },
  };
}
