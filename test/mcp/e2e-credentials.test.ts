// End to end, the credentials category through the MCP endpoint under the demo policy: the generic tools (k8s_apply,
// k8s_patch) reach the same pipeline as kubectl, so a token Secret, a binding to cluster-admin, a privileged workload
// or a patch that turns a Secret into a token Secret is refused as a tool error naming the category; k8s_whoami works.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const CATEGORY = /category "credentials".*credentials: \[/s;

let gw: TestGateway;
let client: Client;

async function call(name: string, args: Record<string, unknown>) {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as { text?: string }[];
  return { text: content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  const { token } = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  client = new Client({ name: "airlock-credentials-test", version: "1.0.0" });
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

describe("the credentials category through MCP tools", () => {
  test("k8s_apply of a service-account-token Secret is refused and no token comes back", async () => {
    const r = await call("k8s_apply", {
      manifest:
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mcp-token\n  namespace: staging\n  annotations:\n" +
        "    kubernetes.io/service-account.name: default\ntype: kubernetes.io/service-account-token\n",
    });
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, CATEGORY);
    assert.doesNotMatch(r.text, /eyJ[\w-]+\.[\w-]+\./);
  });

  test("k8s_apply of a RoleBinding to cluster-admin and of a privileged Deployment are refused", async () => {
    const binding = await call("k8s_apply", {
      manifest:
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: mcp-admin\n  namespace: staging\n" +
        "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n" +
        "subjects:\n  - kind: User\n    name: me\n",
    });
    assert.equal(binding.isError, true, binding.text);
    assert.match(binding.text, /bindableRoles: \[ClusterRole\/cluster-admin\]/);
    const privileged = await call("k8s_apply", {
      manifest:
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mcp-root\n  namespace: staging\nspec:\n" +
        "  selector: { matchLabels: { app: mcp-root } }\n  template:\n    metadata: { labels: { app: mcp-root } }\n" +
        "    spec:\n      containers:\n        - name: c\n          image: busybox\n          securityContext: { privileged: true }\n",
    });
    assert.equal(privileged.isError, true, privileged.text);
    assert.match(privileged.text, /host-access/);
  });

  test("k8s_patch turning an Opaque Secret into a token Secret is refused; an ordinary patch is not", async () => {
    const made = await call("k8s_apply", {
      manifest:
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mcp-plain\n  namespace: staging\ntype: Opaque\nstringData: { a: b }\n",
    });
    assert.equal(made.isError, false, made.text);
    const turned = await call("k8s_patch", {
      resource: "secrets",
      name: "mcp-plain",
      namespace: "staging",
      patch: { metadata: { annotations: { "kubernetes.io/service-account.name": "default" } } },
    });
    assert.equal(turned.isError, true, turned.text);
    assert.match(turned.text, CATEGORY);
    const label = await call("k8s_patch", {
      resource: "secrets",
      name: "mcp-plain",
      namespace: "staging",
      patch: { metadata: { labels: { tier: "web" } } },
    });
    assert.equal(label.isError, false, label.text);
  });

  test("k8s_whoami works: self reviews are allowed by default", async () => {
    const r = await call("k8s_whoami", {});
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /airlock:demo-agent/);
  });
});
