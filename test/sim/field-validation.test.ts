import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { unknownFields } from "@airlock/sim/api/field-validation.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

const DEPLOY = { group: "apps", kind: "Deployment" };

describe("unknownFields", () => {
  test("lists unknown top-level, metadata, spec and container fields by path", () => {
    const obj = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", lables: {} },
      spec: {
        replica: 2,
        template: { spec: { containers: [{ name: "a" }, { name: "b", imagePullPolice: "Always" }] } },
      },
      extra: 1,
    };
    assert.deepEqual(unknownFields(DEPLOY, obj), [
      "metadata.lables",
      "spec.replica",
      "spec.template.spec.containers[1].imagePullPolice",
      "extra",
    ]);
  });
  test("a clean object, a status subtree and strategic-merge directives report nothing", () => {
    const obj = {
      metadata: { name: "d" },
      spec: { replicas: 1, $retainKeys: ["replicas"] },
      status: { anything: true },
    };
    assert.deepEqual(unknownFields(DEPLOY, obj), []);
  });
  test("kinds the simulator has no field table for (custom resources) are not checked", () => {
    assert.deepEqual(unknownFields({ group: "example.com", kind: "Widget" }, { spec: { x: 1 }, y: 2 }), []);
  });
  test("top-level fields of kinds without a spec", () => {
    assert.deepEqual(unknownFields({ group: "", kind: "ConfigMap" }, { data: {}, datas: {} }), ["datas"]);
    assert.deepEqual(
      unknownFields(
        { group: "rbac.authorization.k8s.io", kind: "RoleBinding" },
        { roleRef: {}, subject: [] },
      ),
      ["subject"],
    );
  });
});

describe("fieldValidation against the simulator", () => {
  let sim: Simulator;
  let api: SimClient;
  const k = (args: string[], input?: string) =>
    kubectl(sim.kubeconfigPath, args, input === undefined ? {} : { input });
  before(async () => {
    sim = await startTestSimulator();
    api = simClient(sim);
  });
  after(async () => {
    api.close();
    await sim.close();
  });

  const typoed = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replica: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: nginx}]
`;

  test("kubectl apply of a manifest with a typo fails with kube's strict decoding error and creates nothing", async () => {
    const r = await k(["apply", "-f", "-"], typoed("fv-strict"));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec\.replica"/,
    );
    assert.match((await k(["get", "deployment", "fv-strict"])).stderr, /not found/);
  });

  test("kubectl apply --validate=warn creates the object and prints the server's warning", async () => {
    const r = await k(["apply", "--validate=warn", "-f", "-"], typoed("fv-warn"));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: unknown field "spec\.replica"/);
    assert.match(r.stdout, /deployment\.apps\/fv-warn created/);
  });

  test("a typo in a strategic-merge patch of an existing object is refused under Strict", async () => {
    const cm = await k(["create", "configmap", "fv-cm", "--from-literal=a=b"]);
    assert.equal(cm.code, 0, cm.stderr);
    const r = await k(
      ["apply", "-f", "-"],
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fv-cm}\ndatta: {a: c}\n",
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "datta"/);
  });

  test("Strict is 400 with every unknown field; Warn (the default) sends one Warning each; Ignore sends none", async () => {
    const body = { metadata: { name: "fv-api", lables: { a: "b" } }, data: { k: "v" }, dataa: {} };
    const strict = await api.req("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", {
      body,
    });
    assert.equal(strict.code, 400);
    assert.equal(strict.body.reason, "BadRequest");
    assert.equal(
      strict.body.message,
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.lables", unknown field "dataa"',
    );
    const warned = await api.req("POST", "/api/v1/namespaces/default/configmaps", { body });
    assert.equal(warned.code, 201);
    assert.equal(
      warned.headers.warning,
      '299 - "unknown field \\"metadata.lables\\"", 299 - "unknown field \\"dataa\\""',
    );
    const ignored = await api.req(
      "PUT",
      "/api/v1/namespaces/default/configmaps/fv-api?fieldValidation=Ignore",
      {
        body: { ...body, metadata: { name: "fv-api" } },
      },
    );
    assert.equal(ignored.code, 200);
    assert.equal(ignored.headers.warning, undefined);
    const bad = await api.req("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loose", {
      body,
    });
    assert.equal(bad.code, 400);
  });
});
