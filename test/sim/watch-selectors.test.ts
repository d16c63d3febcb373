import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { filterEvent } from "@airlock/sim/api/watch.ts";
import type { KubeObject, WatchEvent } from "@airlock/sim/contracts.ts";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { spawnKubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

const cm = (app: string, rv: string, data = "1"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "x", namespace: "default", resourceVersion: rv, labels: { app } },
  data: { v: data },
});
const isA = (o: KubeObject) => o.metadata.labels?.app === "a";

describe("filterEvent: what a selector watch sees of one change", () => {
  const cases: [string, WatchEvent, KubeObject | undefined, string | undefined][] = [
    ["ADDED matching", { type: "ADDED", object: cm("a", "2") }, undefined, "ADDED"],
    ["ADDED not matching", { type: "ADDED", object: cm("b", "2") }, undefined, undefined],
    ["MODIFIED still matching", { type: "MODIFIED", object: cm("a", "3", "2") }, cm("a", "2"), "MODIFIED"],
    ["MODIFIED starts matching", { type: "MODIFIED", object: cm("a", "3") }, cm("b", "2"), "ADDED"],
    ["MODIFIED stops matching", { type: "MODIFIED", object: cm("b", "3") }, cm("a", "2"), "DELETED"],
    ["MODIFIED never matching", { type: "MODIFIED", object: cm("b", "3", "2") }, cm("b", "2"), undefined],
    ["DELETED matching", { type: "DELETED", object: cm("a", "4") }, undefined, "DELETED"],
    ["DELETED not matching", { type: "DELETED", object: cm("b", "4") }, undefined, undefined],
  ];
  for (const [name, event, previous, want] of cases) {
    test(name, () => assert.equal(filterEvent(isA, event, previous)?.type, want));
  }
  test("a DELETED for an object that stopped matching carries its matching state at the event's version", () => {
    const out = filterEvent(isA, { type: "MODIFIED", object: cm("b", "7") }, cm("a", "5"));
    assert.equal(out?.object.metadata.labels?.app, "a");
    assert.equal(out?.object.metadata.resourceVersion, "7");
  });
});

describe("selector watches against the simulator", () => {
  let sim: Simulator;
  let api: SimClient;
  before(async () => {
    sim = await startTestSimulator();
    api = simClient(sim);
  });
  after(async () => {
    api.close();
    await sim.close();
  });

  const relabel = (name: string, app: string) =>
    api.req("PATCH", `/api/v1/namespaces/default/configmaps/${name}`, {
      body: { metadata: { labels: { app } } },
      contentType: "application/merge-patch+json",
    });

  test("a label-selector watch gets DELETED when an object stops matching and ADDED when it matches again", async () => {
    const created = await api.req("POST", "/api/v1/namespaces/default/configmaps", {
      body: { metadata: { name: "ws1", labels: { app: "a" } }, data: { v: "1" } },
    });
    assert.equal(created.code, 201);
    const rv = created.body.metadata.resourceVersion as string;
    const w = await api.watch(
      `/api/v1/namespaces/default/configmaps?watch=1&labelSelector=app%3Da&resourceVersion=${rv}`,
    );
    try {
      assert.equal((await relabel("ws1", "b")).code, 200);
      const gone = await w.next();
      assert.equal(gone.type, "DELETED");
      assert.equal(gone.object.metadata.labels.app, "a");
      assert.equal((await relabel("ws1", "a")).code, 200);
      const back = await w.next();
      assert.equal(back.type, "ADDED");
      assert.equal(back.object.metadata.labels.app, "a");
      const changed = await api.req("PATCH", "/api/v1/namespaces/default/configmaps/ws1", {
        body: { data: { v: "2" } },
        contentType: "application/merge-patch+json",
      });
      assert.equal(changed.code, 200);
      assert.equal((await w.next()).type, "MODIFIED");
    } finally {
      w.close();
    }
    // The same history replayed from the version before the changes gives the same answers.
    const replay = await api.watch(
      `/api/v1/namespaces/default/configmaps?watch=1&labelSelector=app%3Da&resourceVersion=${rv}`,
    );
    try {
      const types = [await replay.next(), await replay.next(), await replay.next()].map((e) => e.type);
      assert.deepEqual(types, ["DELETED", "ADDED", "MODIFIED"]);
    } finally {
      replay.close();
    }
  });

  test("a field-selector watch on status.phase=Running gets ADDED when a pod starts running", async () => {
    const w = await api.watch("/api/v1/namespaces/default/pods?watch=1&fieldSelector=status.phase%3DRunning");
    try {
      const created = await api.req("POST", "/api/v1/namespaces/default/pods", {
        body: { metadata: { name: "ws-pod" }, spec: { containers: [{ name: "c", image: "busybox" }] } },
      });
      assert.equal(created.code, 201);
      assert.equal(created.body.status.phase, "Pending");
      const started = await w.next(10_000);
      assert.equal(started.type, "ADDED");
      assert.equal(started.object.metadata.name, "ws-pod");
      assert.equal(started.object.status.phase, "Running");
    } finally {
      w.close();
    }
  });

  test("kubectl get -w -l prints DELETED for an object relabelled out of the selector", async () => {
    const created = await api.req("POST", "/api/v1/namespaces/default/configmaps", {
      body: { metadata: { name: "ws-kubectl", labels: { app: "k" } } },
    });
    assert.equal(created.code, 201);
    const child = spawnKubectl(sim.kubeconfigPath, [
      "get",
      "configmaps",
      "-l",
      "app=k",
      "-w",
      "--output-watch-events",
    ]);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    try {
      await eventuallyMatches(() => out, /ADDED\s+ws-kubectl\s/, 15_000);
      assert.equal((await relabel("ws-kubectl", "other")).code, 200);
      await eventuallyMatches(() => out, /DELETED\s+ws-kubectl\s/, 15_000);
    } finally {
      child.kill();
    }
  });
});
