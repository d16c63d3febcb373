// End to end, the MCP write tools under the demo policy: server-side apply with its dry-run diff shown first, diff,
// patch, scale (a scale to zero is denied by the same CEL rule that catches `kubectl scale --replicas=0`), rollout
// restart and status, a prod apply answered at once with the review and the diff its reviewer sees, exec bounded by
// its timeout and output cap, and can_i answering from policy without sending anything.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));

let gw: TestGateway;
let client: Client;

async function call(name: string, args: Record<string, unknown>) {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as { text?: string }[];
  return { text: content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}

const configMap = (value: string, namespace = "staging") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mcp-settings\n  namespace: ${namespace}\ndata:\n  mode: ${value}\n`;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const { token } = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  client = new Client({ name: "airlock-write-test", version: "1.0.0" });
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

describe("MCP write tools under the demo policy", () => {
  test("k8s_apply in staging shows the dry-run diff first, then applies; a repeat is 'no change' and sends nothing", async () => {
    const first = await call("k8s_apply", { manifest: configMap("fast") });
    assert.equal(first.isError, false, first.text);
    assert.match(first.text, /\+\+\+ ConfigMap\/mcp-settings \(applied\)/);
    assert.match(first.text, /^\+ {2}mode: fast$/m);
    assert.match(first.text, /ConfigMap\/mcp-settings applied \(server-side, field manager airlock-mcp\)/);
    const got = await call("k8s_get", { resource: "cm", name: "mcp-settings", namespace: "staging" });
    assert.match(got.text, /mode: fast/);
    const again = await call("k8s_apply", { manifest: configMap("fast") });
    assert.match(
      again.text,
      /ConfigMap\/mcp-settings: no change \(the server-side dry run changes nothing; nothing was sent\)/,
    );
  });

  test("k8s_diff shows a change without making it", async () => {
    const diff = await call("k8s_diff", { manifest: configMap("slow") });
    assert.equal(diff.isError, false, diff.text);
    assert.match(diff.text, /^- {2}mode: fast$/m);
    assert.match(diff.text, /^\+ {2}mode: slow$/m);
    const got = await call("k8s_get", { resource: "configmaps", name: "mcp-settings", namespace: "staging" });
    assert.match(got.text, /mode: fast/);
  });

  test("k8s_apply in prod returns the pending review at once, with the diff the reviewer sees", async () => {
    const r = await call("k8s_apply", {
      manifest: configMap("fast", "prod"),
      justification: "CHG-7: switch prod to fast mode",
    });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /PENDING REVIEW [0-9a-f-]{36}/);
    assert.match(r.text, /What the reviewer sees:/);
    assert.match(r.text, /mode: fast/);
    const cm = await call("k8s_get", { resource: "configmaps", name: "mcp-settings", namespace: "prod" });
    assert.match(cm.text, /NotFound/, "nothing was created");
  });

  test("k8s_patch and k8s_rollout_restart in staging run; rollout status reports", async () => {
    const patched = await call("k8s_patch", {
      resource: "deployments",
      name: "api",
      namespace: "staging",
      patch: { metadata: { labels: { patched: "by-mcp" } } },
    });
    assert.equal(patched.isError, false, patched.text);
    assert.match(patched.text, /patched: by-mcp/);
    const restarted = await call("k8s_rollout_restart", { name: "api", namespace: "staging" });
    assert.equal(restarted.isError, false, restarted.text);
    assert.match(restarted.text, /deployments\.apps\/api restarted/);
    const status = await call("k8s_rollout_status", {
      name: "api",
      namespace: "staging",
      timeoutSeconds: 20,
    });
    assert.match(status.text, /deployments\.apps\/api: /);
  });

  test("k8s_scale to zero is denied by the same rule as kubectl scale --replicas=0; a scale to 2 (the current count) is 'no change'; to 3 runs", async () => {
    const zero = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 0 });
    assert.equal(zero.isError, true);
    assert.match(
      zero.text,
      /denied by policy demo rule no-scale-to-zero: scaling a workload to zero takes it down/,
    );
    const two = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 2 });
    assert.equal(two.isError, false, two.text);
    assert.match(two.text, /no change \(already 2 replicas; nothing was sent\)/);
    const three = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 3 });
    assert.equal(three.isError, false, three.text);
    assert.match(three.text, /scaled to 3/);
  });

  test("k8s_can_i answers from policy: delete in prod needs a justification, exec of rm is denied, list is allowed", async () => {
    const del = await call("k8s_can_i", {
      verb: "delete",
      resource: "deployments",
      namespace: "prod",
      name: "web",
    });
    assert.match(
      del.text,
      /Airlock policy: no — denied by policy demo rule prod-writes-need-review: a justification is required and none was given \(with one, it is held for a review/,
    );
    const rm = await call("k8s_can_i", {
      verb: "exec",
      resource: "pods",
      namespace: "prod",
      name: "web",
      command: ["sh", "-c", "rm -rf /tmp/x"],
    });
    assert.match(rm.text, /Airlock policy: no — denied by policy demo rule no-destructive-commands/);
    const list = await call("k8s_can_i", { verb: "list", resource: "secrets", namespace: "prod" });
    assert.match(
      list.text,
      /Airlock policy: yes — allowed by policy demo rule read-everything \(masking profile default\)/,
    );
  });

  test("k8s_exec stops a command at its timeout and caps its output", async () => {
    const pods = await call("k8s_list", { resource: "pods", namespace: "staging" });
    const pod = /^(api-\S+)/m.exec(pods.text)?.[1];
    assert.ok(pod, pods.text);
    const started = Date.now();
    const slow = await call("k8s_exec", {
      pod,
      namespace: "staging",
      command: ["sleep", "30"],
      timeoutSeconds: 1,
    });
    assert.ok(Date.now() - started < 10_000);
    assert.equal(slow.isError, true);
    assert.match(slow.text, /Timed out after 1 s/);
    const big = await call("k8s_exec", {
      pod,
      namespace: "staging",
      command: ["sh", "-c", "yes airlock | head -c 400000"],
    });
    assert.match(big.text, /Output capped at 262144 bytes/);
    assert.match(big.text, /… truncated — \d+ more characters not shown/);
  });
});
