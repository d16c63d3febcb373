import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import { applyStrategicMergePatch } from "@airlock/sim/patch/index.ts";
import { StatusError } from "@airlock/sim/status.ts";

const LAST = "kubectl.kubernetes.io/last-applied-configuration";

const deployment = (): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default", annotations: { [LAST]: "{}" }, labels: { app: "web" } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          {
            name: "app",
            image: "nginx:1.25",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "1" },
            ],
            ports: [{ containerPort: 80, protocol: "TCP" }],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
          { name: "sidecar", image: "busybox", args: ["sleep", "1d"] },
        ],
        volumes: [{ name: "data", emptyDir: {} }],
        tolerations: [{ key: "a", operator: "Exists" }],
      },
    },
  },
});

type Containers = {
  name: string;
  image?: string;
  env?: { name: string; value: string }[];
  ports?: unknown[];
  args?: string[];
}[];
const containers = (o: KubeObject): Containers =>
  ((o.spec as Record<string, unknown>).template as { spec: { containers: Containers } }).spec.containers;
const podSpec = (o: KubeObject): Record<string, unknown> =>
  ((o.spec as Record<string, unknown>).template as { spec: Record<string, unknown> }).spec;

function rejects(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.status.reason, "BadRequest");
    assert.match(err.status.message ?? "", detail);
    return true;
  });
}

test("kubectl apply's patch for a changed env var and replica count merges containers and env by name", () => {
  // The body kubectl 1.32 sends on the second `kubectl apply` after A=1→2 and replicas 1→3.
  const body = JSON.parse(
    '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"new\\":true}\\n"}},' +
      '"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],' +
      '"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"B"}],"env":[{"name":"A","value":"2"}],"name":"app"}]}}}}',
  );
  const input = deployment();
  const out = applyStrategicMergePatch(input, body, "Deployment");
  assert.equal((out.spec as { replicas: number }).replicas, 3);
  const [app, sidecar] = containers(out);
  assert.deepEqual(app?.env, [
    { name: "A", value: "2" },
    { name: "B", value: "1" },
  ]);
  assert.equal(app?.image, "nginx:1.25");
  assert.deepEqual(app?.ports, [{ containerPort: 80, protocol: "TCP" }]);
  assert.equal(sidecar?.name, "sidecar");
  assert.equal(out.metadata.annotations?.[LAST], '{"new":true}\n');
  assert.equal(
    Object.keys(podSpec(out)).some((k) => k.startsWith("$")),
    false,
    "directives must not be stored",
  );
  assert.deepEqual(input, deployment(), "input mutated");
});

test("$patch: delete in a merge list removes the element with that key", () => {
  const out = applyStrategicMergePatch(
    deployment(),
    {
      spec: {
        template: {
          spec: {
            containers: [
              { name: "app", env: [{ $patch: "delete", name: "B" }] },
              { $patch: "delete", name: "sidecar" },
            ],
          },
        },
      },
    },
    "Deployment",
  );
  assert.equal(containers(out).length, 1);
  assert.deepEqual(containers(out)[0]?.env, [{ name: "A", value: "1" }]);
});

test("a new element is appended and $setElementOrder orders the merged list", () => {
  const out = applyStrategicMergePatch(
    deployment(),
    {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "init" }, { name: "sidecar" }, { name: "app" }],
            containers: [{ name: "init", image: "alpine" }],
          },
        },
      },
    },
    "Deployment",
  );
  assert.deepEqual(
    containers(out).map((c) => c.name),
    ["init", "sidecar", "app"],
  );
  const appended = applyStrategicMergePatch(
    deployment(),
    { spec: { template: { spec: { containers: [{ name: "new", image: "x" }] } } } },
    "Deployment",
  );
  assert.deepEqual(
    containers(appended).map((c) => c.name),
    ["app", "sidecar", "new"],
  );
});

test("lists merge by their patchMergeKey and atomic lists are replaced", () => {
  const out = applyStrategicMergePatch(
    deployment(),
    {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "app",
                ports: [{ containerPort: 443, protocol: "TCP" }],
                volumeMounts: [{ mountPath: "/data", readOnly: true }],
              },
              { name: "sidecar", args: ["sleep", "2d"] },
            ],
            volumes: [{ name: "cache", emptyDir: {} }],
            tolerations: [{ key: "b", operator: "Exists" }],
          },
        },
      },
    },
    "Deployment",
  );
  const [app, sidecar] = containers(out) as [Containers[0] & { volumeMounts: unknown[] }, Containers[0]];
  assert.deepEqual(app.ports, [
    { containerPort: 80, protocol: "TCP" },
    { containerPort: 443, protocol: "TCP" },
  ]);
  assert.deepEqual(app.volumeMounts, [{ name: "data", mountPath: "/data", readOnly: true }]);
  assert.deepEqual(sidecar.args, ["sleep", "2d"], "args are atomic");
  assert.deepEqual(podSpec(out).volumes, [
    { name: "data", emptyDir: {} },
    { name: "cache", emptyDir: {} },
  ]);
  assert.deepEqual(podSpec(out).tolerations, [{ key: "b", operator: "Exists" }], "tolerations are atomic");
});

