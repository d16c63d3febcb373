// Real kubectl prints the Tables toTable builds: a tiny HTTPS stub (legacy discovery plus one list endpoint per
// resource) answers `kubectl get` with toTable's output, and the printed text is compared with kubectl's layout.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { KubeObject, ResourceType } from "@airlock/sim/contracts.ts";
import { toTable } from "@airlock/sim/table.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { kubectl } from "../helpers/kubectl.ts";

// Ages are computed against a fixed clock so that slow runs print the same text.
const NOW = new Date();
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();
const rt = (group: string, kind: string, resource: string): ResourceType => ({
  group,
  version: "v1",
  resource,
  singular: kind.toLowerCase(),
  kind,
  listKind: `${kind}List`,
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ["get", "list"],
  subresources: [],
});
const PODS = rt("", "Pod", "pods");
const DEPLOYMENTS = rt("apps", "Deployment", "deployments");

const pods: KubeObject[] = [
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace: "default", creationTimestamp: ago(192) },
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "nginx" }] },
    status: {
      phase: "Running",
      podIP: "10.244.0.5",
      containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: { running: {} } }],
    },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "db-0", namespace: "prod", creationTimestamp: ago(51 * 3600) },
    spec: { containers: [{ name: "db", image: "postgres" }] },
    status: { phase: "Pending" },
  },
];
const deployments: KubeObject[] = [
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", creationTimestamp: ago(30) },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: { spec: { containers: [{ name: "app", image: "nginx:1.25" }] } },
    },
    status: { readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 },
  },
];

const resourceList = (gv: string, t: ResourceType) => ({
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: gv,
  resources: [{ name: t.resource, singularName: t.singular, namespaced: true, kind: t.kind, verbs: t.verbs }],
});

let server: https.Server;
let dir: string;
let kubeconfig: string;

function answer(path: string, url: URL): unknown {
  if (path === "/version") return { major: "1", minor: "32", gitVersion: "v1.32.4" };
  if (path === "/api") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
  if (path === "/apis") {
    const v = { groupVersion: "apps/v1", version: "v1" };
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [{ name: "apps", versions: [v], preferredVersion: v }],
    };
  }
  if (path === "/api/v1") return resourceList("v1", PODS);
  if (path === "/apis/apps/v1") return resourceList("apps/v1", DEPLOYMENTS);
  const m = /^\/(?:api\/v1|apis\/apps\/v1)(?:\/namespaces\/([^/]+))?\/(pods|deployments)$/.exec(path);
  if (!m) return undefined;
  const [type, all] = m[2] === "pods" ? [PODS, pods] : [DEPLOYMENTS, deployments];
  const items = all.filter((o) => !m[1] || o.metadata.namespace === m[1]);
  const include = url.searchParams.get("includeObject");
  return toTable(type, items, {
    includeObject: include === "None" || include === "Object" ? include : "Metadata",
    resourceVersion: "100",
    now: NOW,
  });
}

before(async () => {
  const ca = createCertificateAuthority("table-test-ca");
  const cert = issueServerCertificate(ca, {
    commonName: "sim",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    const body = answer(url.pathname, url);
    // The Table is only for clients that ask for it, as the apiserver negotiates.
    const wantsTable =
      (req.headers.accept ?? "").includes("as=Table") || !/\/(pods|deployments)$/.test(url.pathname);
    if (body === undefined || !wantsTable) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          reason: "NotFound",
          code: 404,
        }),
      );
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), "airlock-table-"));
  kubeconfig = join(dir, "kubeconfig");
  const ca64 = Buffer.from(ca.certPem).toString("base64");
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${ca64}}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`,
  );
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const lines = (s: string): string[][] =>
  s
    .trimEnd()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));

test("kubectl get pods prints the server's priority-0 columns", async () => {
  const r = await kubectl(kubeconfig, ["get", "pods"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [
    ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
    ["web-1", "1/1", "Running", "0", "3m12s"],
  ]);
});

test("kubectl get pods -A -o wide adds NAMESPACE from the row metadata and the wide columns", async () => {
  const r = await kubectl(kubeconfig, ["get", "pods", "-A", "-o", "wide"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [
    [
      "NAMESPACE",
      "NAME",
      "READY",
      "STATUS",
      "RESTARTS",
      "AGE",
      "IP",
      "NODE",
      "NOMINATED NODE",
      "READINESS GATES",
    ],
    ["default", "web-1", "1/1", "Running", "0", "3m12s", "10.244.0.5", "node-1", "<none>", "<none>"],
    ["prod", "db-0", "0/1", "Pending", "0", "2d3h", "<none>", "<none>", "<none>", "<none>"],
  ]);
});

test("kubectl get deployments -o wide prints READY, UP-TO-DATE, AVAILABLE and the selector", async () => {
  const r = await kubectl(kubeconfig, ["get", "deployments", "-o", "wide"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [
    ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
    ["web", "3/3", "3", "3", "30s", "app", "nginx:1.25", "app=web"],
  ]);
});
