import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAuthorizer } from "@airlock/sim/auth/authorizer.ts";
import { type PolicyRule, ruleAllows } from "@airlock/sim/auth/rbac.ts";
import type { AuthorizationAttributes } from "@airlock/sim/contracts.ts";
import { fakeCluster, grantCluster, grantNamespace, user } from "./auth-fixtures.ts";

function attrs(over: Partial<AuthorizationAttributes>): AuthorizationAttributes {
  return {
    user: user("alice", "system:authenticated"),
    verb: "get",
    resourceRequest: true,
    apiGroup: "",
    apiVersion: "v1",
    namespace: "default",
    resource: "pods",
    subresource: "",
    name: "",
    path: "",
    ...over,
  };
}

describe("RBAC rule matching", () => {
  const cases: [string, PolicyRule, Partial<AuthorizationAttributes>, boolean][] = [
    [
      "an exact verb, group and resource match",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      {},
      true,
    ],
    ["another verb does not match", { verbs: ["list"], apiGroups: [""], resources: ["pods"] }, {}, false],
    [
      "verb * matches any verb",
      { verbs: ["*"], apiGroups: [""], resources: ["pods"] },
      { verb: "deletecollection" },
      true,
    ],
    [
      "another API group does not match",
      { verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] },
      {},
      false,
    ],
    [
      "apiGroup * matches any group",
      { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] },
      { apiGroup: "apps", resource: "deployments" },
      true,
    ],
    ["a rule without apiGroups matches no resource", { verbs: ["get"], resources: ["pods"] }, {}, false],
    [
      "resource * matches any resource",
      { verbs: ["get"], apiGroups: [""], resources: ["*"] },
      { resource: "secrets" },
      true,
    ],
    [
      "resource * matches subresources too",
      { verbs: ["get"], apiGroups: [""], resources: ["*"] },
      { subresource: "log" },
      true,
    ],
    [
      "a resource does not grant its subresources",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      { subresource: "log" },
      false,
    ],
    [
      "resource/subresource grants that subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      { subresource: "log" },
      true,
    ],
    [
      "resource/subresource does not grant the resource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      {},
      false,
    ],
    [
      "*/scale grants scale of any resource",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["*/scale"] },
      { verb: "update", apiGroup: "apps", resource: "deployments", subresource: "scale" },
      true,
    ],
    [
      "*/scale does not grant another subresource",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["*/scale"] },
      { verb: "update", apiGroup: "apps", resource: "deployments", subresource: "status" },
      false,
    ],
    [
      "*/scale does not grant the resource",
      { verbs: ["get"], apiGroups: ["apps"], resources: ["*/scale"] },
      { apiGroup: "apps", resource: "deployments" },
      false,
    ],
    [
      "resourceNames restrict to the named object",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["web"] },
      { name: "web" },
      true,
    ],
    [
      "resourceNames refuse another name",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["web"] },
      { name: "db" },
      false,
    ],
    [
      "resourceNames refuse an unnamed request (list)",
      { verbs: ["list"], apiGroups: [""], resources: ["pods"], resourceNames: ["web"] },
      { verb: "list" },
      false,
    ],
    [
      "a non-resource URL matches exactly",
      { verbs: ["get"], nonResourceURLs: ["/healthz"] },
      { resourceRequest: false, path: "/healthz" },
      true,
    ],
    [
      "a non-resource URL does not match a longer path",
      { verbs: ["get"], nonResourceURLs: ["/healthz"] },
      { resourceRequest: false, path: "/healthz/etcd" },
      false,
    ],
    [
      "a trailing * matches by prefix",
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
      { resourceRequest: false, path: "/apis/apps/v1" },
      true,
    ],
    [
      "a trailing * does not match outside the prefix",
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
      { resourceRequest: false, path: "/api/v1" },
      false,
    ],
    [
      "nonResourceURL * matches any path",
      { verbs: ["get"], nonResourceURLs: ["*"] },
      { resourceRequest: false, path: "/metrics" },
      true,
    ],
    ["a non-resource rule grants no resource", { verbs: ["get"], nonResourceURLs: ["*"] }, {}, false],
    [
      "a resource rule grants no path",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*"] },
      { resourceRequest: false, path: "/version" },
      false,
    ],
    [
      "a non-resource verb must match",
      { verbs: ["get"], nonResourceURLs: ["*"] },
      { resourceRequest: false, verb: "post", path: "/x" },
      false,
    ],
  ];
  for (const [name, rule, over, want] of cases) {
    test(name, () => assert.equal(ruleAllows(attrs(over), rule), want));
  }
});

