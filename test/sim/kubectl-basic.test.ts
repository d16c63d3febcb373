import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

let sim: Simulator;
let api: SimClient;
const k = (args: string[], input?: string) =>
  kubectl(sim.kubeconfigPath, args, input === undefined ? {} : { input });

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
  api = simClient(sim);
});
after(async () => {
  api.close();
  await sim.close();
});

const configMapYaml = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels: {app: kt}\ndata:\n  k: "${value}"\n`;

const deploymentYaml = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: nginx}]
`;

test("kubectl get lists namespaces, pods across namespaces, deployments and secrets", async () => {
  const ns = await k(["get", "namespaces"]);
  assert.equal(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /^NAME\s/);
  assert.match(ns.stdout, /\ndefault\s/);
  const pods = await k(["get", "pods", "-A"]);
  assert.equal(pods.code, 0, pods.stderr);
  assert.match(pods.stdout, /^NAMESPACE\s+NAME\s/);
  assert.match(pods.stdout, /\nprod\s+web-/);
  const deploy = await k(["get", "deployments", "-n", "prod"]);
  assert.equal(deploy.code, 0, deploy.stderr);
  assert.match(deploy.stdout, /\nweb\s/);
  const secrets = await k(["get", "secrets", "-A"]);
  assert.equal(secrets.code, 0, secrets.stderr);
});

test("kubectl get -o yaml, -o wide and -l", async () => {
  const created = await k(["apply", "-f", "-"], configMapYaml("kt-get", "1"));
  assert.equal(created.code, 0, created.stderr);
  const yaml = await k(["get", "configmap", "kt-get", "-o", "yaml"]);
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(yaml.stdout, /kind: ConfigMap/);
  assert.match(yaml.stdout, /resourceVersion: "\d+"/);
  const wide = await k(["get", "pods", "-n", "prod", "-o", "wide"]);
  assert.equal(wide.code, 0, wide.stderr);
  assert.match(wide.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s/);
  assert.match(wide.stdout, /\n\S+\s+1\/1\s+Running\s/);
  const labelled = await k(["get", "configmaps", "-l", "app=kt", "-o", "name"]);
  assert.equal(labelled.stdout.trim(), "configmap/kt-get");
  const none = await k(["get", "configmaps", "-l", "app=nothing"]);
  assert.match(none.stderr, /No resources found in default namespace/);
});

test("kubectl get -w sees a change made by another client", async () => {
  const child = spawnKubectl(sim.kubeconfigPath, ["get", "configmaps", "-w", "-o", "name"]);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  try {
    await eventuallyMatches(() => out, /configmap\/kt-get/, 15_000);
    const r = await api.req("POST", "/api/v1/namespaces/default/configmaps", {
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kt-watched" } },
    });
    assert.equal(r.code, 201);
    await eventuallyMatches(() => out, /configmap\/kt-watched/, 15_000);
  } finally {
    child.kill();
    if (child.exitCode === null) await once(child, "close");
  }
});

test("kubectl describe pod shows the pod and its events", async () => {
  const pods = await k(["get", "pods", "-n", "prod", "-o", "name"]);
  const name = pods.stdout.split("\n")[0]?.replace("pod/", "") ?? "";
  assert.ok(name);
  const d = await k(["describe", "pod", name, "-n", "prod"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, new RegExp(`Name:\\s+${name}`));
  assert.match(d.stdout, /Namespace:\s+prod/);
});

test("kubectl apply creates then updates, client-side and server-side", async () => {
  const first = await k(["apply", "-f", "-"], configMapYaml("kt-apply", "1"));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /configmap\/kt-apply created/);
  const second = await k(["apply", "-f", "-"], configMapYaml("kt-apply", "2"));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /configmap\/kt-apply configured/);
  assert.equal(second.stderr, "");
  assert.equal((await k(["get", "cm", "kt-apply", "-o", "jsonpath={.data.k}"])).stdout, "2");

  const ssa1 = await k(["apply", "--server-side", "-f", "-"], configMapYaml("kt-ssa", "1"));
  assert.equal(ssa1.code, 0, ssa1.stderr);
  assert.match(ssa1.stdout, /configmap\/kt-ssa serverside-applied/);
  const ssa2 = await k(["apply", "--server-side", "-f", "-"], configMapYaml("kt-ssa", "2"));
  assert.equal(ssa2.code, 0, ssa2.stderr);
  assert.equal((await k(["get", "cm", "kt-ssa", "-o", "jsonpath={.data.k}"])).stdout, "2");
});

