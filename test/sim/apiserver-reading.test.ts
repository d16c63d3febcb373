// The simulator reads bodies and options as kube-apiserver does (issue 13 §1, §3), on its own — it shares no code with
// the gateway's reader, so a blind spot of one cannot hide in the other: YAML 1.1 scalars and merge keys, DeleteOptions
// from the body OR the query, and a server-side apply that creates authorized as `create`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { parseYamlAsApiserver } from "@airlock/sim/api/yaml.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

let sim: Simulator;
let c: SimClient;

before(async () => {
  sim = await startTestSimulator({ seed: "demo" });
  c = simClient(sim);
});

after(async () => {
  c?.close();
  await sim?.close();
});

test("YAML bodies are read as YAML 1.1 by go-yaml v2: yes/on/0b0/0o17/0777, no base 60, merge keys, first document", () => {
  assert.deepEqual(
    parseYamlAsApiserver(
      "a: yes\nb: on\nc: 0b0\nd: 0o17\ne: 0777\nf: 1:30\ng: 08\nh: 2001-12-14\nbase: &x {p: 1}\nm:\n  <<: *x\n  q: 2\n",
    ),
    {
      a: true,
      b: true,
      c: 0,
      d: 15,
      e: 511,
      f: "1:30",
      g: 8,
      h: "2001-12-14T00:00:00Z",
      base: { p: 1 },
      m: { p: 1, q: 2 },
    },
  );
  assert.deepEqual(parseYamlAsApiserver("a: 1\n---\nb: 2\n"), { a: 1 });
});

test("a YAML create stores what YAML 1.1 means: privileged: yes is true, replicas: 0b0 is 0", async () => {
  const r = await c.req("POST", "/api/v1/namespaces/default/configmaps", {
    raw: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: yaml11, labels: {on: 'x'}}\ndata: {a: 'yes'}\n",
    contentType: "application/yaml",
  });
  assert.equal(r.code, 201, r.text);
  // The plain key `on` is the boolean true, which becomes the JSON key "true".
  assert.deepEqual(r.body.metadata.labels, { true: "x" });
  const d = await c.req(
    "PATCH",
    "/apis/apps/v1/namespaces/staging/deployments/api?fieldManager=t&force=true",
    {
      raw: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: staging}\nspec:\n  replicas: 0b0\n",
      contentType: "application/apply-patch+yaml",
    },
  );
  assert.equal(d.code, 200, d.text);
  assert.equal(d.body.spec.replicas, 0);
});

test("DeleteOptions come from the body when there is one; the query's dryRun is then ignored (a real delete)", async () => {
  const mk = (name: string) =>
    c.req("POST", "/api/v1/namespaces/default/configmaps", { body: { metadata: { name }, data: {} } });
  assert.equal((await mk("dry-body")).code, 201);
  const bodyDry = await c.req("DELETE", "/api/v1/namespaces/default/configmaps/dry-body", {
    body: { kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"] },
  });
  assert.equal(bodyDry.code, 200, bodyDry.text);
  assert.equal((await c.req("GET", "/api/v1/namespaces/default/configmaps/dry-body")).code, 200);
  const queryIgnored = await c.req("DELETE", "/api/v1/namespaces/default/configmaps/dry-body?dryRun=All", {
    body: { kind: "DeleteOptions", apiVersion: "v1" },
  });
  assert.equal(queryIgnored.code, 200, queryIgnored.text);
  assert.equal((await c.req("GET", "/api/v1/namespaces/default/configmaps/dry-body")).code, 404);
  assert.equal((await mk("dry-query")).code, 201);
  const queryDry = await c.req("DELETE", "/api/v1/namespaces/default/configmaps/dry-query?dryRun=All");
  assert.equal(queryDry.code, 200);
  assert.equal((await c.req("GET", "/api/v1/namespaces/default/configmaps/dry-query")).code, 200);
});

test("a server-side apply that creates is authorized as create too (patch alone is not enough)", async () => {
  const role = await c.req("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", {
    body: {
      metadata: { name: "patch-only" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "patch"] }],
    },
  });
  assert.equal(role.code, 201, role.text);
  const binding = await c.req("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
    body: {
      metadata: { name: "patch-only" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "patch-only" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "patcher" }],
    },
  });
  assert.equal(binding.code, 201, binding.text);
  const apply = (name: string) =>
    c.req("PATCH", `/api/v1/namespaces/default/configmaps/${name}?fieldManager=p`, {
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "1" } },
      contentType: "application/apply-patch+yaml",
      headers: { "Impersonate-User": "patcher" },
    });
  const created = await apply("ssa-new");
  assert.equal(created.code, 403, created.text);
  assert.match(created.body.message, /cannot create resource "configmaps"/);
  assert.equal(
    (
      await c.req("POST", "/api/v1/namespaces/default/configmaps", {
        body: { metadata: { name: "ssa-old" } },
      })
    ).code,
    201,
  );
  const patched = await apply("ssa-old");
  assert.equal(patched.code, 200, patched.text);
});
