// The simulator's controllers driven through the real store and registry, no HTTP: workloads reach Running, scale,
// roll out, are garbage-collected, namespaces terminate, Services get addresses and Endpoints.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KubeObject, ObjectStore, ResourceRegistry, ResourceType } from "@airlock/sim/contracts.ts";
import { startControllers } from "@airlock/sim/controllers/index.ts";
import { createRegistry } from "@airlock/sim/registry.ts";
import { createMemoryStore } from "@airlock/sim/store.ts";
import { eventually } from "../helpers/eventually.ts";

interface Harness {
  store: ObjectStore;
  registry: ResourceRegistry;
  t: (group: string, resource: string) => ResourceType;
  stop(): void;
  logs: string[];
}

function harness(): Harness {
  const store = createMemoryStore();
  const registry = createRegistry();
  const t = (group: string, resource: string) => {
    const type = registry.all().find((x) => x.group === group && x.resource === resource);
    assert.ok(type, `${group}/${resource} is served`);
    return type;
  };
  store.create(t("", "nodes"), { apiVersion: "v1", kind: "Node", metadata: { name: "sim-node-1" } });
  for (const ns of ["default", "prod"]) {
    store.create(t("", "namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
      spec: { finalizers: ["kubernetes"] },
    });
  }
  const logs: string[] = [];
  const controllers = startControllers(store, registry, { log: (m, e) => logs.push(`${m} ${e ?? ""}`) });
  return { store, registry, t, logs, stop: () => controllers.stop() };
}

function deployment(
  name: string,
  namespace: string,
  replicas: number,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: "nginx:1.27",
              ports: [{ containerPort: 80, name: "http" }],
              env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }],
            },
          ],
        },
      },
      ...extra,
    },
  };
}

const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>;
const phase = (p: KubeObject) => status(p).phase;

function ownedBy(h: Harness, resource: string, group: string, owner: KubeObject): KubeObject[] {
  return h.store
    .list(h.t(group, resource), owner.metadata.namespace ?? "")
    .items.filter((o) =>
      o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller),
    );
}

function rolledOut(h: Harness, ns: string, name: string, replicas: number): KubeObject | false {
  const d = h.store.get(h.t("apps", "deployments"), ns, name);
  if (!d) return false;
  const s = status(d) as {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    conditions?: { type: string; reason: string }[];
  };
  const progressing = s.conditions?.find((c) => c.type === "Progressing");
  const done =
    s.observedGeneration === d.metadata.generation &&
    (s.replicas ?? 0) === replicas &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.availableReplicas ?? 0) === replicas &&
    (s.readyReplicas ?? 0) === replicas &&
    progressing?.reason === "NewReplicaSetAvailable";
  return done && d;
}

