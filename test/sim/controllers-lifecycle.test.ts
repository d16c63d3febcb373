// Garbage collection, namespace lifecycle, Services and Endpoints, the event bound and stop(), driven through the
// real store and registry.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KubeObject, ObjectStore, ResourceType } from "@airlock/sim/contracts.ts";
import { createEventRecorder } from "@airlock/sim/controllers/events.ts";
import { startControllers } from "@airlock/sim/controllers/index.ts";
import { createRegistry } from "@airlock/sim/registry.ts";
import { createMemoryStore } from "@airlock/sim/store.ts";
import { eventually } from "../helpers/eventually.ts";

const store: ObjectStore = createMemoryStore();
const registry = createRegistry();
const t = (group: string, resource: string): ResourceType => {
  const type = registry.all().find((x) => x.group === group && x.resource === resource);
  assert.ok(type, `${group}/${resource} is served`);
  return type;
};
const logs: string[] = [];
let stop = () => {};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, unknown>;

function namespace(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: { finalizers: ["kubernetes"] } };
}

function deployment(name: string, ns: string, replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: "nginx:1.27", ports: [{ containerPort: 8080, name: "http" }] }] },
      },
    },
  };
}

function labelled(resource: string, group: string, ns: string, app: string): KubeObject[] {
  return store.list(t(group, resource), ns).items.filter((o) => o.metadata.labels?.app === app);
}

async function runningDeployment(name: string, ns: string, replicas: number): Promise<KubeObject> {
  const d = store.create(t("apps", "deployments"), deployment(name, ns, replicas));
  await eventually(`${name} running`, () => {
    const pods = labelled("pods", "", ns, name);
    return pods.length === replicas && pods.every((p) => status(p).phase === "Running");
  });
  return d;
}

/** Marks an object deleted the way the API layer does for a propagation policy that needs a finalizer. */
function markDeleted(type: ResourceType, obj: KubeObject, finalizer: string): void {
  const cur = store.get(type, obj.metadata.namespace ?? "", obj.metadata.name ?? "") as KubeObject;
  store.update(type, {
    ...cur,
    metadata: {
      ...cur.metadata,
      deletionTimestamp: new Date().toISOString(),
      finalizers: [...(cur.metadata.finalizers ?? []), finalizer],
    },
  });
}

before(() => {
  store.create(t("", "nodes"), { apiVersion: "v1", kind: "Node", metadata: { name: "sim-node-1" } });
  store.create(t("", "namespaces"), namespace("gc"));
  stop = startControllers(store, registry, {
    log: (m, e) => logs.push(`${m} ${e ?? ""}`),
    rootCaPem: "PEM",
  }).stop;
});
after(() => stop());

describe("garbage collection", () => {
  test("background: removing a Deployment removes its ReplicaSet and pods", async () => {
    await runningDeployment("bg", "gc", 2);
    store.remove(t("apps", "deployments"), "gc", "bg");
    await eventually(
      "dependents gone",
      () =>
        labelled("replicasets", "apps", "gc", "bg").length === 0 &&
        labelled("pods", "", "gc", "bg").length === 0,
    );
  });

  test("foreground: pods go first, then the ReplicaSet, then the Deployment", async () => {
    const d = await runningDeployment("fg", "gc", 2);
    const order: string[] = [];
    const unwatch = ["pods", "replicasets", "deployments"].map((r) =>
      store.watch(t(r === "pods" ? "" : "apps", r), "gc", store.currentResourceVersion(), (e) => {
        if (e.type === "DELETED" && e.object.metadata.name?.startsWith("fg")) order.push(e.object.kind);
      }),
    );
    markDeleted(t("apps", "deployments"), d, "foregroundDeletion");
    // While dependents remain, the owner is still there, being deleted.
    assert.ok(store.get(t("apps", "deployments"), "gc", "fg")?.metadata.deletionTimestamp);
    await eventually("owner gone", () => !store.get(t("apps", "deployments"), "gc", "fg"));
    for (const u of unwatch) u();
    assert.deepEqual(order, ["Pod", "Pod", "ReplicaSet", "Deployment"]);
  });

  test("orphan: the ReplicaSet and pods stay, without the owner reference", async () => {
    const d = await runningDeployment("or", "gc", 1);
    markDeleted(t("apps", "deployments"), d, "orphan");
    await eventually("owner gone", () => !store.get(t("apps", "deployments"), "gc", "or"));
    await sleep(20);
    const [rs] = labelled("replicasets", "apps", "gc", "or");
    assert.ok(rs, "the ReplicaSet survived");
    assert.equal(rs.metadata.ownerReferences, undefined);
    assert.equal(labelled("pods", "", "gc", "or").length, 1, "its pod survived too");
  });

  test("an object whose owner never existed is collected", async () => {
    store.create(t("", "configmaps"), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "dangling",
        namespace: "gc",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "ghost", uid: "no-such-uid" }],
      },
    });
    await eventually("collected", () => !store.get(t("", "configmaps"), "gc", "dangling"));
  });
});

