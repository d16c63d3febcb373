// The built-in `credentials` category (src/policy/credentials.ts): what falls in it, that no wildcard covers it, that
// a rule naming a class (or bindableRoles) does, and that patches are judged fail-closed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { credentialFindings } from "../../src/policy/credentials.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { AGENT, decide, engineOf, errorsOf, policy, type Req, verdict } from "./support.ts";

// A policy that allows every verb on every resource: the category must still be refused.
const wildcard = engineOf(
  policy(
    "wild",
    "[{ group: agents }]",
    `    - name: everything
      verbs: ["*"]
      resources: ["*"]
      effect: allow`,
  ),
);

const sensitive: [string, Req][] = [
  [
    "TokenRequest",
    {
      verb: "create",
      resource: "serviceaccounts",
      subresource: "token",
      namespace: "staging",
      name: "default",
    },
  ],
  [
    "TokenRequest in another namespace",
    {
      verb: "create",
      resource: "serviceaccounts",
      subresource: "token",
      namespace: "kube-system",
      name: "admin",
    },
  ],
  [
    "CSR create",
    {
      verb: "create",
      apiGroup: "certificates.k8s.io",
      resource: "certificatesigningrequests",
      object: { spec: {} },
    },
  ],
  [
    "CSR approval",
    {
      verb: "update",
      apiGroup: "certificates.k8s.io",
      resource: "certificatesigningrequests",
      subresource: "approval",
      name: "x",
    },
  ],
  [
    "CSR status",
    {
      verb: "patch",
      apiGroup: "certificates.k8s.io",
      resource: "certificatesigningrequests",
      subresource: "status",
      name: "x",
      object: {},
    },
  ],
  [
    "SA-token Secret",
    {
      verb: "create",
      resource: "secrets",
      namespace: "staging",
      object: {
        metadata: { name: "t", annotations: { "kubernetes.io/service-account.name": "default" } },
        type: "kubernetes.io/service-account-token",
      },
    },
  ],
  [
    "Secret with the SA annotation only",
    {
      verb: "create",
      resource: "secrets",
      namespace: "staging",
      object: { metadata: { name: "t", annotations: { "kubernetes.io/service-account.name": "default" } } },
    },
  ],
  [
    "Secret patch to the SA-token type",
    {
      verb: "patch",
      resource: "secrets",
      namespace: "staging",
      name: "s",
      object: { type: "kubernetes.io/service-account-token" },
    },
  ],
  [
    "Secret JSON patch of the type",
    {
      verb: "patch",
      resource: "secrets",
      namespace: "staging",
      name: "s",
      object: [{ op: "replace", path: "/type", value: "kubernetes.io/service-account-token" }],
    },
  ],
  [
    "Secret JSON patch of the SA annotation",
    {
      verb: "patch",
      resource: "secrets",
      namespace: "staging",
      name: "s",
      object: [
        { op: "add", path: "/metadata/annotations/kubernetes.io~1service-account.name", value: "default" },
      ],
    },
  ],
  [
    "Secret JSON patch replacing metadata",
    {
      verb: "patch",
      resource: "secrets",
      namespace: "staging",
      name: "s",
      object: [{ op: "replace", path: "/metadata", value: {} }],
    },
  ],
  [
    "RoleBinding to cluster-admin",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "rolebindings",
      namespace: "staging",
      object: { roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [] },
    },
  ],
  [
    "RoleBinding to admin",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "rolebindings",
      namespace: "staging",
      object: { roleRef: { kind: "ClusterRole", name: "admin" } },
    },
  ],
  [
    "ClusterRoleBinding to edit",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterrolebindings",
      object: { roleRef: { kind: "ClusterRole", name: "edit" } },
    },
  ],
  [
    "RoleBinding patch adding subjects",
    {
      verb: "patch",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "rolebindings",
      namespace: "staging",
      name: "b",
      object: { subjects: [{ kind: "User", name: "me" }] },
    },
  ],
  [
    "ClusterRole with escalate",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      object: {
        rules: [
          { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["escalate"] },
        ],
      },
    },
  ],
  [
    "Role with * verbs on *",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "roles",
      namespace: "staging",
      object: { rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] },
    },
  ],
  [
    "Role with create on every core resource (serviceaccounts/token among them)",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "roles",
      namespace: "staging",
      object: { rules: [{ apiGroups: [""], resources: ["*"], verbs: ["create"] }] },
    },
  ],
  [
    "ClusterRole with get on */proxy (nodes/proxy among them)",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      object: { rules: [{ apiGroups: ["*"], resources: ["*/proxy"], verbs: ["get"] }] },
    },
  ],
  [
    "Role with impersonate",
    {
      verb: "update",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "roles",
      namespace: "staging",
      name: "r",
      object: { rules: [{ apiGroups: [""], resources: ["users"], verbs: ["impersonate"] }] },
    },
  ],
  [
    "ClusterRole aggregated into edit",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      object: { metadata: { labels: { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } }, rules: [] },
    },
  ],
  [
    "ClusterRole with an aggregationRule",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      object: { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: "b" } }] } },
    },
  ],
  [
    "ClusterRole granting serviceaccounts/token",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "clusterroles",
      object: { rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }] },
    },
  ],
  [
    "Role JSON patch of rules",
    {
      verb: "patch",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "roles",
      namespace: "staging",
      name: "r",
      object: [{ op: "add", path: "/rules/-", value: {} }],
    },
  ],
  [
    "Deployment with serviceAccountName",
    {
      verb: "create",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      object: { spec: { template: { spec: { serviceAccountName: "deployer", containers: [] } } } },
    },
  ],
  [
    "Pod with automountServiceAccountToken",
    {
      verb: "create",
      resource: "pods",
      namespace: "staging",
      object: { spec: { automountServiceAccountToken: true, containers: [] } },
    },
  ],
  [
    "Pod with a projected token",
    {
      verb: "create",
      resource: "pods",
      namespace: "staging",
      object: {
        spec: { volumes: [{ name: "t", projected: { sources: [{ serviceAccountToken: { path: "t" } }] } }] },
      },
    },
  ],
  [
    "CronJob with a privileged template",
    {
      verb: "create",
      apiGroup: "batch",
      resource: "cronjobs",
      namespace: "staging",
      object: {
        spec: {
          jobTemplate: {
            spec: {
              template: { spec: { containers: [{ name: "c", securityContext: { privileged: true } }] } },
            },
          },
        },
      },
    },
  ],
  [
    "DaemonSet with hostPath",
    {
      verb: "create",
      apiGroup: "apps",
      resource: "daemonsets",
      namespace: "staging",
      object: { spec: { template: { spec: { volumes: [{ name: "root", hostPath: { path: "/" } }] } } } },
    },
  ],
  [
    "PersistentVolume on a node's directory (hostPath)",
    {
      verb: "create",
      resource: "persistentvolumes",
      object: { spec: { capacity: { storage: "1Gi" }, hostPath: { path: "/" } } },
    },
  ],
  [
    "PersistentVolume of type local",
    {
      verb: "create",
      resource: "persistentvolumes",
      object: { spec: { local: { path: "/var/lib/kubelet" }, nodeAffinity: {} } },
    },
  ],
  [
    "PersistentVolume patched to a hostPath",
    {
      verb: "patch",
      resource: "persistentvolumes",
      name: "pv1",
      object: { spec: { hostPath: { path: "/etc" } } },
    },
  ],
  [
    "StatefulSet with hostNetwork",
    {
      verb: "update",
      apiGroup: "apps",
      resource: "statefulsets",
      namespace: "staging",
      name: "s",
      object: { spec: { template: { spec: { hostNetwork: true } } } },
    },
  ],
  [
    "Job with hostPID",
    {
      verb: "create",
      apiGroup: "batch",
      resource: "jobs",
      namespace: "staging",
      object: { spec: { template: { spec: { hostPID: true } } } },
    },
  ],
  [
    "ReplicaSet with SYS_ADMIN",
    {
      verb: "create",
      apiGroup: "apps",
      resource: "replicasets",
      namespace: "staging",
      object: {
        spec: {
          template: {
            spec: { containers: [{ name: "c", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] },
          },
        },
      },
    },
  ],
  [
    "ReplicationController as another SA",
    {
      verb: "create",
      resource: "replicationcontrollers",
      namespace: "staging",
      object: { spec: { template: { spec: { serviceAccount: "builder" } } } },
    },
  ],
  [
    "Deployment merge patch setting the SA",
    {
      verb: "patch",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      name: "web",
      object: { spec: { template: { spec: { serviceAccountName: "deployer" } } } },
    },
  ],
  [
    "Deployment JSON patch of the pod spec",
    {
      verb: "patch",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      name: "web",
      object: [{ op: "add", path: "/spec/template/spec/hostNetwork", value: true }],
    },
  ],
  [
    "debug ephemeral container",
    {
      verb: "patch",
      resource: "pods",
      subresource: "ephemeralcontainers",
      namespace: "staging",
      name: "p",
      object: {},
    },
  ],
  ["nodes/proxy", { verb: "get", resource: "nodes", subresource: "proxy", name: "node-1" }],
  [
    "validating webhook",
    {
      verb: "create",
      apiGroup: "admissionregistration.k8s.io",
      resource: "validatingwebhookconfigurations",
      object: {},
    },
  ],
  [
    "deleting a mutating webhook",
    {
      verb: "delete",
      apiGroup: "admissionregistration.k8s.io",
      resource: "mutatingwebhookconfigurations",
      name: "x",
    },
  ],
  [
    "ValidatingAdmissionPolicyBinding",
    {
      verb: "create",
      apiGroup: "admissionregistration.k8s.io",
      resource: "validatingadmissionpolicybindings",
      object: {},
    },
  ],
];

