// k8s_pod_http (issue 20 §4): one bounded GET to a pod's port through pods/proxy, over the SDK client and HTTPS with
// the demo policy (agents are denied `proxy`: the refusal says how to ask) plus a small policy granting `proxy` on pods
// in prod to one group: the answer of a pod's careless debug page comes back with its Secret values masked, paths a
// clever agent would try are refused before anything is sent, and the answer is capped and audited.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { checkProxyPath, MAX_HTTP_BYTES } from "../../src/mcp/tools/http.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const PROXY_POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata:
  name: http-probes
spec:
  subjects:
    - group: http-testers
  rules:
    - name: read-pods
      verbs: [get, list]
      resources: [pods]
      effect: allow
    - name: probe-prod-pods
      verbs: [proxy]
      resources: [pods]
      namespaces: [prod]
      effect: allow
`;

let gw: TestGateway;
let agent: Client;
let tester: Client;
let webPod: string;

function connect(token: string): Promise<Client> {
  const c = new Client({ name: "airlock-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
    fetch: httpsFetch({ ca: gw.gateway.caPem }),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return c.connect(transport).then(() => c);
}

async function call(c: Client, args: Record<string, unknown>) {
  const r = await c.callTool({ name: "k8s_pod_http", arguments: args });
  const content = r.content as { type: string; text?: string }[];
  return {
    text: content.map((x) => x.text ?? "").join("\n"),
    isError: r.isError === true,
    structured: r.structuredContent as Record<string, unknown> | undefined,
  };
}

before(async () => {
  const extra = join(tmpdir(), `airlock-http-probes-${process.pid}.yaml`);
  await writeFile(extra, PROXY_POLICY);
  gw = await startTestGateway({ policyFiles: [DEMO, extra] });
  const a = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  const t = await gw.addIdentity("prober", "agent", ["http-testers"]);
  agent = await connect(a.token);
  tester = await connect(t.token);
  const pods = await tester.callTool({
    name: "k8s_list",
    arguments: { resource: "pods", namespace: "prod", output: "name" },
  });
  const names = (pods.structuredContent as { names?: string[] }).names ?? [];
  webPod = (names.find((n) => n.includes("web-")) ?? "").replace(/^pods?\//, "");
  assert.ok(webPod, names.join(" "));
});
after(async () => {
  await agent?.close();
  await tester?.close();
  await gw?.close();
});

describe("k8s_pod_http", () => {
  test("GET /healthz on a pod's declared port answers the application's body, structured", async () => {
    const r = await call(tester, { pod: webPod, port: 80, path: "/healthz", namespace: "prod" });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /HTTP 200 \(text\/plain; charset=utf-8\) from pod web-\S+ port 80 GET \/healthz/);
    assert.equal(r.structured?.status, 200);
    assert.equal(r.structured?.body, "ok\n");
    assert.equal(r.structured?.truncated, false);
    assert.equal(r.structured?.timedOut, false);
  });

  test("the pod's answer is masked like any body: a debug page printing its Secret-backed env shows no value", async () => {
    const r = await call(tester, { pod: webPod, port: 80, path: "/env", namespace: "prod" });
    assert.equal(r.isError, false, r.text);
    assert.match(String(r.structured?.body), /LOG_LEVEL=info/);
    assert.match(String(r.structured?.body), /DB_PASSWORD=‹masked:[0-9a-f]{8}›/);
    const everything = r.text + JSON.stringify(r.structured);
    assert.ok(!everything.includes(DEMO_DB_PASSWORD), "the planted password came back");
    assert.ok(!everything.includes(Buffer.from(DEMO_DB_PASSWORD).toString("base64")));
    assert.match(r.text, /Masked \d+ value/);
  });

  test("a port the pod does not declare is the API server's refusal, as an error", async () => {
    const r = await call(tester, { pod: webPod, port: 9999, path: "/", namespace: "prod" });
    assert.equal(r.isError, true);
    assert.match(r.text, /connection refused/);
  });

  test("the demo agent is denied `proxy` (its own action): the refusal names the rule and says how to ask", async () => {
    const before = (await gw.gateway.store.audit.list({ limit: 10_000 })).length;
    const r = await call(agent, { pod: webPod, port: 80, path: "/healthz", namespace: "prod" });
    assert.equal(r.isError, true);
    assert.match(r.text, /default-deny|denied|refused/);
    assert.match(r.text, /How to ask: /);
    const since = (await gw.gateway.store.audit.list({ limit: 10_000 })).length;
    assert.ok(since > before, "the refusal is audited");
  });

  test("paths a clever agent would try are refused before anything is sent", async () => {
    const before = (await gw.gateway.store.audit.list({ limit: 10_000 })).length;
    for (const path of [
      "/../../api/v1/secrets",
      "/a/%2e%2e/b",
      "/a%2fb",
      "//evil.example/x",
      "http://evil.example/",
      "healthz",
      "/a\\..\\b",
      "/x#frag",
      "/a?b?c",
      `/${"a".repeat(600)}`,
      "/a/./b",
      "/%00",
      "/bad%zz",
    ]) {
      const r = await call(tester, { pod: webPod, port: 80, path, namespace: "prod" });
      assert.equal(r.isError, true, path);
      assert.ok(checkProxyPath(path) !== undefined || path.length > 512, path);
    }
    const r = await call(tester, {
      pod: webPod,
      port: 80,
      path: "/healthz",
      method: "POST",
      namespace: "prod",
    });
    assert.equal(r.isError, true, "only GET");
    const since = (await gw.gateway.store.audit.list({ limit: 10_000 })).length;
    assert.equal(since, before, "nothing was sent for a refused path");
    assert.equal(checkProxyPath("/metrics?name=a&x=%20y"), undefined);
  });

  test("the answer is cut at 64 KiB and the wait at timeoutSeconds, each said", async () => {
    const big = await call(tester, { pod: webPod, port: 80, path: "/bytes?n=200000", namespace: "prod" });
    assert.equal(big.isError, false, big.text);
    assert.equal(big.structured?.truncated, true);
    assert.equal(big.structured?.bytes, MAX_HTTP_BYTES);
    assert.match(big.text, /Answer cut at 65536 bytes/);
    const started = Date.now();
    const slow = await call(tester, {
      pod: webPod,
      port: 80,
      path: "/slow",
      timeoutSeconds: 1,
      namespace: "prod",
    });
    assert.ok(Date.now() - started < 8000, "stopped waiting");
    assert.equal(slow.isError, false, slow.text);
    assert.equal(slow.structured?.timedOut, true);
    assert.match(slow.text, /No complete answer within 1 s: stopped waiting/);
  });

  test("the tool is declared read-only, and its request is audited as the proxy action on pods", async () => {
    const { tools } = await tester.listTools();
    const t = tools.find((x) => x.name === "k8s_pod_http");
    assert.equal(t?.annotations?.readOnlyHint, true);
    assert.equal(t?.annotations?.destructiveHint, false);
    await call(tester, { pod: webPod, port: 80, path: "/healthz?probe=1", namespace: "prod" });
    const entries = await gw.gateway.store.audit.list({ limit: 10_000 });
    const e = entries.find(
      (x) => x.resource === "pods" && x.name?.startsWith(webPod) && x.rule === "probe-prod-pods",
    );
    assert.ok(e, JSON.stringify(entries.slice(-3)));
  });
});
