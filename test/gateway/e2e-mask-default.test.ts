// End to end, masking by default (issue 12 §1): the real kubectl through Airlock with rules that name NO masking
// profile. Every answer to an agent — reads, write answers (patch of every type, dry runs, create, replace, delete),
// error bodies — is masked by the `default` profile; `mask: none` is explicit break-glass and audited as such; a
// human under the same rules keeps today's opt-in. And markers never flow back: a write carrying one is refused.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const POLICY = `
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: agents-unmasked-rules }
spec:
  subjects: [{ group: agents }, { group: sre }]
  rules:
    - name: everything
      verbs: ["*"]
      effect: allow
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: break-glass }
spec:
  subjects: [{ group: break-glass }]
  rules:
    - name: see-values
      verbs: ["*"]
      effect: allow
      mask: none
`;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const MARKER = /‹masked:[0-9a-f]{8}›/;
const STAGING_PASSWORD = "staging-pa55-Zq81";
const CM_PASSWORD = "cm-db-pa55-Yx72";

let gw: TestGateway;
let agent: string;
let agentToken: string;
let human: string;
let glass: string;
const admin = (args: string[], input?: string) =>
  kubectl(gw.sim.kubeconfigPath, args, input === undefined ? {} : { input });
const as = (who: string, args: string[], input?: string) =>
  kubectl(who, args, input === undefined ? {} : { input });

/** No form of a planted value in a text. */
function assertNoValue(text: string, value: string) {
  assert.ok(!text.includes(value), `raw value in:\n${text}`);
  assert.ok(!text.includes(b64(value)), `base64 value in:\n${text}`);
}

let policyDir: string;

before(async () => {
  policyDir = await mkdtemp(join(tmpdir(), "airlock-mask-default-"));
  await writeFile(join(policyDir, "policy.yaml"), POLICY);
  gw = await startTestGateway({ policyFiles: [join(policyDir, "policy.yaml")] });
  const a = await gw.addIdentity("agent-7", "agent", ["agents"]);
  agent = a.kubeconfig;
  agentToken = a.token;
  human = (await gw.addIdentity("alice", "human", ["sre"])).kubeconfig;
  glass = (await gw.addIdentity("glass-agent", "agent", ["break-glass"])).kubeconfig;
  const made = await admin([
    "-n",
    "staging",
    "create",
    "secret",
    "generic",
    "app-secret",
    `--from-literal=password=${STAGING_PASSWORD}`,
  ]);
  assert.equal(made.code, 0, made.stderr);
});
after(async () => {
  await gw?.close();
  await rm(policyDir, { recursive: true, force: true });
});

describe("write answers to an agent are masked although the rule names no profile", () => {
  test("a merge patch of {} on a Secret in staging answers with markers, not data.password", async () => {
    const r = await as(agent, [
      "-n",
      "staging",
      "patch",
      "secret",
      "app-secret",
      "--type=merge",
      "-p",
      "{}",
      "-o",
      "yaml",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertNoValue(r.stdout, STAGING_PASSWORD);
    assert.match(Buffer.from(/password: (\S+)/.exec(r.stdout)?.[1] ?? "", "base64").toString(), MARKER);
    assert.match(r.stderr, /airlock: \d+ values? masked by profile default/);
  });

  test("every patch type answers masked: json, strategic, apply (server-side)", async () => {
    for (const args of [
      ["--type=json", "-p", '[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]'],
      ["--type=strategic", "-p", '{"metadata":{"labels":{"c":"d"}}}'],
    ]) {
      const r = await as(agent, ["-n", "staging", "patch", "secret", "app-secret", ...args, "-o", "json"]);
      assert.equal(r.code, 0, r.stderr);
      assertNoValue(r.stdout, STAGING_PASSWORD);
    }
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secret\n  namespace: staging\n  labels: {e: f}\n`;
    const r = await as(
      agent,
      ["apply", "--server-side", "--force-conflicts", "-f", "-", "-o", "yaml"],
      manifest,
    );
    assert.equal(r.code, 0, r.stderr);
    assertNoValue(r.stdout, STAGING_PASSWORD);
  });

  test("a ?dryRun=All patch of a prod Secret answers masked and changes nothing", async () => {
    const r = await as(agent, [
      "-n",
      "prod",
      "patch",
      "secret",
      "db-credentials",
      "--dry-run=server",
      "-p",
      '{"metadata":{"labels":{"team":"x"}}}',
      "-o",
      "yaml",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertNoValue(r.stdout, DEMO_DB_PASSWORD);
    assert.match(r.stdout, /team: x/);
    const real = await admin(["-n", "prod", "get", "secret", "db-credentials", "-o", "yaml"]);
    assert.ok(real.stdout.includes(b64(DEMO_DB_PASSWORD)));
    assert.doesNotMatch(real.stdout, /team: x/);
  });

  test("create and replace of a Secret answer masked (stringData and data)", async () => {
    const created = await as(agent, [
      "-n",
      "staging",
      "create",
      "secret",
      "generic",
      "made-by-agent",
      "--from-literal=token=made-by-agent-t0ken-1",
      "-o",
      "yaml",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assertNoValue(created.stdout, "made-by-agent-t0ken-1");
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: made-by-agent\n  namespace: staging\nstringData:\n  token: replaced-t0ken-2\n`;
    const replaced = await as(agent, ["replace", "-f", "-", "-o", "json"], manifest);
    assert.equal(replaced.code, 0, replaced.stderr);
    assertNoValue(replaced.stdout, "replaced-t0ken-2");
  });

  test("a delete answers masked (the deleted object's data)", async () => {
    await admin([
      "-n",
      "staging",
      "create",
      "secret",
      "generic",
      "doomed",
      "--from-literal=password=doomed-pa55-3",
    ]);
    const r = await callGateway(gw, "DELETE", "/api/v1/namespaces/staging/secrets/doomed", agentToken);
    assert.ok(r.code === 200 || r.code === 202, JSON.stringify(r.body));
    assertNoValue(JSON.stringify(r.body), "doomed-pa55-3");
  });

  test("a ConfigMap's db_password is masked in the create answer and in get", async () => {
    const created = await as(agent, [
      "-n",
      "staging",
      "create",
      "configmap",
      "app-config",
      `--from-literal=db_password=${CM_PASSWORD}`,
      "--from-literal=mode=fast",
      "-o",
      "yaml",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.ok(!created.stdout.includes(CM_PASSWORD), created.stdout);
    assert.match(created.stdout, /db_password: ‹masked:[0-9a-f]{8}›/);
    assert.match(created.stdout, /mode: fast/);
  });

  test("an error body that echoes a value is masked (a 422 Status quoting the invalid field)", async () => {
    // An invalid name is quoted back in the Status message, as kube-apiserver does; here it is a token.
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXgtMQ";
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: jwt, namespace: "staging" } };
    const path = "/api/v1/namespaces/staging/configmaps";
    const { token } = await gw.addIdentity("echo-human", "human", ["sre"]);
    const plain = await callGateway(gw, "POST", path, token, body);
    assert.equal(plain.code, 422, JSON.stringify(plain.body));
    assert.ok(JSON.stringify(plain.body).includes(jwt), "the cluster echoes it (to an unmasked human)");
    const r = await callGateway(gw, "POST", path, agentToken, body);
    assert.equal(r.code, 422, JSON.stringify(r.body));
    assert.equal(r.body.kind, "Status");
    assert.ok(!JSON.stringify(r.body).includes(jwt), JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), MARKER);
  });
});

describe("humans keep opt-in; mask: none is explicit break-glass", () => {
  test("a human under the same rule sees the real values", async () => {
    const r = await as(human, ["-n", "staging", "get", "secret", "app-secret", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(b64(STAGING_PASSWORD)));
  });

  test("an agent whose rule says mask: none sees values, and the audit records break-glass", async () => {
    const r = await as(glass, ["-n", "staging", "get", "secret", "app-secret", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(b64(STAGING_PASSWORD)));
    const records = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    assert.ok(records.some((x) => x.type === "masking.break-glass" && x.body.includes('"profile":"none"')));
  });
});

describe("markers never flow back", () => {
  const refused = (r: { code: number; stderr: string }) => {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /masking marker/);
    assert.match(r.stderr, /is invalid/);
  };
  const realStillThere = async () => {
    const real = await admin(["-n", "prod", "get", "secret", "db-credentials", "-o", "yaml"]);
    assert.ok(real.stdout.includes(b64(DEMO_DB_PASSWORD)), real.stdout);
  };

  test("kubectl get secret -o yaml | kubectl replace -f - is refused with 422 and the real value stays", async () => {
    const got = await as(agent, ["-n", "prod", "get", "secret", "db-credentials", "-o", "yaml"]);
    assert.equal(got.code, 0, got.stderr);
    refused(await as(agent, ["replace", "-f", "-"], got.stdout));
    await realStillThere();
  });

  test("the same object through apply (client- and server-side) and create is refused", async () => {
    const got = await as(agent, ["-n", "prod", "get", "secret", "db-credentials", "-o", "json"]);
    refused(await as(agent, ["apply", "-f", "-"], got.stdout));
    refused(await as(agent, ["apply", "--server-side", "--force-conflicts", "-f", "-"], got.stdout));
    const copy = JSON.parse(got.stdout) as { metadata: Record<string, unknown> };
    copy.metadata = { name: "copy-of-db", namespace: "prod" };
    refused(await as(agent, ["create", "-f", "-"], JSON.stringify(copy)));
    await realStillThere();
  });

  test("patches carrying a marker, in any patch type and encoding, are refused", async () => {
    const got = await as(agent, ["-n", "prod", "get", "secret", "db-credentials", "-o", "json"]);
    const markerB64 = (JSON.parse(got.stdout) as { data: { password: string } }).data.password;
    const marker = Buffer.from(markerB64, "base64").toString("utf8");
    const patch = (type: string, p: string) =>
      as(agent, ["-n", "prod", "patch", "secret", "db-credentials", `--type=${type}`, "-p", p]);
    refused(await patch("merge", JSON.stringify({ data: { password: markerB64 } })));
    refused(await patch("strategic", JSON.stringify({ stringData: { password: marker } })));
    refused(
      await patch("json", JSON.stringify([{ op: "replace", path: "/data/password", value: markerB64 }])),
    );
    // Inside a longer base64 text (a config file holding the marker), shifted so the alignment differs.
    refused(await patch("merge", JSON.stringify({ data: { "app.conf": b64(`pw = ${marker}\n`) } })));
    await realStillThere();
  });

  test("a ConfigMap copied back with its masked db_password is refused, for a human too", async () => {
    await admin([
      "-n",
      "staging",
      "create",
      "configmap",
      "copied",
      `--from-literal=db_password=${CM_PASSWORD}`,
    ]);
    const got = await as(agent, ["-n", "staging", "get", "configmap", "copied", "-o", "yaml"]);
    assert.match(got.stdout, MARKER);
    refused(await as(agent, ["replace", "-f", "-"], got.stdout));
    refused(await as(human, ["replace", "-f", "-"], got.stdout));
    const real = await admin(["-n", "staging", "get", "configmap", "copied", "-o", "yaml"]);
    assert.ok(real.stdout.includes(CM_PASSWORD));
  });
});