test("no wildcard covers a request in the credentials category: each is refused naming the category", () => {
  for (const [what, req] of sensitive) {
    const d = decide(wildcard, req);
    assert.match(verdict(d), /^deny (builtin\/credentials|default\/default-deny)$/, what);
    assert.match(d.effect === "deny" ? d.message : "", /category "credentials".*credentials: \[/, what);
  }
});

const ordinary: [string, Req][] = [
  [
    "PersistentVolume on NFS",
    {
      verb: "create",
      resource: "persistentvolumes",
      object: { spec: { capacity: { storage: "1Gi" }, nfs: { server: "10.0.0.2", path: "/exports" } } },
    },
  ],
  [
    "a ConfigMap",
    { verb: "create", resource: "configmaps", namespace: "staging", object: { metadata: { name: "c" } } },
  ],
  [
    "an Opaque Secret",
    {
      verb: "create",
      resource: "secrets",
      namespace: "staging",
      object: { metadata: { name: "s" }, type: "Opaque", data: {} },
    },
  ],
  [
    "a Secret data patch",
    { verb: "patch", resource: "secrets", namespace: "staging", name: "s", object: { data: { a: "Yg==" } } },
  ],
  [
    "a plain Deployment",
    {
      verb: "create",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      object: { spec: { template: { spec: { containers: [{ name: "c", image: "nginx" }] } } } },
    },
  ],
  [
    "a Deployment as the default SA",
    {
      verb: "create",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      object: { spec: { template: { spec: { serviceAccountName: "default" } } } },
    },
  ],
  [
    "a replicas JSON patch",
    {
      verb: "patch",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      name: "web",
      object: [{ op: "replace", path: "/spec/replicas", value: 2 }],
    },
  ],
  [
    "an image merge patch",
    {
      verb: "patch",
      apiGroup: "apps",
      resource: "deployments",
      namespace: "staging",
      name: "web",
      object: { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:2" }] } } } },
    },
  ],
  [
    "a Role that reads pods",
    {
      verb: "create",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "roles",
      namespace: "staging",
      object: { rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }] },
    },
  ],
  [
    "reading a ServiceAccount",
    { verb: "get", resource: "serviceaccounts", namespace: "staging", name: "default" },
  ],
  [
    "deleting a RoleBinding",
    {
      verb: "delete",
      apiGroup: "rbac.authorization.k8s.io",
      resource: "rolebindings",
      namespace: "staging",
      name: "b",
    },
  ],
];