test("a Service's ports merge by port, a Pod's containers by name, conditions by type", () => {
  const svc: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "s" },
    spec: { ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }], selector: { app: "a" } },
  };
  const s2 = applyStrategicMergePatch(
    svc,
    { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
    "Service",
  );
  assert.deepEqual((s2.spec as { ports: unknown[] }).ports, [
    { port: 80, targetPort: 9090, protocol: "TCP" },
    { port: 443 },
  ]);

  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "a" }] },
    status: {
      conditions: [
        { type: "Ready", status: "False" },
        { type: "Initialized", status: "True" },
      ],
    },
  };
  const p2 = applyStrategicMergePatch(
    pod,
    {
      spec: { containers: [{ name: "c", image: "b" }] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    },
    "Pod",
  );
  assert.deepEqual((p2.spec as { containers: unknown[] }).containers, [{ name: "c", image: "b" }]);
  assert.deepEqual((p2.status as { conditions: unknown[] }).conditions, [
    { type: "Ready", status: "True" },
    { type: "Initialized", status: "True" },
  ]);
});

test("finalizers merge as a set and $deleteFromPrimitiveList removes values", () => {
  const cm: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", finalizers: ["a", "b"] },
  };
  assert.deepEqual(
    applyStrategicMergePatch(cm, { metadata: { finalizers: ["b", "c"] } }, "ConfigMap").metadata.finalizers,
    ["a", "b", "c"],
  );
  assert.deepEqual(
    applyStrategicMergePatch(cm, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, "ConfigMap")
      .metadata.finalizers,
    ["b"],
  );
  assert.deepEqual(
    applyStrategicMergePatch(cm, { metadata: { "$setElementOrder/finalizers": ["b", "a"] } }, "ConfigMap")
      .metadata.finalizers,
    ["b", "a"],
  );
  assert.equal(
    applyStrategicMergePatch(cm, { metadata: { finalizers: null } }, "ConfigMap").metadata.finalizers,
    undefined,
  );
});

test("ownerReferences merge by uid", () => {
  const rs: KubeObject = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: "r",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "u1" }],
    },
  };
  const out = applyStrategicMergePatch(
    rs,
    {
      metadata: {
        ownerReferences: [
          { uid: "u1", controller: true },
          { apiVersion: "v1", kind: "X", name: "x", uid: "u2" },
        ],
      },
    },
    "ReplicaSet",
  );
  assert.deepEqual(out.metadata.ownerReferences, [
    { apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "u1", controller: true },
    { apiVersion: "v1", kind: "X", name: "x", uid: "u2" },
  ]);
});

test("$patch: replace and delete on maps, $patch: replace in lists, $retainKeys", () => {
  const d = deployment();
  const replaced = applyStrategicMergePatch(
    d,
    { spec: { template: { metadata: { labels: { $patch: "replace", only: "this" } } } } },
    "Deployment",
  );
  assert.deepEqual((replaced.spec as { template: { metadata: unknown } }).template.metadata, {
    labels: { only: "this" },
  });

  const deleted = applyStrategicMergePatch(d, { spec: { strategy: { $patch: "delete" } } }, "Deployment");
  assert.equal(Object.hasOwn(deleted.spec as object, "strategy"), false);

  const listReplaced = applyStrategicMergePatch(
    d,
    { spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } } },
    "Deployment",
  );
  assert.deepEqual(containers(listReplaced), [{ name: "only", image: "x" }]);

  // kubectl apply switching the strategy to Recreate sends $retainKeys.
  const retained = applyStrategicMergePatch(
    d,
    { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } } },
    "Deployment",
  );
  assert.deepEqual((retained.spec as { strategy: unknown }).strategy, { type: "Recreate" });
  const retainedOnly = applyStrategicMergePatch(
    d,
    { spec: { strategy: { $retainKeys: ["type"] } } },
    "Deployment",
  );
  assert.deepEqual((retainedOnly.spec as { strategy: unknown }).strategy, { type: "RollingUpdate" });
});

test("kubectl apply's patch for a ConfigMap merges data and removes keys with null", () => {
  const cm: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm1", labels: { app: "demo", x: "1" } },
    data: { a: "1", c: "3" },
  };
  const out = applyStrategicMergePatch(
    cm,
    JSON.parse(
      '{"data":{"a":"2","b":"3","c":null},"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\\n"},"labels":{"x":null}}}',
    ),
    "ConfigMap",
  );
  assert.deepEqual(out.data, { a: "2", b: "3" });
  assert.deepEqual(out.metadata.labels, { app: "demo" });
  assert.deepEqual(out.metadata.annotations, { [LAST]: "{}\n" });
});

test("custom resources fall back to merge-patch semantics: their lists are replaced", () => {
  const cr: KubeObject = {
    apiVersion: "ex.com/v1",
    kind: "Widget",
    metadata: { name: "w" },
    spec: { items: [{ name: "a", v: 1 }], size: 1 },
  };
  const out = applyStrategicMergePatch(cr, { spec: { items: [{ name: "b" }], size: null } }, "Widget");
  assert.deepEqual(out.spec, { items: [{ name: "b" }] });
});

test("a malformed strategic merge patch is 400 BadRequest", () => {
  rejects(
    () =>
      applyStrategicMergePatch(
        deployment(),
        { spec: { template: { spec: { containers: [{ image: "x" }] } } } },
        "Deployment",
      ),
    /does not contain declared merge key: name/,
  );
  rejects(
    () => applyStrategicMergePatch(deployment(), { spec: { $patch: "explode" } }, "Deployment"),
    /unknown patch type/,
  );
  rejects(() => applyStrategicMergePatch(deployment(), [1], "Deployment"), /cannot unmarshal array/);
  rejects(
    () => applyStrategicMergePatch(deployment(), { $patch: "delete" }, "Deployment"),
    /cannot delete the whole object/,
  );
  rejects(
    () =>
      applyStrategicMergePatch(
        deployment(),
        { spec: { template: { spec: { containers: ["x"] } } } },
        "Deployment",
      ),
    /merged by "name"/,
  );
});