test("kubectl diff shows the change and changes nothing", async () => {
  await k(["apply", "-f", "-"], configMapYaml("kt-diff", "1"));
  const d = await k(["diff", "-f", "-"], configMapYaml("kt-diff", "2"));
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /-\s+k: "1"/);
  assert.match(d.stdout, /\+\s+k: "2"/);
  assert.equal((await k(["get", "cm", "kt-diff", "-o", "jsonpath={.data.k}"])).stdout, "1");
  const same = await k(["diff", "-f", "-"], configMapYaml("kt-diff", "1"));
  assert.equal(same.code, 0, same.stdout + same.stderr);
});

test("kubectl label and the three patch types", async () => {
  await k(["apply", "-f", "-"], configMapYaml("kt-patch", "1"));
  const label = await k(["label", "cm", "kt-patch", "color=blue"]);
  assert.equal(label.code, 0, label.stderr);
  assert.match(label.stdout, /configmap\/kt-patch labeled/);
  const merge = await k(["patch", "cm", "kt-patch", "--type=merge", "-p", '{"data":{"m":"1"}}']);
  assert.equal(merge.code, 0, merge.stderr);
  const json = await k([
    "patch",
    "cm",
    "kt-patch",
    "--type=json",
    "-p",
    '[{"op":"add","path":"/data/j","value":"2"}]',
  ]);
  assert.equal(json.code, 0, json.stderr);
  const smp = await k(["patch", "cm", "kt-patch", "-p", '{"data":{"s":"3"}}']);
  assert.equal(smp.code, 0, smp.stderr);
  const got = JSON.parse((await k(["get", "cm", "kt-patch", "-o", "json"])).stdout);
  assert.equal(got.metadata.labels.color, "blue");
  assert.deepEqual(got.data, { k: "1", m: "1", j: "2", s: "3" });
});

test("kubectl replace updates with the resourceVersion it read; a missing object is NotFound", async () => {
  await k(["apply", "-f", "-"], configMapYaml("kt-replace", "1"));
  const live = JSON.parse((await k(["get", "cm", "kt-replace", "-o", "json"])).stdout);
  live.data.k = "replaced";
  const r = await k(["replace", "-f", "-"], JSON.stringify(live));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /configmap\/kt-replace replaced/);
  const stale = await k(["replace", "-f", "-"], JSON.stringify(live));
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /Error from server \(Conflict\)/);
  const missing = await k(["get", "cm", "kt-nope"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Error from server \(NotFound\): configmaps "kt-nope" not found/);
});

test("kubectl delete returns once the object is gone", async () => {
  await k(["apply", "-f", "-"], configMapYaml("kt-delete", "1"));
  const d = await k(["delete", "cm", "kt-delete"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /configmap "kt-delete" deleted/);
  assert.equal((await api.req("GET", "/api/v1/namespaces/default/configmaps/kt-delete")).code, 404);
});

test("kubectl scale, rollout restart and rollout status", async () => {
  const created = await k(["apply", "-f", "-"], deploymentYaml("kt-web", 1));
  assert.equal(created.code, 0, created.stderr);
  const scaled = await k(["scale", "deployment/kt-web", "--replicas=3"]);
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.match(scaled.stdout, /deployment.apps\/kt-web scaled/);
  const status = await k(["rollout", "status", "deployment/kt-web", "--timeout=30s"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /successfully rolled out/);
  const restart = await k(["rollout", "restart", "deployment/kt-web"]);
  assert.equal(restart.code, 0, restart.stderr);
  const again = await k(["rollout", "status", "deployment/kt-web", "--timeout=30s"]);
  assert.equal(again.code, 0, again.stderr);
  const ready = await k(["get", "deployment", "kt-web", "-o", "jsonpath={.status.readyReplicas}"]);
  assert.equal(ready.stdout, "3");
});

test("kubectl api-resources lists built-in and short names", async () => {
  const r = await k(["api-resources"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\npods\s+po\s+v1\s+true\s+Pod/);
  assert.match(r.stdout, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
  assert.match(r.stdout, /\ncustomresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false/);
});