test("ordinary writes stay outside the category and the wildcard allows them", () => {
  for (const [what, req] of ordinary)
    assert.equal(verdict(decide(wildcard, req)), "allow wild/everything", what);
});

const naming = engineOf(
  policy(
    "named",
    "[{ group: agents }]",
    `    - name: everything
      verbs: ["*"]
      resources: ["*"]
      effect: allow
    - name: tokens-in-staging
      verbs: [create]
      resources: [serviceaccounts/token]
      namespaces: [staging]
      credentials: [tokens]
      effect: allow
    - name: bind-view
      verbs: [create]
      resources: [rolebindings]
      bindableRoles: [ClusterRole/view, Role/web-reader, reader]
      effect: allow
    - name: break-glass-tokens
      verbs: [create]
      resources: [serviceaccounts/token]
      namespaces: [ops]
      credentials: [tokens]
      mask: none
      effect: allow`,
  ),
);

test("a rule that names the class allows it, and the answer is masked unless the rule says mask: none", () => {
  const staging = decide(naming, sensitive[0]?.[1] as Req);
  assert.equal(verdict(staging), "allow named/tokens-in-staging");
  assert.equal(staging.effect === "allow" && staging.mask, "default");
  const other = decide(naming, sensitive[1]?.[1] as Req);
  assert.equal(verdict(other), "deny builtin/credentials", "another namespace is not named");
  const ops = decide(naming, {
    verb: "create",
    resource: "serviceaccounts",
    subresource: "token",
    namespace: "ops",
    name: "x",
  });
  assert.equal(verdict(ops), "allow named/break-glass-tokens");
  assert.equal(ops.effect === "allow" && ops.mask, "none");
});

