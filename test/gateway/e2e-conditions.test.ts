// Conditions see what the request will do (issue 12 §4, issue 13 §1–3): real kubectl → Airlock (the demo policy plus
// a few rules of this file) → simulator. `object` is the RESULTING object (server-side dry run) for every patch type
// and for update, `oldObject` the stored one; label selectors on writes read the objects, never the body.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { policy } from "../policy/support.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let agent: string;
let extraDir: string;

const API = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api", namespace: "staging", labels: { app: "api" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" } },
      spec: { containers: [{ name: "api", image: "nginx:1.27" }] },
    },
  },
};

before(async () => {
  extraDir = await mkdtemp(join(tmpdir(), "airlock-cond-e2e-"));
  const extra = join(extraDir, "conditions.yaml");
  await writeFile(
    extra,
    policy(
      "conditions",
      "[{ group: agents }]",
      [
        "    - name: no-privileged-pods",
        "      verbs: [create, update, patch]",
        "      resources: [pods]",
        "      when: has(object.spec) && object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true)",
        "      effect: deny",
        "      message: privileged pods are not allowed",
        "    - name: protected-stays",
        "      verbs: [update, patch, delete]",
        "      resources: [configmaps]",
        "      labelSelector: { matchLabels: { protected: 'true' } }",
        "      effect: deny",
        "      message: protected objects stay as they are",
      ].join("\n"),
    ),
  );
  gw = await startTestGateway({ policyFiles: [DEMO, extra] });
  agent = (await gw.addIdentity("demo-agent", "agent", ["agents"])).kubeconfig;
  // The demo seeds deployment api in staging; this file's tests start it at two replicas.
  const set = await kubectl(agent, ["apply", "--server-side", "--force-conflicts", "-f", "-"], {
    input: JSON.stringify(API),
  });
  assert.equal(set.code, 0, set.stderr);
});

after(async () => {
  await gw?.close();
  await rm(extraDir, { recursive: true, force: true });
});

const SCALE_DENIED =
  /deployments\.apps "api" is forbidden: airlock: patch denied by policy demo rule no-scale-to-zero/;

test("every patch type that scales to zero is judged on the resulting object and denied", async () => {
  const variants: [string, string[]][] = [
    ["json", ["--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":0}]']],
    ["merge", ["--type=merge", "-p", '{"spec":{"replicas":0}}']],
    ["strategic", ["--type=strategic", "-p", '{"spec":{"replicas":0}}']],
  ];
  for (const [name, args] of variants) {
    const r = await kubectl(agent, ["-n", "staging", "patch", "deploy/api", ...args]);
    assert.notEqual(r.code, 0, `${name}: ${r.stdout}`);
    assert.match(r.stderr, SCALE_DENIED, name);
  }
  const still = await kubectl(agent, [
    "-n",
    "staging",
    "get",
    "deploy/api",
    "-o",
    "jsonpath={.spec.replicas}",
  ]);
  assert.equal(still.stdout, "2");
});

test("server-side apply to zero replicas is denied; to three it runs", async () => {
  const zero = { ...API, spec: { ...API.spec, replicas: 0 } };
  const apply = ["apply", "--server-side", "--force-conflicts", "-f", "-"];
  const r = await kubectl(agent, apply, { input: JSON.stringify(zero) });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, SCALE_DENIED);
  const three = { ...API, spec: { ...API.spec, replicas: 3 } };
  const ok = await kubectl(agent, apply, { input: JSON.stringify(three) });
  assert.equal(ok.code, 0, ok.stderr);
  const now = await kubectl(agent, ["-n", "staging", "get", "deploy/api", "-o", "jsonpath={.spec.replicas}"]);
  assert.equal(now.stdout, "3");
});

test("kubectl replace (update) and kubectl scale to zero are denied on the resulting object", async () => {
  const zero = { ...API, spec: { ...API.spec, replicas: 0 } };
  const r = await kubectl(agent, ["replace", "-f", "-"], { input: JSON.stringify(zero) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /airlock: update denied by policy demo rule no-scale-to-zero/);
  const s = await kubectl(agent, ["-n", "staging", "scale", "deploy/api", "--replicas=0"]);
  assert.notEqual(s.code, 0);
  assert.match(s.stderr, /no-scale-to-zero/);
});

test("a patch that does not scale to zero runs, and the harmless JSON patch changes what it says", async () => {
  const r = await kubectl(agent, [
    "-n",
    "staging",
    "patch",
    "deploy/api",
    "--type=json",
    "-p",
    '[{"op":"replace","path":"/spec/replicas","value":4}]',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const now = await kubectl(agent, ["-n", "staging", "get", "deploy/api", "-o", "jsonpath={.spec.replicas}"]);
  assert.equal(now.stdout, "4");
});
