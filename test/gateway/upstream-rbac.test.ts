// The least-privilege RBAC in docs/connections.md, applied to the simulator exactly as written: the upstream credential
// can act as an Airlock identity in airlock:agents and can do nothing else.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import https from "node:https";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { openUpstream, type Upstream } from "../../src/upstream/index.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";

const DOC = fileURLToPath(new URL("../../docs/connections.md", import.meta.url));

interface Reply {
  status: number;
  json: { status?: { token?: string }; message?: string };
}

function call(
  u: Upstream,
  method: string,
  path: string,
  body?: unknown,
  headers: [string, string][] = [],
): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const all: [string, string][] = [["Accept", "application/json"], ...headers];
  if (text)
    all.push(["Content-Type", "application/json"], ["Content-Length", String(Buffer.byteLength(text))]);
  return u.requestOptions(method, path, all).then(
    (options) =>
      new Promise((resolve, reject) => {
        const req = https.request(options, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
            }),
          );
        });
        req.on("error", reject);
        req.end(text);
      }),
  );
}

/** The YAML blocks of the doc that hold RBAC objects. */
async function rbacFromDoc(): Promise<{ kind: string; metadata: { name: string } }[]> {
  const md = await readFile(DOC, "utf8");
  const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const rbac = blocks.filter((b) => b.includes("rbac.authorization.k8s.io/v1"));
  return rbac.flatMap((b) => parseAllDocuments(b).map((d) => d.toJS()));
}

let sim: Simulator;
let admin: Upstream;
let gateway: Upstream;
before(async () => {
  sim = await startTestSimulator();
  admin = await openUpstream({ name: "admin", kubeconfig: { path: sim.kubeconfigPath }, impersonate: false });
  assert.equal(
    (await call(admin, "POST", "/api/v1/namespaces", { metadata: { name: "airlock" } })).status,
    201,
  );
  const sa = await call(admin, "POST", "/api/v1/namespaces/airlock/serviceaccounts", {
    metadata: { name: "airlock" },
  });
  assert.equal(sa.status, 201);
  const tr = await call(admin, "POST", "/api/v1/namespaces/airlock/serviceaccounts/airlock/token", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {},
  });
  assert.equal(tr.status, 201, JSON.stringify(tr.json));
  const objects = await rbacFromDoc();
  assert.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      "ClusterRole/airlock-upstream",
      "ClusterRoleBinding/airlock-upstream",
      "ClusterRole/airlock-agents",
      "ClusterRoleBinding/airlock-agents",
    ],
  );
  for (const o of objects) {
    const plural = o.kind === "ClusterRole" ? "clusterroles" : "clusterrolebindings";
    const r = await call(admin, "POST", `/apis/rbac.authorization.k8s.io/v1/${plural}`, o);
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  gateway = await openUpstream({
    name: "gw",
    server: sim.url,
    token: tr.json.status?.token ?? "",
    caData: sim.caPem,
  });
});
after(async () => {
  gateway?.close();
  admin?.close();
  await sim?.close();
});

const as = (user: string, group: string): [string, string][] => [
  ["Impersonate-User", user],
  ["Impersonate-Group", group],
  ["Impersonate-Extra-airlock.dev%2Fidentity-id", "id-123"],
  ["Impersonate-Extra-airlock.dev%2Frequest-id", "req-456"],
];

test("the documented role lets the upstream credential act as a listed identity in airlock:agents", async () => {
  const r = await call(
    gateway,
    "GET",
    "/api/v1/namespaces/default/pods",
    undefined,
    as("airlock:mcp-server", "airlock:agents"),
  );
  assert.equal(r.status, 200, r.json.message);
});

test("an impersonated agent gets only what airlock:agents is bound to: no Secrets", async () => {
  const r = await call(
    gateway,
    "GET",
    "/api/v1/namespaces/default/secrets",
    undefined,
    as("airlock:mcp-server", "airlock:agents"),
  );
  assert.equal(r.status, 403);
});

test("the upstream credential cannot impersonate system:masters", async () => {
  const r = await call(
    gateway,
    "GET",
    "/api/v1/namespaces/default/secrets",
    undefined,
    as("airlock:mcp-server", "system:masters"),
  );
  assert.equal(r.status, 403);
  assert.match(r.json.message ?? "", /impersonate/);
});

test("the upstream credential cannot impersonate a user that is not listed", async () => {
  const r = await call(
    gateway,
    "GET",
    "/api/v1/namespaces/default/pods",
    undefined,
    as("alice", "airlock:agents"),
  );
  assert.equal(r.status, 403);
});

test("on its own, without impersonation, the upstream credential can read nothing", async () => {
  const r = await call(gateway, "GET", "/api/v1/namespaces/default/pods");
  assert.equal(r.status, 403);
});

test("as itself the upstream credential may get a pod and a Secret (to mask their values in exec and log output), not list them", async () => {
  const secret = { metadata: { name: "rbac-probe" }, data: { k: Buffer.from("v").toString("base64") } };
  assert.equal((await call(admin, "POST", "/api/v1/namespaces/default/secrets", secret)).status, 201);
  const pod = { metadata: { name: "rbac-probe" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
  assert.equal((await call(admin, "POST", "/api/v1/namespaces/default/pods", pod)).status, 201);
  assert.equal((await call(gateway, "GET", "/api/v1/namespaces/default/pods/rbac-probe")).status, 200);
  assert.equal((await call(gateway, "GET", "/api/v1/namespaces/default/secrets/rbac-probe")).status, 200);
  assert.equal((await call(gateway, "GET", "/api/v1/namespaces/default/secrets")).status, 403);
});
