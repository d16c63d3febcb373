// packages/sim/src/api/validation.ts: kube-apiserver's field validation of NetworkPolicy, PodDisruptionBudget,
// PersistentVolumeClaim, RBAC and Deployment, case by case (kubectl's view of the same refusals is in
// test/deploy/manifests.test.ts). Each case names the field and kube's message; valid objects pass untouched.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { validateObject } from "@airlock/sim/api/validation.ts";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import { createRegistry } from "@airlock/sim/registry.ts";
import { StatusError } from "@airlock/sim/status.ts";

const registry = createRegistry();

function typeOf(group: string, kind: string) {
  const t = registry.byKind(group, kind);
  assert.ok(t, `${group}/${kind} is registered`);
  return t;
}

function problems(group: string, kind: string, body: Record<string, unknown>, live?: KubeObject): string[] {
  const obj = { apiVersion: "x", kind, metadata: { name: "x", namespace: "ns" }, ...body } as KubeObject;
  try {
    validateObject(typeOf(group, kind), obj, live);
    return [];
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.status.code, 422);
    assert.equal(err.status.reason, "Invalid");
    const causes = (err.status.details?.causes ?? []) as { field: string; message: string }[];
    return causes.map((c) => `${c.field}: ${c.message}`);
  }
}

const np = (spec: Record<string, unknown>) => problems("networking.k8s.io", "NetworkPolicy", { spec });

describe("NetworkPolicy", () => {
  test("a valid policy with every peer kind, named and ranged ports, IPv4 and IPv6 blocks passes", () => {
    assert.deepEqual(
      np({
        podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["a"] }] },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [{ namespaceSelector: {}, podSelector: { matchLabels: { a: "b" } } }],
            ports: [{ port: "https" }],
          },
        ],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.169.254/32"] } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
          {
            to: [{ ipBlock: { cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] } }],
            ports: [{ port: 8000, endPort: 9000 }],
          },
        ],
      }),
      [],
    );
  });

  test("peers: empty, ipBlock with another peer, missing or bad cidr, except outside or equal to the cidr", () => {
    assert.deepEqual(
      np({
        egress: [
          {
            to: [
              {},
              { ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} },
              { ipBlock: {} },
              { ipBlock: { cidr: "10.0.0.300/8" } },
              { ipBlock: { cidr: "10.0.0.0/8", except: ["11.0.0.0/16", "10.0.0.0/8", "fd00::/8", "nope"] } },
            ],
          },
        ],
      }),
      [
        "spec.egress[0].to[0]: Required value: must specify a peer",
        "spec.egress[0].to[1]: Forbidden: may not specify both ipBlock and another peer",
        "spec.egress[0].to[2].ipBlock.cidr: Required value",
        'spec.egress[0].to[3].ipBlock.cidr: Invalid value: "10.0.0.300/8": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        'spec.egress[0].to[4].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
        'spec.egress[0].to[4].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
        'spec.egress[0].to[4].ipBlock.except[2]: Invalid value: "fd00::/8": must be a strict subset of `cidr`',
        'spec.egress[0].to[4].ipBlock.except[3]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    );
  });

  test("ports, policy types and selectors", () => {
    assert.deepEqual(
      np({
        podSelector: {
          matchExpressions: [
            { key: "a", operator: "In" },
            { key: "b", operator: "Exists", values: ["x"] },
            { key: "c", operator: "Near" },
          ],
        },
        policyTypes: ["Ingress", "Sideways"],
        ingress: [
          {
            ports: [
              { protocol: "ICMP" },
              { port: 0 },
              { port: "Not_A_Name" },
              { port: "http", endPort: 90 },
              { port: 90, endPort: 80 },
            ],
          },
        ],
      }),
      [
        "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.podSelector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.podSelector.matchExpressions[2].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
        'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        "spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ingress[0].ports[2].port: Invalid value: "Not_A_Name": must be a valid port name (IANA_SVC_NAME) or number',
        "spec.ingress[0].ports[3].endPort: Forbidden: may not be specified when `port` is non-numeric",
        "spec.ingress[0].ports[4].endPort: Invalid value: 80: must be greater than or equal to `port`",
        'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"',
      ],
    );
  });
});