describe("RBAC authorizer over the store", () => {
  const c = fakeCluster();
  grantCluster(
    c,
    "pod-reader",
    [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
    [{ kind: "User", name: "alice" }],
  );
  grantCluster(
    c,
    "secret-reader",
    [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }],
    [{ kind: "Group", name: "auditors" }],
  );
  grantNamespace(
    c,
    "prod",
    "deployer",
    [{ verbs: ["create"], apiGroups: ["apps"], resources: ["deployments"] }],
    [{ kind: "ServiceAccount", name: "ci" }],
  );
  // A RoleBinding may reference a ClusterRole: it grants the ClusterRole's rules in that namespace only.
  c.add("clusterroles", {
    metadata: { name: "cm-editor" },
    rules: [{ verbs: ["update"], apiGroups: [""], resources: ["configmaps"] }],
  });
  c.add("rolebindings", {
    metadata: { name: "bob-cm", namespace: "dev" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cm-editor" },
    subjects: [{ kind: "User", name: "bob" }],
  });
  c.add("clusterrolebindings", {
    metadata: { name: "dangling" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "missing" },
    subjects: [{ kind: "User", name: "carol" }],
  });
  // Aggregation: "aggregate" collects the rules of ClusterRoles labelled agg=yes.
  c.add("clusterroles", {
    metadata: { name: "part", labels: { agg: "yes" } },
    rules: [{ verbs: ["watch"], apiGroups: [""], resources: ["events"] }],
  });
  c.add("clusterroles", {
    metadata: { name: "aggregate" },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: "yes" } }] },
  });
  c.add("clusterrolebindings", {
    metadata: { name: "dave-agg" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "aggregate" },
    subjects: [{ kind: "User", name: "dave" }],
  });
  const authz = createAuthorizer(c.store, c.registry);

  test("a ClusterRoleBinding to a User allows with kube's reason", () => {
    assert.deepEqual(authz.authorize(attrs({})), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "pod-reader" of ClusterRole "pod-reader" to User "alice"',
    });
  });

  test("a user without a binding is denied with an empty reason", () => {
    assert.deepEqual(authz.authorize(attrs({ user: user("mallory", "system:authenticated") })), {
      allowed: false,
      reason: "",
    });
  });

  test("a Group subject applies to members of the group", () => {
    const r = authz.authorize(attrs({ user: user("erin", "auditors"), resource: "secrets" }));
    assert.equal(r.allowed, true);
    assert.match(r.reason, /to Group "auditors"$/);
    assert.equal(
      authz.authorize(attrs({ user: user("erin", "others"), resource: "secrets" })).allowed,
      false,
    );
  });

  test("a ServiceAccount subject without a namespace means the RoleBinding's namespace", () => {
    const ci = user("system:serviceaccount:prod:ci", "system:serviceaccounts");
    const r = authz.authorize(
      attrs({ user: ci, verb: "create", apiGroup: "apps", resource: "deployments", namespace: "prod" }),
    );
    assert.deepEqual(r, {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "deployer/prod" of Role "deployer" to ServiceAccount "ci/prod"',
    });
    const other = user("system:serviceaccount:dev:ci");
    assert.equal(
      authz.authorize(
        attrs({ user: other, verb: "create", apiGroup: "apps", resource: "deployments", namespace: "prod" }),
      ).allowed,
      false,
    );
  });

  test("a RoleBinding grants only in its own namespace", () => {
    assert.equal(
      authz.authorize(
        attrs({
          user: user("system:serviceaccount:prod:ci"),
          verb: "create",
          apiGroup: "apps",
          resource: "deployments",
          namespace: "dev",
        }),
      ).allowed,
      false,
    );
    assert.equal(
      authz.authorize(
        attrs({
          user: user("system:serviceaccount:prod:ci"),
          verb: "create",
          apiGroup: "apps",
          resource: "deployments",
          namespace: "",
        }),
      ).allowed,
      false,
    );
  });

  test("a RoleBinding to a ClusterRole grants its rules in the binding's namespace", () => {
    const bob = user("bob");
    assert.deepEqual(
      authz.authorize(attrs({ user: bob, verb: "update", resource: "configmaps", namespace: "dev" })),
      {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "bob-cm/dev" of ClusterRole "cm-editor" to User "bob"',
      },
    );
    assert.equal(
      authz.authorize(attrs({ user: bob, verb: "update", resource: "configmaps", namespace: "prod" }))
        .allowed,
      false,
    );
  });

  test("a binding to a missing role denies and says which role is missing", () => {
    assert.deepEqual(authz.authorize(attrs({ user: user("carol") })), {
      allowed: false,
      reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "missing" not found]',
    });
  });

  test("an aggregated ClusterRole grants the rules of the ClusterRoles it selects", () => {
    assert.equal(
      authz.authorize(attrs({ user: user("dave"), verb: "watch", resource: "events" })).allowed,
      true,
    );
    assert.equal(
      authz.authorize(attrs({ user: user("dave"), verb: "get", resource: "events" })).allowed,
      false,
    );
  });

  test("system:masters is allowed everything, with no bindings", () => {
    const admin = user("root", "system:masters");
    assert.deepEqual(
      authz.authorize(attrs({ user: admin, verb: "delete", resource: "nodes", namespace: "" })),
      { allowed: true, reason: "" },
    );
    assert.equal(
      authz.authorize(attrs({ user: admin, resourceRequest: false, verb: "post", path: "/anything" }))
        .allowed,
      true,
    );
  });

  test("every authenticated user may use discovery and create self reviews, as kube's bootstrap roles allow", () => {
    const nobody = user("mallory", "system:authenticated");
    assert.equal(
      authz.authorize(attrs({ user: nobody, resourceRequest: false, path: "/apis/apps/v1" })).allowed,
      true,
    );
    const ssar = attrs({
      user: nobody,
      verb: "create",
      apiGroup: "authorization.k8s.io",
      resource: "selfsubjectaccessreviews",
      namespace: "",
    });
    assert.deepEqual(authz.authorize(ssar), {
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    });
    assert.equal(
      authz.authorize(
        attrs({ user: user("anon", "system:unauthenticated"), resourceRequest: false, path: "/apis" }),
      ).allowed,
      false,
    );
    assert.equal(
      authz.authorize(
        attrs({ user: user("anon", "system:unauthenticated"), resourceRequest: false, path: "/version" }),
      ).allowed,
      true,
    );
  });

  test("a new binding takes effect on the next decision", () => {
    const frank = attrs({ user: user("frank"), resource: "nodes", namespace: "" });
    assert.equal(authz.authorize(frank).allowed, false);
    grantCluster(
      c,
      "node-reader",
      [{ verbs: ["get"], apiGroups: [""], resources: ["nodes"] }],
      [{ kind: "User", name: "frank" }],
    );
    assert.equal(authz.authorize(frank).allowed, true);
  });

  test("rulesFor lists resource and non-resource rules from cluster and namespace bindings", () => {
    const ci = user("system:serviceaccount:prod:ci", "system:serviceaccounts", "system:authenticated");
    const rules = authz.rulesFor(ci, "prod");
    assert.ok(rules.resourceRules.some((r) => r.resources?.includes("deployments")));
    assert.ok(rules.resourceRules.some((r) => r.resources?.includes("selfsubjectaccessreviews")));
    assert.ok(rules.nonResourceRules.some((r) => r.nonResourceURLs?.includes("/api")));
    assert.equal(rules.incomplete, false);
    assert.ok(!authz.rulesFor(ci, "dev").resourceRules.some((r) => r.resources?.includes("deployments")));
  });
});