test("bindableRoles allows a binding to a listed role only, by kind and name", () => {
  const bind = (kind: string, name: string) =>
    verdict(
      decide(naming, {
        verb: "create",
        apiGroup: "rbac.authorization.k8s.io",
        resource: "rolebindings",
        namespace: "staging",
        object: { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name } },
      }),
    );
  assert.equal(bind("ClusterRole", "view"), "allow named/bind-view");
  assert.equal(bind("Role", "view"), "deny builtin/credentials", "Role/view is not ClusterRole/view");
  assert.equal(bind("Role", "web-reader"), "allow named/bind-view");
  assert.equal(
    bind("ClusterRole", "web-reader"),
    "deny builtin/credentials",
    "Role/web-reader names a Role only",
  );
  // A bare name is a ClusterRole only: a Role of that name may be one the agent wrote into the namespace itself.
  assert.equal(bind("ClusterRole", "reader"), "allow named/bind-view");
  assert.equal(
    bind("Role", "reader"),
    "deny builtin/credentials",
    "a bare name never matches an agent-writable Role",
  );
  assert.equal(bind("ClusterRole", "cluster-admin"), "deny builtin/credentials");
  const d = decide(naming, {
    verb: "create",
    apiGroup: "rbac.authorization.k8s.io",
    resource: "rolebindings",
    namespace: "staging",
    object: { roleRef: { kind: "ClusterRole", name: "edit" } },
  });
  assert.match(d.effect === "deny" ? d.message : "", /bindableRoles: \[ClusterRole\/edit\]/);
});

