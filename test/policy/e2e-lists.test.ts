// Lists and watches are filtered item by item (issue 13 §4): real kubectl → Airlock (policy engine) → simulator.
// A deny on reading secrets in prod must hold for every way of listing across namespaces, and `names:` hides an
// object from lists; what is left is still masked.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";

const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: agents }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: read-everything
      verbs: [get, list, watch]
      effect: allow
      mask: default
    - name: no-prod-secrets
      verbs: [get, list, watch]
      resources: [secrets, deployments]
      namespaces: [prod]
      effect: deny
    - name: hide-one-configmap
      verbs: [get, list, watch]
      resources: [configmaps]
      names: [hidden-cm]
      effect: deny
    - name: hide-protected
      verbs: [get, list, watch]
      resources: [configmaps]
      labelSelector: { matchLabels: { protected: "true" } }
      effect: deny
    - name: no-node-b
      verbs: [get, list, watch]
      resources: [namespaces]
      names: [secret-team]
      effect: deny
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: humans }
spec:
  subjects: [{ group: sre }]
  rules:
    - { name: everything, verbs: ["*"], effect: allow }
`;

let gw: TestGateway;
let dir: string;
let agent: string;
let agentToken: string;
let human: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-lists-"));
  const file = join(dir, "policy.yaml");
  await writeFile(file, POLICY);
  gw = await startTestGateway({ policyFiles: [file] });
  const a = await gw.addIdentity("list-agent", "agent", ["agents"]);
  agent = a.kubeconfig;
  agentToken = a.token;
  human = (await gw.addIdentity("setup-human", "human", ["sre"])).kubeconfig;
  for (const args of [
    ["create", "namespace", "dev"],
    ["create", "namespace", "secret-team"],
    ["create", "secret", "generic", "dev-token", "-n", "dev", "--from-literal=token=dev-value-123"],
    ["create", "configmap", "hidden-cm", "-n", "dev", "--from-literal=a=b"],
    ["create", "configmap", "shown-cm", "-n", "dev", "--from-literal=a=b"],
    ["create", "configmap", "guarded-cm", "-n", "staging", "--from-literal=a=b"],
    ["label", "configmap", "guarded-cm", "-n", "staging", "protected=true"],
  ]) {
    const r = await kubectl(human, args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test("get secrets -n prod is denied outright", async () => {
  const r = await kubectl(agent, ["get", "secrets", "-n", "prod"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /forbidden: airlock: list denied by policy agents rule no-prod-secrets/);
});

test("get secrets -A (Table) leaves prod's secrets out and still masks the rest", async () => {
  const r = await kubectl(agent, ["get", "secrets", "-A"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dev\s+dev-token\s/m);
  assert.doesNotMatch(r.stdout, /db-credentials|^prod\s/m);
});

test("get secrets -A -o name / -o json / --chunk-size=1 leave prod's secrets out", async () => {
  const byName = await kubectl(agent, ["get", "secrets", "-A", "-o", "name"]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /secret\/dev-token/);
  assert.doesNotMatch(byName.stdout, /db-credentials/);

  const json = await kubectl(agent, ["get", "secrets", "-A", "-o", "json"]);
  assert.equal(json.code, 0, json.stderr);
  const list = JSON.parse(json.stdout) as { items: { metadata: { namespace: string }; data?: object }[] };
  assert.ok(list.items.length > 0);
  assert.ok(list.items.every((s) => s.metadata.namespace !== "prod"));
  assert.doesNotMatch(json.stdout, /dev-value-123|ZGV2LXZhbHVlLTEyMw/, "what is left is still masked");

  // A fieldSelector on the name names the object for RequestInfo, but not its namespace: still filtered.
  // The same request for dev-token lists it, so an empty answer above is the filter's doing, not a failure.
  for (const extra of [[], ["--watch", "--request-timeout=2s"]]) {
    const byField = (name: string) =>
      kubectl(agent, [
        "get",
        "secrets",
        "-A",
        `--field-selector=metadata.name=${name}`,
        "-o",
        "name",
        ...extra,
      ]);
    const one = await byField("db-credentials");
    assert.equal(one.code, 0, `${extra.join(" ")}: ${one.stderr}`);
    assert.doesNotMatch(one.stdout, /db-credentials/, extra.join(" "));
    const control = await byField("dev-token");
    assert.equal(control.code, 0, `${extra.join(" ")}: ${control.stderr}`);
    assert.match(control.stdout, /secret\/dev-token/, extra.join(" "));
  }

  const paged = await kubectl(agent, ["get", "secrets", "-A", "--chunk-size=1", "-o", "name"]);
  assert.equal(paged.code, 0, paged.stderr);
  assert.match(paged.stdout, /secret\/dev-token/);
  assert.doesNotMatch(paged.stdout, /db-credentials/);
});

test("get all -A leaves out the prod deployment a rule denies, and keeps staging's", async () => {
  const r = await kubectl(agent, ["get", "all", "-A"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment\.apps\/api/);
  assert.doesNotMatch(r.stdout, /deployment\.apps\/web/);
});

test("names: [hidden-cm] and a labelSelector deny hide those objects from lists (Table, JSON, one namespace)", async () => {
  for (const args of [
    ["get", "configmaps", "-A"],
    ["get", "configmaps", "-A", "-o", "name"],
    ["get", "configmaps", "-n", "dev", "-o", "json"],
    ["get", "configmaps", "-n", "staging", "-o", "name"],
  ]) {
    const r = await kubectl(agent, args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /hidden-cm|guarded-cm/, args.join(" "));
  }
  const shown = await kubectl(agent, ["get", "configmaps", "-n", "dev", "-o", "name"]);
  assert.match(shown.stdout, /configmap\/shown-cm/);
});

test("a GET by name is decided on the stored object's labels too: 403 naming the rule, in every output form", async () => {
  const rawGet = await raw("GET", "/api/v1/namespaces/staging/configmaps/guarded-cm", agentToken);
  assert.equal(rawGet.status, 403, rawGet.body);
  for (const out of ["name", "yaml", "wide"]) {
    const r = await kubectl(agent, ["get", "configmap", "guarded-cm", "-n", "staging", "-o", out]);
    assert.notEqual(r.code, 0, out);
    assert.match(
      r.stderr,
      /configmaps "guarded-cm" is forbidden: airlock: get denied by policy agents rule hide-protected/,
      out,
    );
    assert.doesNotMatch(r.stdout, /guarded-cm/);
  }
  const shown = await kubectl(agent, ["get", "configmap", "shown-cm", "-n", "dev", "-o", "yaml"]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /name: shown-cm/);
});

test("cluster-scoped lists are filtered too: a deny on one Namespace object hides it from get namespaces", async () => {
  const r = await kubectl(agent, ["get", "namespaces", "-o", "name"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /namespace\/dev/);
  assert.doesNotMatch(r.stdout, /secret-team/);
});

test("get secrets -A --watch shows dev's new secret and never prod's", async () => {
  const child = spawnKubectl(agent, ["get", "secrets", "-A", "--watch", "-o", "name"]);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  try {
    await eventually("the initial list", () => out, {
      until: (o) => o.includes("dev-token"),
      timeoutMs: 15_000,
    });
    for (const args of [
      ["create", "secret", "generic", "prod-late", "-n", "prod", "--from-literal=x=y"],
      ["create", "secret", "generic", "dev-late", "-n", "dev", "--from-literal=x=y"],
    ]) {
      const r = await kubectl(human, args);
      assert.equal(r.code, 0, r.stderr);
    }
    await eventually("the dev secret's event", () => out, {
      until: (o) => o.includes("dev-late"),
      timeoutMs: 15_000,
    });
    assert.doesNotMatch(out, /prod-late|db-credentials/);
  } finally {
    child.kill();
  }
});

test("a raw watch across namespaces drops prod's events (JSON event stream)", async () => {
  const got = await raw("GET", "/api/v1/secrets?watch=true&timeoutSeconds=1", agentToken);
  assert.equal(got.status, 200);
  assert.match(got.body, /"dev-token"/);
  assert.doesNotMatch(got.body, /db-credentials|"prod"/);
});

test("a Table list with includeObject=None cannot be filtered and is refused", async () => {
  const got = await raw("GET", "/api/v1/secrets?includeObject=None", agentToken, {
    accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
  });
  assert.equal(got.status, 403);
  assert.match(got.body, /includeObject=None cannot be filtered by policy/);
});

test("a Table with metadata rows (includeObject=Metadata) and a protobuf Accept are filtered as JSON", async () => {
  const table = await raw("GET", "/api/v1/secrets?includeObject=Metadata", agentToken, {
    accept: "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json",
  });
  assert.equal(table.status, 200);
  assert.match(table.body, /"kind":"Table"/);
  assert.match(table.body, /dev-token/);
  assert.doesNotMatch(table.body, /db-credentials/);
});

function raw(
  method: string,
  path: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}${path}`,
      { method, headers: { authorization: `Bearer ${token}`, ...headers }, ca: gw.gateway.caPem },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
