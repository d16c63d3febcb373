import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { CREATE_COMMANDS } from "./capture-protobuf-fixtures.ts";

// Each typed `kubectl create` command sends a protobuf body; the object it made must read back with its content.
let sim: Simulator;
const k = (args: string[]) => kubectl(sim.kubeconfigPath, args);

before(async () => {
  sim = await startTestSimulator();
});
after(async () => {
  await sim.close();
});

/** name in CREATE_COMMANDS → what `kubectl get <ref> -o yaml` must show. */
const READ_BACK: Record<string, { ref: string[]; shows: RegExp[] }> = {
  configmap: { ref: ["configmap", "pc-cm"], shows: [/a: b/, /greeting: hello world/] },
  secretGeneric: {
    ref: ["secret", "pc-secret"],
    shows: [new RegExp(`password: ${Buffer.from("s3cr3t").toString("base64")}`), /type: Opaque/],
  },
  secretDocker: {
    ref: ["secret", "pc-docker"],
    shows: [/\.dockerconfigjson: \S+/, /kubernetes\.io\/dockerconfigjson/],
  },
  namespace: { ref: ["namespace", "pc-ns"], shows: [/phase: Active/, /- kubernetes/] },
  serviceaccount: { ref: ["serviceaccount", "pc-sa"], shows: [/name: pc-sa/] },
  deployment: {
    ref: ["deployment", "pc-deploy"],
    shows: [/replicas: 2/, /image: nginx:1\.27/, /containerPort: 80/, /app: pc-deploy/],
  },
  serviceClusterIP: {
    ref: ["service", "pc-svc"],
    shows: [/port: 80\n\s+protocol: TCP\n\s+targetPort: 8080/, /targetPort: https/, /type: ClusterIP/],
  },
  serviceNodePort: { ref: ["service", "pc-np"], shows: [/nodePort: 30080/, /type: NodePort/] },
  serviceExternalName: {
    ref: ["service", "pc-ext"],
    shows: [/externalName: example\.com/, /type: ExternalName/],
  },
  job: { ref: ["job", "pc-job"], shows: [/- echo\n\s+- hi/, /restartPolicy: Never/] },
  cronjob: { ref: ["cronjob", "pc-cron"], shows: [/schedule: '\*\/5 \* \* \* \*'/, /- date/] },
  role: {
    ref: ["role", "pc-role"],
    shows: [/- pods/, /- apps/, /- deployments/, /resourceNames:\n\s+- web/, /- list/],
  },
  rolebinding: {
    ref: ["rolebinding", "pc-rb"],
    shows: [
      /kind: User\n\s+name: alice/,
      /kind: Group/,
      /kind: ServiceAccount\n\s+name: pc-sa\n\s+namespace: default/,
    ],
  },
  clusterrole: { ref: ["clusterrole", "pc-cr"], shows: [/- nodes/, /nonResourceURLs:\n\s+- \/healthz/] },
  clusterrolebinding: { ref: ["clusterrolebinding", "pc-crb"], shows: [/name: pc-cr/, /name: bob/] },
  priorityclass: {
    ref: ["priorityclass", "pc-high"],
    shows: [/value: 1000/, /description: high priority/, /preemptionPolicy: PreemptLowerPriority/],
  },
  quota: { ref: ["resourcequota", "pc-quota"], shows: [/pods: "10"/, /requests\.cpu: "2"/] },
  pdb: { ref: ["poddisruptionbudget", "pc-pdb"], shows: [/minAvailable: 50%/, /app: web/] },
  ingress: {
    ref: ["ingress", "pc-ing"],
    shows: [
      /host: foo\.com/,
      /path: \/bar/,
      /pathType: Exact/,
      /name: pc-svc/,
      /number: 80/,
      /ingressClassName: nginx/,
    ],
  },
};

test("every typed kubectl create command creates its object and get -o yaml shows what was sent", async () => {
  assert.deepEqual(Object.keys(READ_BACK).sort(), Object.keys(CREATE_COMMANDS).sort());
  for (const [name, args] of Object.entries(CREATE_COMMANDS)) {
    const created = await k(["create", ...args]);
    assert.equal(created.code, 0, `${name}: ${created.stderr}`);
    assert.match(created.stdout, / created\n$/);
    const check = READ_BACK[name];
    assert.ok(check);
    const yaml = await k(["get", ...check.ref, "-o", "yaml"]);
    assert.equal(yaml.code, 0, `${name}: ${yaml.stderr}`);
    for (const re of check.shows) assert.match(yaml.stdout, re, `${name}: get -o yaml shows ${re}`);
  }
});

test("a created deployment is picked up by the controllers: its pods become Running", async () => {
  const created = await k(["create", "deployment", "pc-run", "--image=nginx", "--replicas=2"]);
  assert.equal(created.code, 0, created.stderr);
  const status = await k(["rollout", "status", "deployment/pc-run", "--timeout=20s"]);
  assert.equal(status.code, 0, status.stderr);
  const pods = await k(["get", "pods", "-l", "app=pc-run", "-o", "name"]);
  assert.equal(pods.stdout.trim().split("\n").length, 2);
});