test("a deny rule still outranks a rule that names the class", () => {
  const e = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      `    - name: tokens
      verbs: [create]
      resources: [serviceaccounts/token]
      credentials: [tokens]
      effect: allow
    - name: not-kube-system
      verbs: ["*"]
      namespaces: [kube-system]
      effect: deny`,
    ),
  );
  assert.equal(verdict(decide(e, sensitive[1]?.[1] as Req)), "deny p/not-kube-system");
  assert.equal(verdict(decide(e, sensitive[0]?.[1] as Req)), "allow p/tokens");
});

test("credentials, bindableRoles and ports are validated: no wildcard, not on deny rules", () => {
  const rule = (extra: string, effect = "allow") =>
    policy(
      "p",
      "[{ group: agents }]",
      `    - name: r\n      verbs: ["*"]\n      effect: ${effect}\n${extra}`,
    );
  assert.match(
    errorsOf(rule('      credentials: ["*"]')).join("\n"),
    /unknown credentials class "\*".*no wildcard/,
  );
  assert.match(errorsOf(rule('      bindableRoles: ["*"]')).join("\n"), /no wildcard/);
  assert.match(
    errorsOf(rule("      credentials: [tokens]", "deny")).join("\n"),
    /credentials is for allow and review rules/,
  );
  assert.match(
    errorsOf(
      policy(
        "p",
        "[{ group: agents }]",
        "    - name: r\n      verbs: [get]\n      ports: [80]\n      effect: allow",
      ),
    ).join("\n"),
    /add portforward to verbs/,
  );
  assert.match(errorsOf(rule("      ports: [0]")).join("\n"), /ports/);
});

test("self reviews are allowed for every identity by default; a deny rule can still refuse them", () => {
  const empty = engineOf(
    policy("p", "[{ group: nobody }]", "    - name: r\n      verbs: [get]\n      effect: allow"),
  );
  for (const [group, resource] of [
    ["authentication.k8s.io", "selfsubjectreviews"],
    ["authorization.k8s.io", "selfsubjectaccessreviews"],
    ["authorization.k8s.io", "selfsubjectrulesreviews"],
  ] as const) {
    assert.equal(
      verdict(decide(empty, { verb: "create", apiGroup: group, resource, object: {} })),
      "allow builtin/self-reviews",
    );
  }
  assert.equal(
    verdict(
      decide(empty, {
        verb: "create",
        apiGroup: "authorization.k8s.io",
        resource: "subjectaccessreviews",
        object: {},
      }),
    ),
    "deny default/default-deny",
    "a SubjectAccessReview asks about someone else",
  );
  const denying = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      '    - name: no\n      verbs: [create]\n      resources: ["*"]\n      effect: deny',
    ),
  );
  assert.equal(
    verdict(
      decide(denying, {
        verb: "create",
        apiGroup: "authentication.k8s.io",
        resource: "selfsubjectreviews",
        object: {},
      }),
    ),
    "deny p/no",
  );
});

test("port-forward is allowed only by a rule naming the ports, and only for those ports", () => {
  const e = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      `    - name: all
      verbs: ["*"]
      effect: allow
    - name: web
      verbs: [portforward]
      resources: [pods]
      names: ["web-*"]
      ports: [80, 8080]
      effect: allow`,
    ),
  );
  const pf = (name: string, ports?: string): Req => ({
    verb: "portforward",
    resource: "pods",
    namespace: "staging",
    name,
    ...(ports ? { query: { ports } } : {}),
  });
  const web = decide(e, pf("web-1", "80"));
  assert.equal(verdict(web), "allow p/web");
  assert.deepEqual(web.effect === "allow" && web.ports, [80, 8080]);
  assert.equal(
    verdict(decide(e, pf("web-1"))),
    "allow p/web",
    "kubectl names the ports per stream, not in the query",
  );
  assert.equal(verdict(decide(e, pf("web-1", "80,22"))), "deny builtin/portforward-ports");
  assert.equal(verdict(decide(e, pf("web-1", "80:22"))), "deny builtin/portforward-ports");
  const api = decide(e, pf("api-1", "80"));
  assert.equal(verdict(api), "deny builtin/portforward-ports", "the wildcard rule names no ports");
  assert.match(api.effect === "deny" ? api.message : "", /only a rule that names its ports allows it/);
});

