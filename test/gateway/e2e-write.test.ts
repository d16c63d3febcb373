// End to end, writes: the real kubectl with the agent's kubeconfig, through Airlock, changing the simulator. Each
// command does what it does directly (checked by reading the result back as the simulator's admin), and the
// simulator's record shows every request arrived impersonating airlock:demo-agent — so the cluster's own audit
// names the agent, and managedFields name kubectl's field manager, not the gateway.
//
// The tests build on each other (create, then update, then delete) and run in order on one gateway; each works on
// its own objects (e2e-*) so the seeded ones other tests read stay as seeded.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type KubectlResult, kubectl } from "../helpers/kubectl.ts";
import { simClient } from "../helpers/simclient.ts";
import {
  AGENT,
  assertAllImpersonated,
  hasRequest,
  impersonatedRequests,
  recordMark,
  simRecords,
} from "./e2e-support.ts";

let gw: TestGateway;
let agent: string;

before(async () => {
  gw = await startTestGateway();
  agent = (await gw.addIdentity(AGENT, "agent", ["agents"])).kubeconfig;
});
after(async () => {
  await gw?.close();
});

async function viaAirlock(args: string[], input?: string) {
  let result: KubectlResult | undefined;
  const records = await impersonatedRequests(gw.sim, async () => {
    result = await kubectl(agent, args, input === undefined ? {} : { input });
  });
  assert.ok(result);
  return { ...result, records };
}

