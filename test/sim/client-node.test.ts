import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { CoreV1Api, KubeConfig, ListWatch, Watch } from "@kubernetes/client-node";
import { eventually } from "../helpers/eventually.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
let kc: KubeConfig;
let core: CoreV1Api;

before(async () => {
  sim = await startTestSimulator();
  kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});
after(async () => {
  await sim.close();
});

const configMap = (name: string, labels: Record<string, string> = {}): V1ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels },
  data: { k: "v" },
});

test("client-node creates and lists with a label selector", async () => {
  await core.createNamespacedConfigMap({ namespace: "default", body: configMap("cn-a", { team: "x" }) });
  await core.createNamespacedConfigMap({ namespace: "default", body: configMap("cn-b", { team: "y" }) });
  const list = await core.listNamespacedConfigMap({ namespace: "default", labelSelector: "team=x" });
  assert.deepEqual(
    list.items.map((i) => i.metadata?.name),
    ["cn-a"],
  );
  assert.match(list.metadata?.resourceVersion ?? "", /^\d+$/);
  const namespaces = await core.listNamespace();
  assert.ok(namespaces.items.some((n) => n.metadata?.name === "default"));
});

test("client-node reads a missing object as a 404 with the Status message", async () => {
  await assert.rejects(
    core.readNamespacedConfigMap({ namespace: "default", name: "cn-missing" }),
    (err: { code: number; body: string }) => {
      assert.equal(err.code, 404);
      const status = JSON.parse(err.body);
      assert.equal(status.reason, "NotFound");
      assert.equal(status.message, 'configmaps "cn-missing" not found');
      return true;
    },
  );
});

test("client-node Watch sees ADDED, MODIFIED and DELETED from a resourceVersion", async () => {
  const list = await core.listNamespacedConfigMap({ namespace: "default" });
  const events: string[] = [];
  let resolveDone: () => void = () => {};
  const seenDelete = new Promise<void>((r) => {
    resolveDone = r;
  });
  const controller = await new Watch(kc).watch(
    "/api/v1/namespaces/default/configmaps",
    { resourceVersion: list.metadata?.resourceVersion },
    (phase, obj: V1ConfigMap) => {
      if (obj.metadata?.name !== "cn-w") return;
      events.push(phase);
      if (phase === "DELETED") resolveDone();
    },
    () => {},
  );
  try {
    await core.createNamespacedConfigMap({ namespace: "default", body: configMap("cn-w") });
    await core.replaceNamespacedConfigMap({
      namespace: "default",
      name: "cn-w",
      body: { ...configMap("cn-w"), data: { k: "2" } },
    });
    await core.deleteNamespacedConfigMap({ namespace: "default", name: "cn-w" });
    await Promise.race([
      seenDelete,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`events so far: ${events.join(",")}`)), 5000),
      ),
    ]);
    assert.deepEqual(events, ["ADDED", "MODIFIED", "DELETED"]);
  } finally {
    controller.abort();
  }
});

test("client-node ListWatch (an informer) lists, then follows changes", async () => {
  const path = "/api/v1/namespaces/default/configmaps";
  const informer = new ListWatch<V1ConfigMap>(
    path,
    new Watch(kc),
    () => core.listNamespacedConfigMap({ namespace: "default", labelSelector: "informer=yes" }),
    false,
    "informer=yes",
  );
  const added: string[] = [];
  informer.on("add", (obj) => added.push(obj.metadata?.name ?? ""));
  await core.createNamespacedConfigMap({
    namespace: "default",
    body: configMap("cn-inf-1", { informer: "yes" }),
  });
  await informer.start();
  try {
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: configMap("cn-inf-2", { informer: "yes" }),
    });
    await eventually("the informer to see both ConfigMaps", () => added, { until: (a) => a.length >= 2 });
    assert.deepEqual(added.sort(), ["cn-inf-1", "cn-inf-2"]);
    assert.deepEqual(
      informer
        .list("default")
        .map((o) => o.metadata?.name)
        .sort(),
      ["cn-inf-1", "cn-inf-2"],
    );
  } finally {
    await informer.stop();
  }
});
