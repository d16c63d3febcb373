// The patch engines behind the real kubectl: client-side apply (strategic merge patch), server-side apply (field
// ownership and conflicts) and JSON patch errors, through the simulator's HTTPS API.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

let sim: Simulator;
const k = (args: string[], input?: string) =>
  kubectl(sim.kubeconfigPath, args, input === undefined ? {} : { input });

before(async () => {
  sim = await startTestSimulator({ seed: "empty" });
});
after(async () => {
  await sim.close();
});

const deployment = (replicas: number, env: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: pk-web, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: pk-web}}
  template:
    metadata: {labels: {app: pk-web}}
    spec:
      containers:
      - name: app
        image: nginx
        env:
${Object.entries(env)
  .map(([n, v]) => `        - {name: ${n}, value: "${v}"}`)
  .join("\n")}
`;

type Deploy = {
  spec: { replicas: number; template: { spec: { containers: { name: string; env: unknown[] }[] } } };
};

test("kubectl apply twice with a changed env var and replica count ends with exactly the new configuration", async () => {
  const first = await k(["apply", "-f", "-"], deployment(1, { A: "1", B: "1" }));
  assert.equal(first.code, 0, first.stderr);
  const second = await k(["apply", "-f", "-"], deployment(3, { A: "2", C: "3" }));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /deployment.apps\/pk-web configured/);
  const got = await k(["get", "deployment", "pk-web", "-o", "json"]);
  assert.equal(got.code, 0, got.stderr);
  const d = JSON.parse(got.stdout) as Deploy;
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual(d.spec.template.spec.containers[0]?.env, [
    { name: "A", value: "2" },
    { name: "C", value: "3" },
  ]);
});

const configMap = (data: Record<string, string>) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "pk-ssa", namespace: "default" },
    data,
  });

test("kubectl apply --server-side owns fields; another field manager's change conflicts until forced", async () => {
  const first = await k(["apply", "--server-side", "-f", "-"], configMap({ a: "1", b: "2" }));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /configmap\/pk-ssa serverside-applied/);
  const again = await k(["apply", "--server-side", "-f", "-"], configMap({ a: "1" }));
  assert.equal(again.code, 0, again.stderr);

  const clash = await k(["apply", "--server-side", "--field-manager=ci", "-f", "-"], configMap({ a: "9" }));
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.a/);

  const forced = await k(
    ["apply", "--server-side", "--field-manager=ci", "--force-conflicts", "-f", "-"],
    configMap({ a: "9" }),
  );
  assert.equal(forced.code, 0, forced.stderr);
  const got = await k(["get", "configmap", "pk-ssa", "-o", "json", "--show-managed-fields"]);
  const cm = JSON.parse(got.stdout) as {
    data: Record<string, string>;
    metadata: { managedFields: { manager: string; fieldsV1: unknown }[] };
  };
  assert.deepEqual(cm.data, { a: "9" }, "b was pruned by the second apply, a taken by ci");
  assert.deepEqual(
    cm.metadata.managedFields.map((m) => [m.manager, m.fieldsV1]),
    [["ci", { "f:data": { "f:a": {} } }]],
  );
});

test("a failing JSON patch test operation is refused as invalid and changes nothing", async () => {
  const created = await k(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pk-json" }, data: { a: "1" } }),
  );
  assert.equal(created.code, 0, created.stderr);
  const r = await k([
    "patch",
    "configmap",
    "pk-json",
    "--type=json",
    "-p",
    '[{"op":"test","path":"/data/a","value":"2"},{"op":"replace","path":"/data/a","value":"3"}]',
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The request is invalid/);
  assert.match(r.stderr, /testing value \/data\/a failed/);
  const got = await k(["get", "configmap", "pk-json", "-o", "jsonpath={.data.a}"]);
  assert.equal(got.stdout, "1");
});