describe("PodDisruptionBudget, PersistentVolumeClaim", () => {
  const pdb = (spec: Record<string, unknown>) => problems("policy", "PodDisruptionBudget", { spec });
  test("minAvailable xor maxUnavailable, each an int >= 0 or a percent <= 100%", () => {
    assert.deepEqual(pdb({ minAvailable: 2, selector: { matchLabels: { a: "b" } } }), []);
    assert.deepEqual(pdb({ maxUnavailable: "25%" }), []);
    assert.equal(
      pdb({ minAvailable: 1, maxUnavailable: 1 })[0]?.endsWith(
        "minAvailable and maxUnavailable cannot be both set",
      ),
      true,
    );
    assert.deepEqual(pdb({ minAvailable: -1 }), [
      "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
    ]);
    assert.deepEqual(pdb({ maxUnavailable: "150%" }), [
      'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]);
    assert.match(
      pdb({ minAvailable: "half" })[0] ?? "",
      /a valid percent string must be a numeric string followed by an ending '%'/,
    );
  });

  const pvc = (spec: Record<string, unknown>) => problems("", "PersistentVolumeClaim", { spec });
  test("access modes and a positive storage request are required", () => {
    assert.deepEqual(
      pvc({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } }),
      [],
    );
    assert.deepEqual(pvc({}), [
      "spec.accessModes: Required value: at least 1 access mode is required",
      "spec.resources[storage]: Required value",
    ]);
    assert.deepEqual(
      pvc({
        accessModes: ["ReadWriteSometimes"],
        resources: { requests: { storage: "0" } },
        volumeMode: "Tape",
      }),
      [
        'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
        'spec.volumeMode: Unsupported value: "Tape": supported values: "Block", "Filesystem"',
        'spec.resources[storage]: Invalid value: "0": must be greater than zero',
      ],
    );
    assert.match(
      pvc({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "ten gigs" } } })[0] ?? "",
      /quantities must match/,
    );
  });
});

describe("RBAC", () => {
  const rbac = "rbac.authorization.k8s.io";
  test("rules: verbs, api groups and resources; non-resource URLs only in cluster roles and alone", () => {
    assert.deepEqual(
      problems(rbac, "ClusterRole", { rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] }),
      [],
    );
    assert.deepEqual(
      problems(rbac, "Role", {
        rules: [{ resources: ["pods"] }, { verbs: ["get"], nonResourceURLs: ["/x"], resources: ["pods"] }],
      }),
      [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
        'rules[1].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs',
        'rules[1].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and non-resource URLs',
      ],
    );
  });

  test("bindings: roleRef per binding kind, subjects, kube's apiGroup default, and roleRef cannot change", () => {
    const roleRef = { apiGroup: rbac, kind: "ClusterRole", name: "view" };
    const binding = {
      roleRef,
      subjects: [
        { kind: "User", name: "alice" },
        { kind: "ServiceAccount", name: "sa", namespace: "ns" },
      ],
    };
    assert.deepEqual(
      problems(rbac, "ClusterRoleBinding", structuredClone(binding)),
      [],
      "a User subject's apiGroup is defaulted",
    );
    assert.deepEqual(
      problems(rbac, "ClusterRoleBinding", {
        roleRef: { apiGroup: "rbac", kind: "Role" },
        subjects: [{ kind: "ServiceAccount", name: "sa" }, { kind: "Robot", name: "r" }, { kind: "Group" }],
      }),
      [
        'roleRef.apiGroup: Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "roleRef.name: Required value",
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        "subjects[2].name: Required value",
      ],
    );
    assert.deepEqual(
      problems(rbac, "RoleBinding", {
        roleRef: { ...roleRef, kind: "Role" },
        subjects: [{ kind: "ServiceAccount", name: "sa" }],
      }),
      [],
    );
    const live = { apiVersion: "x", kind: "RoleBinding", metadata: { name: "x" }, roleRef } as KubeObject;
    assert.deepEqual(problems(rbac, "RoleBinding", { roleRef: { ...roleRef, name: "edit" } }, live), [
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"}: cannot change roleRef',
    ]);
  });
});

describe("Deployment", () => {
  const dep = (spec: Record<string, unknown>) => problems("apps", "Deployment", { spec });
  const template = {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "web", image: "nginx" }] },
  };
  test("a selector that is present, not empty and matches the template; containers with a name and an image", () => {
    assert.deepEqual(dep({ selector: { matchLabels: { app: "web" } }, template }), []);
    assert.deepEqual(dep({ template }), ["spec.selector: Required value"]);
    assert.deepEqual(dep({ selector: {}, template }), [
      "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
    ]);
    assert.deepEqual(dep({ selector: { matchLabels: { app: "api" } }, template }), [
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(
      dep({
        selector: { matchLabels: { app: "web" } },
        template: { ...template, spec: { containers: [{}], initContainers: [{ name: "i" }] } },
      }),
      [
        "spec.template.spec.containers[0].name: Required value",
        "spec.template.spec.containers[0].image: Required value",
        "spec.template.spec.initContainers[0].image: Required value",
      ],
    );
  });
});
