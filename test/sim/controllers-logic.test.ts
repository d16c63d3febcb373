// Table tests for the controllers' pure parts: selectors, the pod-template hash, rollout arithmetic and status,
// endpoint subsets, scale-down order, ordinals, addresses and pod defaulting.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import { hostAddress } from "@airlock/sim/controllers/ipam.ts";
import {
  canonicalJson,
  type LabelSelector,
  mapSelectorMatches,
  podTemplateHash,
  safeEncode,
  selectorMatches,
} from "@airlock/sim/controllers/objects.ts";
import { defaultPodSpec, qosClass, qualifiedImage } from "@airlock/sim/controllers/podspec.ts";
import { deletionOrder } from "@airlock/sim/controllers/replicasets.ts";
import { deploymentStatus, mergeCondition, resolveIntOrPercent } from "@airlock/sim/controllers/rollout.ts";
import { endpointSubsets, resolveTargetPort } from "@airlock/sim/controllers/services.ts";
import { ordinalOf } from "@airlock/sim/controllers/statefulsets.ts";

describe("label selectors", () => {
  const labels = { app: "web", tier: "front" };
  const cases: [string, LabelSelector | undefined, boolean][] = [
    ["absent selects nothing", undefined, false],
    ["empty selects everything", {}, true],
    ["matchLabels hit", { matchLabels: { app: "web" } }, true],
    ["matchLabels miss", { matchLabels: { app: "api" } }, false],
    ["In hit", { matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }, true],
    ["In on a missing key", { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, false],
    [
      "NotIn on a missing key",
      { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
      true,
    ],
    ["NotIn hit", { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, false],
    ["Exists", { matchExpressions: [{ key: "app", operator: "Exists" }] }, true],
    ["DoesNotExist", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
    ["unknown operator", { matchExpressions: [{ key: "app", operator: "Gt" as "In" }] }, false],
  ];
  for (const [name, selector, want] of cases) {
    test(`${name} → ${want}`, () => assert.equal(selectorMatches(selector, labels), want));
  }
  test("a Service with no selector selects no pods", () => {
    assert.equal(mapSelectorMatches(undefined, labels), false);
    assert.equal(mapSelectorMatches({}, labels), false);
    assert.equal(mapSelectorMatches({ app: "web" }, labels), true);
  });
});

describe("pod-template hash", () => {
  const template = {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
  };
  test("is 10 safe characters and stable across key order", () => {
    const reordered = {
      spec: { containers: [{ image: "nginx:1.27", name: "web" }] },
      metadata: { labels: { app: "web" } },
    };
    assert.match(podTemplateHash(template), /^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    assert.equal(podTemplateHash(reordered), podTemplateHash(template));
  });
  test("ignores its own label, so a ReplicaSet's template hashes to its name", () => {
    const labelled = structuredClone(template);
    (labelled.metadata.labels as Record<string, string>)["pod-template-hash"] = "whatever";
    assert.equal(podTemplateHash(labelled), podTemplateHash(template));
  });
  test("changes with the image, an annotation, or a collision count", () => {
    const other = structuredClone(template);
    (other.spec.containers[0] as { image: string }).image = "nginx:1.28";
    const restarted = {
      ...template,
      metadata: { ...template.metadata, annotations: { "kubectl.kubernetes.io/restartedAt": "x" } },
    };
    const hashes = new Set([
      podTemplateHash(template),
      podTemplateHash(other),
      podTemplateHash(restarted),
      podTemplateHash(template, 1),
    ]);
    assert.equal(hashes.size, 4);
  });
  test("safeEncode pads to 10 characters", () => {
    assert.equal(safeEncode(0).length, 10);
    assert.equal(safeEncode(4294967295).length, 10);
  });
  test("canonicalJson sorts keys and drops undefined", () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
  });
});

describe("rollout arithmetic and status", () => {
  const cases: [unknown, number, boolean, number][] = [
    [undefined, 4, true, 1],
    [undefined, 4, false, 1],
    ["25%", 3, true, 1],
    ["25%", 3, false, 0],
    [2, 10, false, 2],
    ["50%", 5, true, 3],
    ["0", 5, true, 0],
  ];
  for (const [value, total, up, want] of cases) {
    test(`${String(value)} of ${total} rounded ${up ? "up" : "down"} is ${want}`, () =>
      assert.equal(resolveIntOrPercent(value, total, up, "25%"), want));
  }

  const rs = (name: string, spec: number, s: Record<string, number>): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name },
    spec: { replicas: spec },
    status: s,
  });
  const d = (replicas: number): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", generation: 4 },
    spec: { replicas },
  });

  test("a finished rollout reports NewReplicaSetAvailable and all counts", () => {
    const s = deploymentStatus(
      d(3),
      rs("new", 3, { replicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      [rs("old", 0, { replicas: 0 })],
      "T",
    );
    assert.equal(s.observedGeneration, 4);
    assert.equal(s.replicas, 3);
    assert.equal(s.updatedReplicas, 3);
    assert.equal(s.availableReplicas, 3);
    assert.equal(s.unavailableReplicas, undefined);
    const conds = s.conditions as { type: string; status: string; reason: string; message: string }[];
    assert.deepEqual(
      conds.map((c) => [c.type, c.status, c.reason]),
      [
        ["Available", "True", "MinimumReplicasAvailable"],
        ["Progressing", "True", "NewReplicaSetAvailable"],
      ],
    );
    assert.equal(conds[1]?.message, 'ReplicaSet "new" has successfully progressed.');
  });

  test("old pods still running keep the rollout in progress", () => {
    const s = deploymentStatus(
      d(3),
      rs("new", 3, { replicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      [rs("old", 0, { replicas: 2, readyReplicas: 2, availableReplicas: 2 })],
      "T",
    );
    assert.equal(s.replicas, 5);
    const progressing = (s.conditions as { type: string; reason: string }[]).find(
      (c) => c.type === "Progressing",
    );
    assert.equal(progressing?.reason, "ReplicaSetUpdated");
  });

  test("scaled to 0 is a complete rollout with zero counts omitted", () => {
    const s = deploymentStatus(d(0), rs("new", 0, { replicas: 0 }), [], "T");
    assert.equal(s.replicas, undefined);
    assert.equal(s.updatedReplicas, undefined);
    const conds = s.conditions as { type: string; status: string; reason: string }[];
    assert.equal(conds.find((c) => c.type === "Progressing")?.reason, "NewReplicaSetAvailable");
    assert.equal(conds.find((c) => c.type === "Available")?.status, "True");
  });

  test("too few available pods make Available False", () => {
    const s = deploymentStatus(d(4), rs("new", 4, { replicas: 4, availableReplicas: 2 }), [], "T");
    assert.equal((s.conditions as { type: string; status: string }[])[0]?.status, "False");
    assert.equal(s.unavailableReplicas, 2);
  });

  test("an unchanged condition keeps its times; a changed one gets new ones", () => {
    const old = [
      {
        type: "Available",
        status: "True" as const,
        reason: "R",
        message: "m",
        lastUpdateTime: "A",
        lastTransitionTime: "A",
      },
    ];
    assert.equal(
      mergeCondition(old, { type: "Available", status: "True", reason: "R", message: "m" }, "B")
        .lastUpdateTime,
      "A",
    );
    const changed = mergeCondition(
      old,
      { type: "Available", status: "True", reason: "R2", message: "m" },
      "B",
    );
    assert.equal(changed.lastUpdateTime, "B");
    assert.equal(changed.lastTransitionTime, "A", "same status: no transition");
    assert.equal(mergeCondition(old, { type: "Available", status: "False" }, "B").lastTransitionTime, "B");
  });
});

describe("endpoints", () => {
  const pod = (
    name: string,
    ip: string | undefined,
    ready: boolean,
    labels = { app: "web" },
  ): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, labels },
    spec: {
      nodeName: "sim-node-1",
      containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }],
    },
    status: {
      phase: "Running",
      ...(ip ? { podIP: ip } : {}),
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  });
  const svc = (targetPort: number | string): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "ns" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort }] },
  });

  test("target ports resolve by number, numeric string or container port name", () => {
    const p = pod("a", "10.244.0.2", true);
    assert.equal(resolveTargetPort({ port: 80 }, p), 80);
    assert.equal(resolveTargetPort({ port: 80, targetPort: "9090" }, p), 9090);
    assert.equal(resolveTargetPort({ port: 80, targetPort: "http" }, p), 8080);
    assert.equal(resolveTargetPort({ port: 80, targetPort: "grpc" }, p), undefined);
  });

  test("ready pods are addresses sorted by IP, unready ones notReadyAddresses, others left out", () => {
    const subsets = endpointSubsets(svc("http"), [
      pod("b", "10.244.0.10", true),
      pod("a", "10.244.0.9", true),
      pod("c", "10.244.0.3", false),
      pod("d", undefined, true),
      pod("e", "10.244.0.4", true, { app: "api" }),
    ]);
    assert.equal(subsets.length, 1);
    const s = subsets[0] as {
      addresses: { ip: string }[];
      notReadyAddresses: { ip: string }[];
      ports: unknown[];
    };
    assert.deepEqual(
      s.addresses.map((a) => a.ip),
      ["10.244.0.9", "10.244.0.10"],
    );
    assert.deepEqual(
      s.notReadyAddresses.map((a) => a.ip),
      ["10.244.0.3"],
    );
    assert.deepEqual(s.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
  });

  test("no matching pods give no subsets", () => {
    assert.deepEqual(endpointSubsets(svc(80), []), []);
  });
});