/** Reads back as the simulator's admin, bypassing the gateway. */
async function readDirect(args: string[]): Promise<string> {
  const r = await kubectl(gw.sim.kubeconfigPath, ["--namespace", "prod", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function jsonDirect(kindName: string) {
  return JSON.parse(await readDirect(["get", kindName, "-o", "json"]));
}

const configMap = (name: string, data: Record<string, string>) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env:
            - {name: MODE, value: one}
            - {name: COLOR, value: blue}
`;

async function podsOf(app: string): Promise<string[]> {
  const out = await readDirect(["get", "pods", "-l", `app=${app}`, "-o", "name"]);
  return out.split("\n").filter(Boolean);
}

describe("kubectl apply and diff through Airlock", () => {
  test("apply -f (client-side) creates, then updates, with kubectl's last-applied annotation", async () => {
    const created = await viaAirlock(["apply", "-f", "-"], configMap("e2e-csa", { a: "1" }));
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), "configmap/e2e-csa created");
    assert.ok(hasRequest(created.records, { method: "POST", resource: "configmaps", namespace: "prod" }));

    const updated = await viaAirlock(["apply", "-f", "-"], configMap("e2e-csa", { a: "2", b: "3" }));
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout.trim(), "configmap/e2e-csa configured");
    assert.ok(hasRequest(updated.records, { method: "PATCH", resource: "configmaps", name: "e2e-csa" }));

    const live = await jsonDirect("configmap/e2e-csa");
    assert.deepEqual(live.data, { a: "2", b: "3" });
    assert.ok(live.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
  });

  test("apply --server-side creates, then updates, owned by the kubectl field manager", async () => {
    const created = await viaAirlock(["apply", "--server-side", "-f", "-"], configMap("e2e-ssa", { x: "1" }));
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), "configmap/e2e-ssa serverside-applied");
    const updated = await viaAirlock(["apply", "--server-side", "-f", "-"], configMap("e2e-ssa", { x: "2" }));
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout.trim(), "configmap/e2e-ssa serverside-applied");
    assert.ok(hasRequest(updated.records, { method: "PATCH", resource: "configmaps", name: "e2e-ssa" }));

    const live = JSON.parse(
      await readDirect(["get", "configmap/e2e-ssa", "-o", "json", "--show-managed-fields"]),
    );
    assert.deepEqual(live.data, { x: "2" });
    const managers = (live.metadata.managedFields as { manager: string; operation: string }[]).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    assert.deepEqual(managers, ["kubectl/Apply"]);
  });

  test("create configmap (a protobuf body) reaches the cluster intact", async () => {
    const r = await viaAirlock([
      "create",
      "configmap",
      "e2e-created",
      "--from-literal=k=v",
      "--from-literal=n=2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "configmap/e2e-created created");
    assert.ok(hasRequest(r.records, { method: "POST", resource: "configmaps", namespace: "prod" }));
    assert.deepEqual((await jsonDirect("configmap/e2e-created")).data, { k: "v", n: "2" });
  });

  test("diff shows a pending change (exit 1) without making it, and nothing once equal (exit 0)", async () => {
    const changed = await viaAirlock(["diff", "-f", "-"], configMap("e2e-csa", { a: "9", b: "3" }));
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /^-\s+a: "2"$/m);
    assert.match(changed.stdout, /^\+\s+a: "9"$/m);
    assert.deepEqual((await jsonDirect("configmap/e2e-csa")).data, { a: "2", b: "3" });

    const same = await viaAirlock(["diff", "-f", "-"], configMap("e2e-csa", { a: "2", b: "3" }));
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.equal(same.stdout, "");
  });
});

describe("kubectl label, patch and replace through Airlock", () => {
  test("label adds a label that a selector then finds, and --overwrite changes it", async () => {
    const r = await viaAirlock(["label", "configmap", "e2e-csa", "tier=backend"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "configmap/e2e-csa labeled");
    assert.ok(hasRequest(r.records, { method: "PATCH", name: "e2e-csa" }));
    assert.equal(await readDirect(["get", "cm", "-l", "tier=backend", "-o", "name"]), "configmap/e2e-csa\n");
    const refused = await viaAirlock(["label", "configmap", "e2e-csa", "tier=frontend"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already has a value \(backend\), and --overwrite is false/);
    const over = await viaAirlock(["label", "--overwrite", "configmap", "e2e-csa", "tier=frontend"]);
    assert.equal(over.code, 0, over.stderr);
    assert.equal((await jsonDirect("configmap/e2e-csa")).metadata.labels.tier, "frontend");
  });

  test("patch (strategic) merges a container's env by name, keeping the rest", async () => {
    const created = await viaAirlock(["apply", "-f", "-"], deployment("e2e-app", 2));
    assert.equal(created.code, 0, created.stderr);
    const patch = JSON.stringify({
      spec: {
        template: { spec: { containers: [{ name: "app", env: [{ name: "COLOR", value: "green" }] }] } },
      },
    });
    const r = await viaAirlock(["patch", "deployment", "e2e-app", "-p", patch]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "deployment.apps/e2e-app patched");
    const env = (await jsonDirect("deployment/e2e-app")).spec.template.spec.containers[0].env;
    assert.deepEqual(env, [
      { name: "MODE", value: "one" },
      { name: "COLOR", value: "green" },
    ]);
  });

  test("patch --type=merge replaces what it names", async () => {
    const r = await viaAirlock(["patch", "cm", "e2e-ssa", "--type=merge", "-p", '{"data":{"y":"new"}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "configmap/e2e-ssa patched");
    assert.deepEqual((await jsonDirect("configmap/e2e-ssa")).data, { x: "2", y: "new" });
  });

  test("patch --type=json applies operations, and a failing test op is refused with the cluster's error", async () => {
    const ops = JSON.stringify([
      { op: "test", path: "/data/x", value: "2" },
      { op: "replace", path: "/data/x", value: "3" },
      { op: "remove", path: "/data/y" },
    ]);
    const r = await viaAirlock(["patch", "cm", "e2e-ssa", "--type=json", "-p", ops]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await jsonDirect("configmap/e2e-ssa")).data, { x: "3" });
    const failing = JSON.stringify([{ op: "test", path: "/data/x", value: "nope" }]);
    const refused = await viaAirlock(["patch", "cm", "e2e-ssa", "--type=json", "-p", failing]);
    assert.equal(refused.code, 1);
    const straight = await kubectl(gw.sim.kubeconfigPath, [
      "-n",
      "prod",
      "patch",
      "cm",
      "e2e-ssa",
      "--type=json",
      "-p",
      failing,
    ]);
    assert.equal(refused.stderr, straight.stderr);
    assert.match(refused.stderr, /test failed/);
    assert.deepEqual((await jsonDirect("configmap/e2e-ssa")).data, { x: "3" });
  });

  test("replace writes the whole object, and a stale resourceVersion gets 409 Conflict", async () => {
    const live = await jsonDirect("configmap/e2e-csa");
    const stale = structuredClone(live);
    live.data = { replaced: "yes" };
    const r = await viaAirlock(["replace", "-f", "-"], JSON.stringify(live));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "configmap/e2e-csa replaced");
    assert.ok(hasRequest(r.records, { method: "PUT", resource: "configmaps", name: "e2e-csa" }));
    assert.deepEqual((await jsonDirect("configmap/e2e-csa")).data, { replaced: "yes" });

    stale.data = { lost: "update" };
    const conflict = await viaAirlock(["replace", "-f", "-"], JSON.stringify(stale));
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Error from server \(Conflict\)/);
    assert.deepEqual((await jsonDirect("configmap/e2e-csa")).data, { replaced: "yes" });
  });
});

describe("kubectl scale, rollout and delete through Airlock", () => {
  test("scale sets the replicas through the scale subresource and the pods follow", async () => {
    const r = await viaAirlock(["scale", "deployment/e2e-app", "--replicas=3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "deployment.apps/e2e-app scaled");
    assert.ok(hasRequest(r.records, { resource: "deployments", name: "e2e-app", subresource: "scale" }));
    await eventually("3 e2e-app pods", () => podsOf("e2e-app"), {
      until: (pods) => pods.length === 3,
      timeoutMs: 15_000,
    });
  });

  test("rollout restart replaces the pods and rollout status waits for it", async () => {
    const before = new Set(await podsOf("e2e-app"));
    const restart = await viaAirlock(["rollout", "restart", "deployment/e2e-app"]);
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal(restart.stdout.trim(), "deployment.apps/e2e-app restarted");
    const status = await viaAirlock(["rollout", "status", "deployment/e2e-app", "--timeout=30s"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "e2e-app" successfully rolled out/);
    // rollout status lists (and, while the rollout is in progress, watches) the Deployment by name.
    assert.ok(status.records.some((r) => r.resource === "deployments" && ["list", "watch"].includes(r.verb)));
    await eventually("the restarted pods", () => podsOf("e2e-app"), {
      until: (now) => now.length === 3 && now.every((p) => !before.has(p)),
      timeoutMs: 15_000,
    });
  });

  test("delete returns once the object is gone", async () => {
    const [pod] = await podsOf("e2e-app");
    assert.ok(pod);
    const r = await viaAirlock(["delete", pod]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `pod "${pod.replace(/^pod\//, "")}" deleted`);
    assert.ok(hasRequest(r.records, { method: "DELETE", resource: "pods" }));
    const gone = await kubectl(gw.sim.kubeconfigPath, ["-n", "prod", "get", pod]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /\(NotFound\)/);

    const cm = await viaAirlock(["delete", "configmap", "e2e-csa", "e2e-ssa", "e2e-created"]);
    assert.equal(cm.code, 0, cm.stderr);
    assert.equal(
      await readDirect(["get", "cm", "--field-selector", "metadata.name=e2e-csa", "-o", "name"]),
      "",
    );

    const deploy = await viaAirlock(["delete", "deployment", "e2e-app"]);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.equal(deploy.stdout.trim(), 'deployment.apps "e2e-app" deleted');
    const after = await kubectl(gw.sim.kubeconfigPath, ["-n", "prod", "get", "deployment", "e2e-app"]);
    assert.match(after.stderr, /\(NotFound\)/);
  });

  test("delete of an object held by a finalizer waits, on a watch through Airlock, until it is gone", async () => {
    // The other client speaks plain HTTPS (no kubectl User-Agent), so the
    // record still tells kubectl's requests apart while both run.
    const other = simClient(gw.sim);
    const path = "/api/v1/namespaces/prod/configmaps/e2e-held";
    try {
      const held = await other.req("POST", "/api/v1/namespaces/prod/configmaps", {
        body: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "e2e-held", finalizers: ["e2e.airlock.dev/hold"] },
        },
      });
      assert.equal(held.code, 201, held.text);
      const mark = await recordMark(gw.sim);
      let returned = false;
      const deleting = kubectl(agent, ["delete", "configmap", "e2e-held"]).finally(() => {
        returned = true;
      });
      await eventually(
        "the deletion to start",
        async () => (await other.req("GET", path)).body?.metadata?.deletionTimestamp,
      );
      // A wait is what this checks: that kubectl has NOT returned half a second into the held deletion.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(returned, false, "kubectl delete returned while the object still existed");
      const release = await other.req("PATCH", path, {
        body: [{ op: "remove", path: "/metadata/finalizers" }],
        contentType: "application/json-patch+json",
      });
      assert.equal(release.code, 200, release.text);
      const waited = await deleting;
      assert.equal(waited.code, 0, waited.stderr);
      assert.equal(waited.stdout.trim(), 'configmap "e2e-held" deleted');
      const byKubectl = (await simRecords(gw.sim, mark)).filter((r) => r.userAgent.startsWith("kubectl/"));
      assertAllImpersonated(byKubectl);
      assert.ok(byKubectl.some((r) => r.resource === "configmaps" && r.verb === "watch"));
      assert.equal((await other.req("GET", path)).code, 404);
    } finally {
      other.close();
    }
  });
});
