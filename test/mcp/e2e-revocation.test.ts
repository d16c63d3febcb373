// End to end through the MCP SDK client, issue 15: a review an MCP agent opened is withdrawn when the agent is
// revoked (the MCP endpoint answers reviews at once, retry mode), and nobody approves it afterwards; an MCP agent
// acting for alice under her delegation cannot have its request approved by alice.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import type { Review } from "../../src/review/types.ts";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));

let gw: TestGateway;
let admin: string;
let alice: string;
let bob: string;
const clients: Client[] = [];

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  admin = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
  ({ token: alice } = await gw.addIdentity("alice", "human", ["sre"]));
  ({ token: bob } = await gw.addIdentity("bob", "human", ["sre"]));
});
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await gw?.close();
});

async function mcpClient(token: string): Promise<Client> {
  const client = new Client({ name: "airlock-revocation-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
      fetch: httpsFetch({ ca: gw.gateway.caPem }),
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

async function applyInProd(client: Client, name: string): Promise<string> {
  const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: prod\ndata:\n  a: "1"\n`;
  const r = await client.callTool({
    name: "k8s_apply",
    arguments: { manifest, justification: "CHG-7: add the settings the release needs" },
  });
  const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n");
  const id = /PENDING REVIEW ([0-9a-f-]{36})/.exec(text)?.[1];
  assert.ok(id, text);
  return id;
}

const api = (method: string, path: string, token: string, body?: unknown) =>
  callGateway(gw, method, `/airlock/v1/${path}`, token, body);

describe("MCP agents and revocation", () => {
  test("revoking an MCP agent withdraws its pending review; approving it is refused and its next call fails", async () => {
    const { token } = await gw.addIdentity("mcp-agent", "agent", ["agents"]);
    const client = await mcpClient(token);
    const id = await applyInProd(client, "mcp-revoked");
    assert.equal((await api("POST", "identities/mcp-agent/revoke", admin)).code, 200);
    const review = await eventually(
      "the review to be withdrawn",
      async () => (await api("GET", `reviews/${id}`, admin)).body.review as Review,
      { until: (r) => r.state === "withdrawn" },
    );
    assert.equal(review?.endedReason, "identity mcp-agent was revoked");
    const approve = await api("POST", `reviews/${id}/approve`, alice, {});
    assert.equal(approve.code, 403);
    assert.match(
      approve.body.message,
      /the review was withdrawn \(identity mcp-agent was revoked\); the request will not run/,
    );
    await assert.rejects(
      client.callTool({ name: "k8s_get", arguments: { resource: "configmaps", namespace: "prod" } }),
      /401|Unauthorized/,
    );
    const direct = await kubectl(gw.sim.kubeconfigPath, ["get", "configmap", "mcp-revoked", "-n", "prod"]);
    assert.match(direct.stderr, /NotFound/, "nothing was created in the cluster");
  });

  test("an MCP agent acting for alice under her delegation: alice cannot approve, bob can", async () => {
    const { token } = await gw.addIdentity("mcp-obo", "agent", ["agents"]);
    assert.equal(
      (await api("POST", "identities/alice/delegations", alice, { to: "mcp-obo", for: "1h" })).code,
      201,
    );
    const minted = await api("POST", "credentials/session", token, { onBehalfOf: "alice" });
    assert.equal(minted.code, 201, JSON.stringify(minted.body));
    const client = await mcpClient(minted.body.token);
    const id = await applyInProd(client, "mcp-obo-cm");
    const self = await api("POST", `reviews/${id}/approve`, alice, {});
    assert.equal(self.code, 403);
    assert.match(
      self.body.message,
      /"mcp-obo" asked for this request on behalf of "alice", and "alice" is that person/,
    );
    assert.equal((await api("POST", `reviews/${id}/approve`, bob, {})).code, 200);
  });
});
