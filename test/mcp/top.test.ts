// k8s_top (issue 20 §4): CPU and memory from metrics.k8s.io through the pipeline, over the SDK client and HTTPS with
// the demo policy. The simulator serves metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics (packages/sim/src/api/
// metrics.ts); the real `kubectl top pod` through the gateway shows the same figures; a cluster without
// metrics.k8s.io gets a plain "not served" answer, not an error.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { memoryBytes, milliCores } from "../../src/mcp/tools/top.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));

let gw: TestGateway;
let agent: { token: string; kubeconfig: string };
let client: Client;

async function top(args: Record<string, unknown>) {
  const r = await client.callTool({ name: "k8s_top", arguments: args });
  const content = r.content as { type: string; text?: string }[];
  return {
    text: content.map((x) => x.text ?? "").join("\n"),
    isError: r.isError === true,
    structured: r.structuredContent as {
      served?: boolean;
      rows?: Record<string, string>[];
      items?: { name: string; container?: string; cpuMillicores: number; memoryBytes: number }[];
    },
  };
}

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  agent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  const c = new Client({ name: "airlock-test", version: "1.0.0" });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
      fetch: httpsFetch({ ca: gw.gateway.caPem }),
      requestInit: { headers: { authorization: `Bearer ${agent.token}` } },
    }),
  );
  client = c;
});
after(async () => {
  await client?.close();
  await gw?.close();
});

describe("k8s_top", () => {
  test("quantities are read as kubectl reads them", () => {
    assert.equal(milliCores("12345678n"), 13);
    assert.equal(milliCores("250m"), 250);
    assert.equal(milliCores("2"), 2000);
    assert.ok(Number.isNaN(milliCores("lots")));
    assert.equal(memoryBytes("2048Ki"), 2 * 1024 * 1024);
    assert.equal(memoryBytes("1Gi"), 1024 ** 3);
    assert.ok(Number.isNaN(memoryBytes("-1Mi")));
  });

  test("pods of a namespace: one row per running pod, the same figures real `kubectl top pod` shows through the gateway", async () => {
    const r = await top({ namespace: "prod", labelSelector: "app=web" });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.structured.served, true);
    assert.equal(r.structured.rows?.length, 3, r.text);
    assert.match(r.text, /NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    for (const i of r.structured.items ?? []) {
      assert.ok(i.cpuMillicores >= 1 && i.cpuMillicores <= 250, JSON.stringify(i));
      assert.ok(i.memoryBytes >= 16 * 1024 ** 2, JSON.stringify(i));
    }
    const k = await kubectl(agent.kubeconfig, ["top", "pod", "-n", "prod", "-l", "app=web", "--no-headers"]);
    assert.equal(k.code, 0, k.stderr);
    const fromKubectl = k.stdout
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(
      fromKubectl,
      (r.structured.rows ?? []).map((row) => [row.NAME, row["CPU(cores)"], row["MEMORY(bytes)"]]),
    );
    const again = await top({ namespace: "prod", labelSelector: "app=web" });
    assert.deepEqual(again.structured.items, r.structured.items, "deterministic");
  });

  test("per container, sorted by CPU highest first; nodes too", async () => {
    const r = await top({ namespace: "prod", containers: true, sortBy: "cpu" });
    assert.equal(r.isError, false, r.text);
    const cpus = (r.structured.items ?? []).map((i) => i.cpuMillicores);
    assert.ok(cpus.length >= 3);
    assert.deepEqual(
      cpus,
      [...cpus].sort((a, b) => b - a),
    );
    assert.ok((r.structured.items ?? []).every((i) => i.container));
    assert.match(r.text, /POD\s+NAME\s+CPU\(cores\)/);
    const n = await top({ kind: "nodes" });
    assert.equal(n.isError, false, n.text);
    assert.equal(n.structured.items?.[0]?.name, "sim-node-1");
    assert.ok((n.structured.items?.[0]?.cpuMillicores ?? 0) > 150);
  });

  test("the list is audited as the caller's list of metrics.k8s.io pods, allowed by read-everything", async () => {
    const seen = new Set((await gw.gateway.store.audit.list({ limit: 10_000 })).map((e) => e.id));
    await top({ namespace: "staging" });
    const since = (await gw.gateway.store.audit.list({ limit: 10_000 })).filter((e) => !seen.has(e.id));
    const e = since.find((x) => x.apiGroup === "metrics.k8s.io");
    assert.ok(e, JSON.stringify(since));
    assert.equal(e.verb, "list");
    assert.equal(e.resource, "pods");
    assert.equal(e.identityName, "demo-agent");
    assert.equal(e.rule, "read-everything");
  });

  test('a cluster that does not serve metrics.k8s.io gets "not served", not an error', async () => {
    const types = gw.sim.registry.all().filter((t) => t.group === "metrics.k8s.io");
    for (const t of types) gw.sim.registry.unregister(t.group, t.resource);
    try {
      const r = await top({ namespace: "prod" });
      assert.equal(r.isError, false, r.text);
      assert.equal(r.structured.served, false);
      assert.match(r.text, /^metrics\.k8s\.io is not served by this cluster/);
      const n = await top({ kind: "nodes" });
      assert.equal(n.structured.served, false, n.text);
    } finally {
      for (const t of types) gw.sim.registry.register(t);
    }
  });
});
