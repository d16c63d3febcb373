// The admin API's policy routes on a real gateway running the demo policy.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let adminToken: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO], seed: "empty" });
  adminToken = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
});
after(() => gw?.close());

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, checked field by field below
type Json = any;

function call(method: string, path: string, body?: unknown, token = adminToken) {
  return callGateway(gw, method, path, token, body);
}

const doc = (name: string, verb: string) => ({
  apiVersion: "airlock.dev/v1alpha1",
  kind: "Policy",
  metadata: { name },
  spec: { subjects: [{ identity: "ci-bot" }], rules: [{ name: "r", verbs: [verb], effect: "allow" }] },
});
const ciList = {
  identity: { name: "ci-bot", kind: "agent" },
  request: { verb: "list", resource: "pods", namespace: "prod" },
};

test("GET /policies lists the loaded policies with their source files", async () => {
  const r = await call("GET", "/airlock/v1/policies");
  assert.equal(r.code, 200);
  assert.deepEqual(
    r.body.items.map((p: Json) => `${p.metadata.name}@${p.source.file}#${p.source.index}`),
    [`demo@${DEMO}#1`, `sre@${DEMO}#2`],
  );
  assert.equal(r.body.lastReloadErrors, null);
});

test("POST /policies/evaluate answers what would happen, through the same evaluator", async () => {
  const r = await call("POST", "/airlock/v1/policies/evaluate", {
    identity: { name: "demo-agent", kind: "agent", groups: ["agents"] },
    request: {
      verb: "exec",
      resource: "pods",
      namespace: "prod",
      name: "web-1",
      exec: { command: ["sh", "-c", "rm -rf /"] },
    },
  });
  assert.equal(r.code, 200);
  assert.equal(
    `${r.body.decision.effect} ${r.body.decision.policy}/${r.body.decision.rule}`,
    "deny demo/no-destructive-commands",
  );
  const bad = await call("POST", "/airlock/v1/policies/evaluate", { identity: {}, request: { verb: "get" } });
  assert.equal(bad.code, 422);
});

test("PUT validates against every loaded file, refuses with all errors and writes nothing; a good policy goes live", async () => {
  const dir = join(gw.gateway.runtime.config.dataDir, "policies");
  const broken = doc("ci", "lisst");
  broken.spec.rules.push({ name: "r", verbs: ["get"], effect: "nope" });
  const refused = await call("PUT", "/airlock/v1/policies/ci", broken);
  assert.equal(refused.code, 422);
  assert.match(refused.body.message, /unknown verb "lisst"/);
  assert.match(refused.body.message, /unknown effect "nope"/);
  assert.equal(refused.body.details.causes.length, 2);
  assert.deepEqual(await readdir(dir).catch(() => []), [], "nothing was written");

  assert.equal(
    (await call("POST", "/airlock/v1/policies/evaluate", ciList)).body.decision.rule,
    "default-deny",
  );
  const created = await call("PUT", "/airlock/v1/policies/ci", doc("ci", "list"));
  assert.equal(created.code, 201, JSON.stringify(created.body));
  assert.deepEqual(await readdir(dir), ["ci.yaml"]);
  assert.equal((await call("POST", "/airlock/v1/policies/evaluate", ciList)).body.decision.rule, "r");
  assert.equal(
    (await call("PUT", "/airlock/v1/policies/ci", doc("ci", "get"))).code,
    200,
    "replacing answers 200",
  );

  const dup = await call("PUT", "/airlock/v1/policies/ci2", {
    ...doc("ci2", "get"),
    metadata: { name: "ci" },
  });
  assert.equal(dup.code, 422, "the name in the body must be the name in the path");
  assert.equal(
    (await call("PUT", "/airlock/v1/policies/demo", doc("demo", "get"))).code,
    409,
    "file policies are read-only",
  );
  assert.equal((await call("DELETE", "/airlock/v1/policies/demo")).code, 409);

  assert.equal((await call("DELETE", "/airlock/v1/policies/ci")).code, 200);
  assert.deepEqual(await readdir(dir), []);
  assert.equal(
    (await call("POST", "/airlock/v1/policies/evaluate", ciList)).body.decision.rule,
    "default-deny",
  );
  assert.equal((await call("DELETE", "/airlock/v1/policies/ci")).code, 404);
});

test("agents may not use the policy routes, and humans outside airlock:admins may not write", async () => {
  const agent = await gw.addIdentity("some-agent", "agent", ["agents"]);
  assert.equal((await call("GET", "/airlock/v1/policies", undefined, agent.token)).code, 403);
  const human = await gw.addIdentity("hana", "human", ["sre"]);
  assert.equal((await call("GET", "/airlock/v1/policies", undefined, human.token)).code, 200);
  const put = await call("PUT", "/airlock/v1/policies/x", doc("x", "get"), human.token);
  assert.equal(put.code, 403);
});
