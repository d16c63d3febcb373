// MCP through the SDK client under the demo policy: no tool prints a planted secret value. k8s_get of a Secret,
// k8s_diff and k8s_apply of a ConfigMap whose db_password sits in the diff's context (in staging, where the agent's
// write rule names no masking profile), the review preview an apply to prod shows, k8s_exec printing the value in
// several encodings (with a line saying what was masked and why), and k8s_logs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const PLANTED = "planted-db-pa55-Kq93";
const b64 = (s: string) => Buffer.from(s).toString("base64");

let gw: TestGateway;
let client: Client;

async function call(name: string, args: Record<string, unknown>) {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as { text?: string }[];
  return { text: content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}

function assertClean(text: string, value: string) {
  assert.ok(!text.includes(value), `raw value in:\n${text}`);
  assert.ok(!text.includes(b64(value)), `base64 value in:\n${text}`);
  assert.ok(!text.includes(Buffer.from(value).toString("hex")), `hex value in:\n${text}`);
}

// The planted object (created by the cluster admin) and the agent's change, which does not name db_password.
const planted = (ns: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-db\n  namespace: ${ns}\ndata:\n  db_password: ${PLANTED}\n  mode: slow\n`;
const manifest = (ns: string, mode: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-db\n  namespace: ${ns}\ndata:\n  mode: ${mode}\n`;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const { token } = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  for (const ns of ["staging", "prod"]) {
    const made = await kubectl(gw.sim.kubeconfigPath, ["apply", "-f", "-"], { input: planted(ns) });
    assert.equal(made.code, 0, made.stderr);
  }
  client = new Client({ name: "airlock-mask-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
      fetch: httpsFetch({ ca: gw.gateway.caPem }),
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
});
after(async () => {
  await client?.close();
  await gw?.close();
});

describe("MCP tools never print a planted value", () => {
  test("k8s_get of a Secret and of the ConfigMap shows markers", async () => {
    const secret = await call("k8s_get", { resource: "secrets", name: "db-credentials", namespace: "prod" });
    assert.equal(secret.isError, false, secret.text);
    assertClean(secret.text, DEMO_DB_PASSWORD);
    const cm = await call("k8s_get", { resource: "configmaps", name: "app-db", namespace: "staging" });
    assertClean(cm.text, PLANTED);
    assert.match(cm.text, /db_password: ‹masked:[0-9a-f]{8}›/);
  });

  test("k8s_diff and k8s_apply in staging show the diff with db_password masked in its context", async () => {
    const diff = await call("k8s_diff", { manifest: manifest("staging", "fast"), forceConflicts: true });
    assert.equal(diff.isError, false, diff.text);
    assert.match(diff.text, /^\+ {2}mode: fast$/m);
    assert.match(diff.text, /db_password: ‹masked:[0-9a-f]{8}›/);
    assertClean(diff.text, PLANTED);
    const applied = await call("k8s_apply", { manifest: manifest("staging", "fast"), forceConflicts: true });
    assert.equal(applied.isError, false, applied.text);
    assertClean(applied.text, PLANTED);
  });

  test("k8s_apply to prod returns the review preview masked", async () => {
    const r = await call("k8s_apply", {
      manifest: manifest("prod", "fast"),
      forceConflicts: true,
      justification: "CHG-7: switch the app to fast mode",
    });
    assert.match(r.text, /PENDING REVIEW/);
    assertClean(r.text, PLANTED);
  });

  test("k8s_exec printing the pod's password, also encoded, shows markers and says what was masked", async () => {
    const pods = await kubectl(gw.sim.kubeconfigPath, [
      "-n",
      "prod",
      "get",
      "pods",
      "-l",
      "app=web",
      "-o",
      "name",
    ]);
    const pod = (pods.stdout.split("\n")[0] ?? "").replace("pod/", "");
    const r = await call("k8s_exec", {
      pod,
      namespace: "prod",
      command: [
        "sh",
        "-c",
        'echo "pw: $DB_PASSWORD"; printenv DB_PASSWORD | base64; printenv DB_PASSWORD | xxd -p',
      ],
    });
    assert.equal(r.isError, false, r.text);
    assertClean(r.text, DEMO_DB_PASSWORD);
    assert.match(r.text, /Masked: 3 values in this output are shown as ‹masked:…›/);
    assert.match(r.text, /values of the Secrets this pod uses/);
  });
});