describe("namespaces", () => {
  test("a new namespace becomes Active with a default ServiceAccount and kube-root-ca.crt", async () => {
    store.create(t("", "namespaces"), namespace("fresh"));
    await eventually("defaults", () => store.get(t("", "serviceaccounts"), "fresh", "default"));
    const cm = await eventually("ca", () => store.get(t("", "configmaps"), "fresh", "kube-root-ca.crt"));
    assert.equal((cm.data as Record<string, string>)["ca.crt"], "PEM");
    await eventually("active", () => status(store.get(t("", "namespaces"), "", "fresh")).phase === "Active");
  });

  test("a terminating namespace is emptied, then removed; a foreign finalizer holds it until cleared", async () => {
    store.create(t("", "namespaces"), namespace("doomed"));
    await runningDeployment("app", "doomed", 2);
    const cmType = t("", "configmaps");
    store.create(cmType, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "held", namespace: "doomed", finalizers: ["example.com/hold"] },
    });
    const ns = store.get(t("", "namespaces"), "", "doomed") as KubeObject;
    store.update(t("", "namespaces"), {
      ...ns,
      metadata: { ...ns.metadata, deletionTimestamp: new Date().toISOString() },
    });
    await eventually(
      "terminating",
      () => status(store.get(t("", "namespaces"), "", "doomed")).phase === "Terminating",
    );
    await eventually(
      "workloads gone",
      () =>
        store.list(t("", "pods"), "doomed").items.length === 0 &&
        store.list(t("apps", "deployments"), "doomed").items.length === 0,
    );
    await sleep(30);
    assert.ok(store.get(t("", "namespaces"), "", "doomed"), "held by the ConfigMap's finalizer");
    const held = store.get(cmType, "doomed", "held") as KubeObject;
    assert.ok(held.metadata.deletionTimestamp);
    store.update(cmType, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await eventually("namespace gone", () => !store.get(t("", "namespaces"), "", "doomed"));
    for (const type of registry.all().filter((x) => x.namespaced && x.verbs.includes("list"))) {
      assert.equal(store.list(type, "doomed").items.length, 0, `no ${type.resource} left`);
    }
  });
});

describe("services", () => {
  test("a Service gets a ClusterIP and Endpoints that follow its ready pods", async () => {
    store.create(t("", "namespaces"), namespace("svc"));
    const svc = store.create(t("", "services"), {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "svc" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    const withIp = await eventually("cluster ip", () => {
      const s = store.get(t("", "services"), "svc", "web");
      return !!(s?.spec as { clusterIP?: string } | undefined)?.clusterIP && s;
    });
    assert.match((withIp.spec as { clusterIP: string }).clusterIP, /^10\.96\.\d+\.\d+$/);
    assert.equal(withIp.metadata.uid, svc.metadata.uid);
    await runningDeployment("web", "svc", 2);
    const endpointIps = () => {
      const ep = store.get(t("", "endpoints"), "svc", "web");
      const subsets = (ep?.subsets ?? []) as { addresses?: { ip: string }[]; ports?: { port: number }[] }[];
      return {
        ips: subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort(),
        ports: subsets.map((s) => s.ports),
      };
    };
    const podIps = () =>
      labelled("pods", "", "svc", "web")
        .map((p) => String(status(p).podIP))
        .sort();
    await eventually("2 endpoints", () => endpointIps().ips.length === 2);
    assert.deepEqual(endpointIps().ips, podIps());
    assert.deepEqual(
      endpointIps().ports,
      [[{ name: "http", port: 8080, protocol: "TCP" }]],
      "named targetPort resolved",
    );
    const d = store.get(t("apps", "deployments"), "svc", "web") as KubeObject;
    store.update(t("apps", "deployments"), { ...d, spec: { ...(d.spec as object), replicas: 1 } });
    await eventually(
      "1 endpoint",
      () => endpointIps().ips.length === 1 && labelled("pods", "", "svc", "web").length === 1,
    );
    assert.deepEqual(endpointIps().ips, podIps());
    store.remove(t("", "services"), "svc", "web");
    await eventually(
      "endpoints removed with the service",
      () => !store.get(t("", "endpoints"), "svc", "web"),
    );
  });
});

describe("events and stop", () => {
  test("the event recorder keeps at most its bound and counts repeats", () => {
    const s = createMemoryStore();
    const r = createRegistry();
    const evType = r.find("", "v1", "events") as ResourceType;
    const rec = createEventRecorder(
      s,
      evType,
      () => new Date(),
      () => {},
      5,
    );
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "x", uid: "u1" },
    };
    for (let i = 0; i < 12; i++) rec.record(pod, "Normal", "Tick", `tick ${i}`, "test");
    const items = s.list(evType, "x").items;
    assert.equal(items.length, 5);
    assert.deepEqual(items.map((e) => e.message).sort(), [
      "tick 10",
      "tick 11",
      "tick 7",
      "tick 8",
      "tick 9",
    ]);
    rec.record(pod, "Normal", "Tick", "tick 11", "test");
    const repeated = s.list(evType, "x").items.find((e) => e.message === "tick 11");
    assert.equal(repeated?.count, 2);
  });

  test("after stop() the controllers do nothing more", async () => {
    const s = createMemoryStore();
    const r = createRegistry();
    const c = startControllers(s, r, { log: () => {} });
    c.stop();
    s.create(r.find("apps", "v1", "deployments") as ResourceType, deployment("late", "default", 1));
    await sleep(30);
    assert.equal(s.list(r.find("apps", "v1", "replicasets") as ResourceType, "").items.length, 0);
  });

  test("no controller logged a failure during these tests", () => {
    assert.deepEqual(logs, []);
  });
});