describe("workload controllers", () => {
  let h: Harness;
  before(() => {
    h = harness();
  });
  after(() => h.stop());

  test("a Deployment gets a ReplicaSet named by its pod-template hash that owns Running pods", async () => {
    const d = h.store.create(h.t("apps", "deployments"), deployment("web", "prod", 3));
    await eventually("rollout", () => rolledOut(h, "prod", "web", 3));
    const [rs, ...more] = ownedBy(h, "replicasets", "apps", d);
    assert.ok(rs);
    assert.equal(more.length, 0);
    const hash = rs.metadata.labels?.["pod-template-hash"] ?? "";
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
    const pods = ownedBy(h, "pods", "", rs);
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata.name ?? "", new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.labels?.app, "web");
      assert.equal(p.metadata.labels?.["pod-template-hash"], hash);
      assert.equal(phase(p), "Running");
      const spec = p.spec as { nodeName: string; containers: Record<string, unknown>[] };
      assert.equal(spec.nodeName, "sim-node-1");
      assert.match(String(status(p).podIP), /^10\.244\.\d+\.\d+$/);
      assert.equal(status(p).hostIP, "10.0.0.10");
      assert.ok(status(p).startTime);
      const cs = status(p).containerStatuses as { ready: boolean; state: { running?: unknown } }[];
      assert.equal(cs[0]?.ready, true);
      assert.ok(cs[0]?.state.running);
      const conds = status(p).conditions as { type: string; status: string }[];
      assert.equal(conds.find((c) => c.type === "Ready")?.status, "True");
      // Ports and env come through exactly as the template had them.
      assert.deepEqual(spec.containers[0]?.ports, [{ containerPort: 80, name: "http" }]);
      assert.deepEqual(spec.containers[0]?.env, [
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
      ]);
    }
    const ips = new Set(pods.map((p) => status(p).podIP));
    assert.equal(ips.size, 3, "each pod has its own IP");
    const conds = status(h.store.get(h.t("apps", "deployments"), "prod", "web")).conditions as {
      type: string;
    }[];
    assert.deepEqual(
      conds.map((c) => c.type),
      ["Available", "Progressing"],
    );
  });

  test("scaling a Deployment up and down to 0 creates and deletes pods and keeps status right", async () => {
    const dt = h.t("apps", "deployments");
    const scaleTo = (n: number) => {
      const d = h.store.get(dt, "prod", "web") as KubeObject;
      h.store.update(dt, { ...d, spec: { ...(d.spec as object), replicas: n } });
    };
    scaleTo(5);
    await eventually("5 replicas", () => rolledOut(h, "prod", "web", 5));
    const podsOf = () =>
      h.store.list(h.t("", "pods"), "prod").items.filter((p) => p.metadata.labels?.app === "web");
    assert.equal(podsOf().length, 5);
    scaleTo(0);
    const d = await eventually("0 replicas", () => rolledOut(h, "prod", "web", 0));
    assert.equal(podsOf().length, 0);
    assert.equal(status(d).replicas, undefined);
    assert.equal(status(d).observedGeneration, d.metadata.generation);
    const rs = ownedBy(h, "replicasets", "apps", d)[0] as KubeObject;
    assert.equal((rs.spec as { replicas: number }).replicas, 0);
    assert.equal(status(rs).replicas, 0);
    scaleTo(3);
    await eventually("back to 3", () => rolledOut(h, "prod", "web", 3));
  });

  test("a rollout restart makes a new ReplicaSet and scales the old one to 0", async () => {
    const dt = h.t("apps", "deployments");
    const d = h.store.get(dt, "prod", "web") as KubeObject;
    const [oldRS] = ownedBy(h, "replicasets", "apps", d);
    const spec = structuredClone(d.spec) as {
      template: { metadata: { annotations?: Record<string, string> } };
    };
    spec.template.metadata.annotations = { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" };
    h.store.update(dt, { ...d, spec });
    const done = await eventually("restart rolled out", () => {
      const x = rolledOut(h, "prod", "web", 3);
      return x && ownedBy(h, "replicasets", "apps", x).length === 2 && x;
    });
    const all = ownedBy(h, "replicasets", "apps", done);
    const newRS = all.find((r) => r.metadata.uid !== oldRS?.metadata.uid) as KubeObject;
    const old = all.find((r) => r.metadata.uid === oldRS?.metadata.uid) as KubeObject;
    assert.equal((old.spec as { replicas: number }).replicas, 0);
    assert.equal((newRS.spec as { replicas: number }).replicas, 3);
    assert.equal(newRS.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
    assert.equal(done.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
    const pods = h.store.list(h.t("", "pods"), "prod").items.filter((p) => p.metadata.labels?.app === "web");
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"], "2026-01-01T00:00:00Z");
      assert.equal(p.metadata.labels?.["pod-template-hash"], newRS.metadata.labels?.["pod-template-hash"]);
    }
    // Going back to the first template reuses its ReplicaSet as revision 3.
    const cur = h.store.get(dt, "prod", "web") as KubeObject;
    h.store.update(dt, { ...cur, spec: d.spec });
    const back = await eventually("rollback", () => {
      const x = rolledOut(h, "prod", "web", 3);
      const rs = x && h.store.get(h.t("apps", "replicasets"), "prod", oldRS?.metadata.name ?? "");
      return rs && (rs.spec as { replicas: number }).replicas === 3 && rs;
    });
    assert.equal(back.metadata.annotations?.["deployment.kubernetes.io/revision"], "3");
  });

  test("old ReplicaSets beyond revisionHistoryLimit are deleted once idle", async () => {
    const dt = h.t("apps", "deployments");
    h.store.create(dt, deployment("hist", "prod", 1, { revisionHistoryLimit: 1 }));
    for (let i = 0; i < 3; i++) {
      await eventually(`rollout ${i}`, () => rolledOut(h, "prod", "hist", 1));
      const d = h.store.get(dt, "prod", "hist") as KubeObject;
      const spec = structuredClone(d.spec) as {
        template: { metadata: { annotations?: Record<string, string> } };
      };
      spec.template.metadata.annotations = { rev: String(i) };
      h.store.update(dt, { ...d, spec });
    }
    const d = await eventually("last rollout", () => {
      const x = rolledOut(h, "prod", "hist", 1);
      return x && ownedBy(h, "replicasets", "apps", x).length === 2 && x;
    });
    const revisions = ownedBy(h, "replicasets", "apps", d)
      .map((rs) => rs.metadata.annotations?.["deployment.kubernetes.io/revision"])
      .sort();
    assert.deepEqual(revisions, ["3", "4"]);
  });

  test("a Recreate Deployment removes old pods before starting new ones", async () => {
    const dt = h.t("apps", "deployments");
    h.store.create(dt, deployment("batchy", "prod", 2, { strategy: { type: "Recreate" } }));
    await eventually("first rollout", () => rolledOut(h, "prod", "batchy", 2));
    const d = h.store.get(dt, "prod", "batchy") as KubeObject;
    const spec = structuredClone(d.spec) as { template: { spec: { containers: { image: string }[] } } };
    (spec.template.spec.containers[0] as { image: string }).image = "nginx:1.28";
    const seen: string[] = [];
    const unwatch = h.store.watch(h.t("", "pods"), "prod", h.store.currentResourceVersion(), (e) => {
      if (e.object.metadata.labels?.app === "batchy")
        seen.push(`${e.type}:${(e.object.spec as { containers: { image: string }[] }).containers[0]?.image}`);
    });
    h.store.update(dt, { ...d, spec });
    await eventually("second rollout", () => {
      const x = rolledOut(h, "prod", "batchy", 2);
      return x && ownedBy(h, "replicasets", "apps", x).length === 2;
    });
    unwatch();
    const firstNew = seen.indexOf("ADDED:nginx:1.28");
    assert.ok(firstNew >= 0, "new pods were created");
    const lastOldDelete = seen.lastIndexOf("DELETED:nginx:1.27");
    assert.ok(lastOldDelete >= 0, "old pods were deleted");
    assert.ok(firstNew > lastOldDelete, `old pods all gone before new ones: ${seen.join(" ")}`);
  });

  test("a standalone pod is scheduled and Running with events", async () => {
    const pt = h.t("", "pods");
    h.store.create(pt, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "lonely", namespace: "default" },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    const p = await eventually("running", () => {
      const x = h.store.get(pt, "default", "lonely");
      return x && phase(x) === "Running" && x;
    });
    assert.equal((p.spec as { nodeName: string }).nodeName, "sim-node-1");
    const reasons = h.store
      .list(h.t("", "events"), "default")
      .items.filter((e) => (e.involvedObject as { name: string }).name === "lonely")
      .map((e) => e.reason);
    assert.deepEqual(reasons.sort(), ["Created", "Pulled", "Scheduled", "Started"]);
  });

  test("deployments and replicasets record ScalingReplicaSet and SuccessfulCreate events", () => {
    const events = h.store.list(h.t("", "events"), "prod").items;
    const of = (kind: string, reason: string) =>
      events.filter((e) => (e.involvedObject as { kind: string }).kind === kind && e.reason === reason);
    assert.ok(
      of("Deployment", "ScalingReplicaSet").some((e) =>
        /^Scaled up replica set web-\w+ from 0 to 3$/.test(String(e.message)),
      ),
    );
    assert.ok(
      of("ReplicaSet", "SuccessfulCreate").some((e) => /^Created pod: web-\w+-\w+$/.test(String(e.message))),
    );
  });

  test("a StatefulSet runs ordinal pods and scales down from the top", async () => {
    const st = h.t("apps", "statefulsets");
    h.store.create(st, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "prod" },
      spec: {
        replicas: 3,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: {
          metadata: { labels: { app: "db" } },
          spec: { containers: [{ name: "pg", image: "postgres:17" }] },
        },
      },
    });
    const podNames = () =>
      h.store
        .list(h.t("", "pods"), "prod")
        .items.filter((p) => p.metadata.labels?.app === "db" && phase(p) === "Running")
        .map((p) => p.metadata.name)
        .sort();
    await eventually("3 ready", () => status(h.store.get(st, "prod", "db")).readyReplicas === 3);
    assert.deepEqual(podNames(), ["db-0", "db-1", "db-2"]);
    const s = h.store.get(st, "prod", "db") as KubeObject;
    assert.equal(status(s).currentRevision, status(s).updateRevision);
    h.store.update(st, { ...s, spec: { ...(s.spec as object), replicas: 2 } });
    await eventually(
      "2 ready",
      () => status(h.store.get(st, "prod", "db")).replicas === 2 && podNames().length === 2,
    );
    assert.deepEqual(podNames(), ["db-0", "db-1"]);
  });

  test("a DaemonSet runs one pod on the node", async () => {
    const dst = h.t("apps", "daemonsets");
    h.store.create(dst, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "prod" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "a", image: "agent:1" }] },
        },
      },
    });
    const ds = await eventually("ds ready", () => {
      const x = h.store.get(dst, "prod", "agent");
      return status(x).numberReady === 1 && x;
    });
    assert.equal(status(ds).desiredNumberScheduled, 1);
    assert.equal(status(ds).updatedNumberScheduled, 1);
    const pods = ownedBy(h, "pods", "", ds);
    assert.equal(pods.length, 1);
    assert.equal((pods[0]?.spec as { nodeName?: string } | undefined)?.nodeName, "sim-node-1");
  });

  test("a Job's pods succeed and the Job is Complete", async () => {
    const jt = h.t("batch", "jobs");
    h.store.create(jt, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate", namespace: "prod" },
      spec: {
        completions: 2,
        parallelism: 1,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image: "migrate:1" }] } },
      },
    });
    const job = await eventually("job complete", () => {
      const x = h.store.get(jt, "prod", "migrate");
      const conds = (status(x).conditions ?? []) as { type: string; status: string }[];
      return conds.some((c) => c.type === "Complete" && c.status === "True") && x;
    });
    assert.equal(status(job).succeeded, 2);
    assert.ok(status(job).completionTime);
    const pods = ownedBy(h, "pods", "", job);
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(phase(p), "Succeeded");
  });
});
