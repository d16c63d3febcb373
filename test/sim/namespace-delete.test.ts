import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

// The namespace lifecycle through the real kubectl: `kubectl delete namespace` waits (it GETs, then watches with
// fieldSelector=metadata.name=<ns>) and must return only once the namespace and everything in it are gone.
let sim: Simulator;
const k = (args: string[], input?: string) =>
  kubectl(sim.kubeconfigPath, args, { timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });

before(async () => {
  sim = await startTestSimulator();
});
after(async () => {
  await sim.close();
});

test("kubectl delete namespace returns once the namespace and its workloads, pods and config are gone", async () => {
  assert.equal((await k(["create", "namespace", "nsd-a"])).code, 0);
  assert.equal(
    (await k(["create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "nsd-a"])).code,
    0,
  );
  assert.equal((await k(["create", "configmap", "cfg", "--from-literal=a=b", "-n", "nsd-a"])).code, 0);
  assert.equal((await k(["rollout", "status", "deployment/web", "-n", "nsd-a", "--timeout=20s"])).code, 0);

  const deleted = await k(["delete", "namespace", "nsd-a"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, 'namespace "nsd-a" deleted\n');
  const ns = await k(["get", "namespace", "nsd-a"]);
  assert.match(ns.stderr, /NotFound.*namespaces "nsd-a" not found/);
  const left = await k(["get", "all,configmaps,secrets,serviceaccounts", "-n", "nsd-a", "-o", "name"]);
  assert.equal(left.stdout, "");
});

test("a finalizer on content keeps the namespace Terminating, says why, and kubectl delete waits until it clears", async () => {
  assert.equal((await k(["create", "namespace", "nsd-b"])).code, 0);
  const held = `apiVersion: v1
kind: ConfigMap
metadata: {name: held, namespace: nsd-b, finalizers: [example.com/hold]}
`;
  assert.equal((await k(["apply", "-f", "-"], held)).code, 0);

  let finished = false;
  const deletion = k(["delete", "namespace", "nsd-b"]).then((r) => {
    finished = true;
    return r;
  });
  await eventually(
    "the namespace to be Terminating",
    async () => (await k(["get", "namespace", "nsd-b", "-o", "jsonpath={.status.phase}"])).stdout,
    { until: (phase) => phase === "Terminating" },
  );
  const described = await k(["describe", "namespace", "nsd-b"]);
  assert.match(described.stdout, /Status:\s+Terminating/);
  assert.match(
    described.stdout,
    /NamespaceContentRemaining\s+True\s+.+\s+SomeResourcesRemain\s+Some resources are remaining: configmaps\. has 1 resource instances/,
  );
  assert.match(
    described.stdout,
    /NamespaceFinalizersRemaining\s+True\s+.+\s+SomeFinalizersRemain\s+Some content in the namespace has finalizers remaining: example\.com\/hold in 1 resource instances/,
  );
  const refused = await k(["create", "configmap", "late", "-n", "nsd-b"]);
  assert.match(
    refused.stderr,
    /forbidden: unable to create new content in namespace nsd-b because it is being terminated/,
  );
  // A wait is what this checks: a second on, the delete has still not returned while content is held.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(finished, false, "kubectl delete returned while content was still held");

  const release = await k([
    "patch",
    "configmap",
    "held",
    "-n",
    "nsd-b",
    "--type=merge",
    "-p",
    '{"metadata":{"finalizers":null}}',
  ]);
  assert.equal(release.code, 0, release.stderr);
  const r = await deletion;
  assert.equal(r.code, 0, r.stderr);
  assert.match((await k(["get", "namespace", "nsd-b"])).stderr, /not found/);
});