test("the demo policy: writes in staging, but no credentials; view may be bound; web's port 80 forwarded", () => {
  const demo = engineOf(readFileSync(new URL("../../examples/policies/demo.yaml", import.meta.url), "utf8"));
  assert.equal(verdict(decide(demo, sensitive[0]?.[1] as Req)), "deny builtin/credentials");
  assert.equal(verdict(decide(demo, sensitive[12]?.[1] as Req)), "deny builtin/credentials");
  const view: Req = {
    verb: "create",
    apiGroup: "rbac.authorization.k8s.io",
    resource: "rolebindings",
    namespace: "staging",
    object: { roleRef: { kind: "ClusterRole", name: "view" } },
  };
  assert.equal(verdict(decide(demo, view)), "allow demo/staging-may-bind-view");
  assert.equal(verdict(decide(demo, { ...view, namespace: "default" })), "deny builtin/credentials");
  assert.equal(
    verdict(
      decide(demo, {
        verb: "portforward",
        resource: "pods",
        namespace: "prod",
        name: "web-abc-1",
        query: { ports: "80" },
      }),
    ),
    "allow demo/port-forward-web",
  );
  assert.equal(
    verdict(
      decide(
        demo,
        { verb: "create", apiGroup: "authentication.k8s.io", resource: "selfsubjectreviews", object: {} },
        AGENT,
      ),
    ),
    "allow builtin/self-reviews",
  );
});

test("without the resulting object, a patch is judged on its document, fail closed", () => {
  const classes = (request: Req) => {
    const d = describeToRequest({ identity: AGENT, request });
    if (!d.ok) throw new Error(d.errors.join("; "));
    d.kube.object = undefined; // no dry run happened
    return credentialFindings(d.kube, undefined).map((f) => f.class);
  };
  const rb = {
    verb: "patch",
    apiGroup: "rbac.authorization.k8s.io",
    resource: "rolebindings",
    namespace: "s",
    name: "b",
  };
  assert.deepEqual(classes({ ...rb, object: { metadata: { labels: { a: "b" } } } }), [], "a label patch");
  assert.deepEqual(classes({ ...rb, object: { subjects: [] } }), ["bindings"], "subjects of an unknown role");
  assert.deepEqual(classes({ ...rb, object: [{ op: "add", path: "/subjects/-", value: {} }] }), ["bindings"]);
  assert.deepEqual(classes({ ...rb, object: [{ op: "add", path: "/metadata/labels/a", value: "b" }] }), []);
  const dep = { verb: "patch", apiGroup: "apps", resource: "deployments", namespace: "s", name: "d" };
  assert.deepEqual(classes({ ...dep, object: { spec: { replicas: 2 } } }), []);
  assert.deepEqual(classes({ ...dep, object: { spec: { template: { spec: { hostPID: true } } } } }), [
    "host-access",
  ]);
  assert.deepEqual(
    classes({ ...dep, object: { spec: { template: { spec: { $retainKeys: ["containers"] } } } } }),
    ["host-access"],
    "a strategic-merge directive is not resolved",
  );
  assert.deepEqual(classes({ ...dep, object: [{ op: "replace", path: "/spec/template", value: {} }] }), [
    "workload-identity",
    "host-access",
  ]);
  assert.deepEqual(classes({ ...dep }), ["workload-identity", "host-access"], "no readable body");
  const sec = { verb: "patch", resource: "secrets", namespace: "s", name: "x" };
  assert.deepEqual(classes({ ...sec, object: { data: { a: "Yg==" } } }), []);
  assert.deepEqual(classes({ ...sec, object: [{ op: "replace", path: "/metadata", value: {} }] }), [
    "tokens",
  ]);
});
