import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

// What `kubectl get` prints for custom resources with additionalPrinterColumns and for the storage and networking
// kinds, all from the simulator's server-side Tables.
let sim: Simulator;
const k = (args: string[], input?: string) =>
  kubectl(sim.kubeconfigPath, args, input === undefined ? {} : { input });

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
        - {name: Color, type: string, jsonPath: .spec.color}
        - {name: Owner, type: string, jsonPath: .spec.owner, priority: 1}
`;

before(async () => {
  sim = await startTestSimulator();
  const crd = await k(["apply", "-f", "-"], CRD);
  assert.equal(crd.code, 0, crd.stderr);
});
after(async () => {
  await sim.close();
});

test("kubectl get of a custom resource prints the CRD's additionalPrinterColumns (wide ones with -o wide)", async () => {
  const w = await k(
    ["apply", "-f", "-"],
    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, color: blue, owner: ann}\n",
  );
  assert.equal(w.code, 0, w.stderr);
  const got = await k(["get", "widgets"]);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /^NAME\s+SIZE\s+COLOR\n/);
  assert.match(got.stdout, /\nw1\s+3\s+blue\n/);
  const wide = await k(["get", "wg", "w1", "-o", "wide"]);
  assert.match(wide.stdout, /^NAME\s+SIZE\s+COLOR\s+OWNER\n/);
  assert.match(wide.stdout, /\nw1\s+3\s+blue\s+ann\n/);
});

test("kubectl get ingress prints class, hosts and ports", async () => {
  const made = await k([
    "create",
    "ingress",
    "site",
    "--class=nginx",
    "--rule=a.example/=web:80",
    "--rule=b.example/=web:80,tls=cert",
  ]);
  assert.equal(made.code, 0, made.stderr);
  const got = await k(["get", "ingress", "site"]);
  assert.match(got.stdout, /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n/);
  assert.match(got.stdout, /\nsite\s+nginx\s+a\.example,b\.example\s+80, 443\s+\d+s\n/);
});

test("kubectl get pvc and pv print status, capacity, access modes and claim", async () => {
  const pv = `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: fast
  claimRef: {namespace: default, name: data}
  hostPath: {path: /tmp/pv1}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: fast
  volumeName: pv1
`;
  const made = await k(["apply", "-f", "-"], pv);
  assert.equal(made.code, 0, made.stderr);
  const pvs = await k(["get", "pv"]);
  assert.match(
    pvs.stdout,
    /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\n/,
  );
  assert.match(pvs.stdout, /\npv1\s+1Gi\s+RWO\s+Retain\s+\S*\s*default\/data\s+fast\s+<unset>\s+/);
  const pvcs = await k(["get", "pvc", "-o", "wide"]);
  assert.match(
    pvcs.stdout,
    /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\s+VOLUMEMODE\n/,
  );
  assert.match(pvcs.stdout, /\ndata\s+pv1\s+fast\s+<unset>\s+\d+s\s+<unset>\n/);
});