describe("small pure helpers", () => {
  test("scale-down takes unscheduled, then pending, then unready, then the newest pods first", () => {
    const p = (
      name: string,
      nodeName: string | undefined,
      phase: string,
      ready: boolean,
      created: string,
    ): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, creationTimestamp: created },
      spec: nodeName ? { nodeName } : {},
      status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    const pods = [
      p("old-ready", "n", "Running", true, "2026-01-01T00:00:00Z"),
      p("new-ready", "n", "Running", true, "2026-01-02T00:00:00Z"),
      p("unready", "n", "Running", false, "2026-01-01T00:00:00Z"),
      p("pending", "n", "Pending", false, "2026-01-01T00:00:00Z"),
      p("unscheduled", undefined, "Pending", false, "2026-01-01T00:00:00Z"),
    ];
    assert.deepEqual(
      [...pods].sort(deletionOrder).map((x) => x.metadata.name),
      ["unscheduled", "pending", "unready", "new-ready", "old-ready"],
    );
  });

  const ordinals: [string, number | undefined][] = [
    ["db-0", 0],
    ["db-12", 12],
    ["db-01", undefined],
    ["db-x", undefined],
    ["dbx-1", undefined],
    ["db-1-2", undefined],
  ];
  for (const [name, want] of ordinals)
    test(`ordinal of ${name} is ${want}`, () => assert.equal(ordinalOf("db", name), want));

  test("host addresses skip .0 and .255", () => {
    assert.equal(hostAddress("10.244", 0), "10.244.0.1");
    assert.equal(hostAddress("10.244", 253), "10.244.0.254");
    assert.equal(hostAddress("10.244", 254), "10.244.1.1");
  });

  const images: [string, string][] = [
    ["nginx:1.27", "docker.io/library/nginx:1.27"],
    ["example/api:1", "docker.io/example/api:1"],
    ["ghcr.io/example/api:1.4.2", "ghcr.io/example/api:1.4.2"],
    ["localhost/x", "localhost/x"],
  ];
  for (const [image, want] of images)
    test(`image ${image} is reported as ${want}`, () => assert.equal(qualifiedImage(image), want));

  test("QoS class follows requests and limits", () => {
    assert.equal(qosClass({ containers: [{ name: "a" }] }), "BestEffort");
    const g = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
    assert.equal(qosClass({ containers: [{ name: "a", resources: g }] }), "Guaranteed");
    assert.equal(
      qosClass({ containers: [{ name: "a", resources: { requests: { cpu: "1" } } }] }),
      "Burstable",
    );
  });

  test("pod defaulting adds absent fields and leaves env, ports and set fields alone", () => {
    const env = [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }];
    const spec = defaultPodSpec({
      restartPolicy: "Never",
      containers: [{ name: "c", image: "busybox", env, ports: [{ containerPort: 1 }] }],
    });
    assert.equal(spec.restartPolicy, "Never");
    assert.equal(spec.dnsPolicy, "ClusterFirst");
    assert.equal(spec.serviceAccountName, "default");
    const [c] = spec.containers as Record<string, unknown>[];
    assert.deepEqual(c?.env, env);
    assert.deepEqual(c?.ports, [{ containerPort: 1 }]);
    assert.equal(c?.imagePullPolicy, "Always", "an untagged image is pulled always");
  });
});
