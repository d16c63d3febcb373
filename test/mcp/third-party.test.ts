// A third-party MCP server pointed at Airlock: `mcp-server-kubernetes` (from the npm registry; it shells out to the
// real kubectl) runs unmodified with a kubeconfig whose server is the gateway. The demo policy's masking, blocking and
// review apply to its tools' results exactly as to kubectl. The review rule is switched to retry mode here, as
// docs/mcp.md advises for such servers: a wait-mode hold would outlast the MCP client's call timeout.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { execKubeconfig } from "../helpers/exec-kubeconfig.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const SERVER = fileURLToPath(
  new URL("../../node_modules/mcp-server-kubernetes/dist/index.js", import.meta.url),
);

const REASON = "CHG-12: let the kubernetes MCP server tidy up prod";

let gw: TestGateway;
let client: Client;
let agentId: string;
let policyDir: string;

/** A tool's answer; this server reports kubectl failures as JSON-RPC errors, which become error text here. */
async function call(
  name: string,
  args: Record<string, unknown>,
): Promise<{ text: string; isError: boolean }> {
  let r: Awaited<ReturnType<Client["callTool"]>>;
  try {
    r = await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 });
  } catch (err) {
    return { text: (err as Error).message, isError: true };
  }
  const content = r.content as { text?: string }[];
  return { text: content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}

before(async () => {
  policyDir = await tmpPolicy();
  gw = await startTestGateway({ policyFiles: [join(policyDir, "demo.yaml")] });
  const agent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  agentId = agent.id;
  // The demo policy wants a justification for prod writes: this server cannot send one per call, so its kubeconfig
  // runs the airlock credential exec plugin with a reason for the whole credential (--reason).
  const kubeconfig = await execKubeconfig(
    gw,
    "third-party",
    { name: "demo-agent", token: agent.token },
    {
      reason: REASON,
    },
  );
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER],
    // A fresh HOME: kubectl's discovery cache and config stay inside the test directory.
    env: { PATH: process.env.PATH ?? "", HOME: gw.dir, KUBECONFIG: kubeconfig },
    stderr: "pipe",
  });
  client = new Client({ name: "airlock-third-party-test", version: "1.0.0" });
  await client.connect(transport);
});
after(async () => {
  await client?.close();
  await gw?.close();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
});

/** The demo policy with its prod review rule in retry mode, in a directory of its own. */
async function tmpPolicy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-mcp-3p-"));
  const text = (await readFile(DEMO, "utf8")).replace("mode: wait", "mode: retry");
  assert.match(text, /mode: retry/);
  await writeFile(join(dir, "demo.yaml"), text);
  return dir;
}

async function webPod(): Promise<string> {
  const r = await call("kubectl_get", { resourceType: "pods", namespace: "prod", output: "name" });
  const pod = /(web-[a-z0-9]+-[a-z0-9]+)/.exec(r.text)?.[1];
  assert.ok(pod, r.text);
  return pod;
}

describe("mcp-server-kubernetes through Airlock", () => {
  test("reads work, and exec_in_pod's env shows DB_PASSWORD masked by Airlock", async () => {
    const pod = await webPod();
    const r = await call("exec_in_pod", { name: pod, namespace: "prod", command: ["env"] });
    assert.match(r.text, /DB_PASSWORD=‹masked:[0-9a-f]{8}›/);
    assert.ok(!r.text.includes(DEMO_DB_PASSWORD));
  });

  test("a destructive exec is blocked with the policy's message", async () => {
    const pod = await webPod();
    const r = await call("exec_in_pod", { name: pod, namespace: "prod", command: ["sh", "-c", "rm -rf /"] });
    assert.match(r.text, /exec denied by policy demo rule no-destructive-commands/);
  });

  test("deleting a namespace is blocked with the policy's message", async () => {
    const r = await call("kubectl_delete", { resourceType: "namespace", name: "staging" });
    assert.match(
      r.text,
      /delete denied by policy demo rule no-namespace-deletes: namespaces are never deleted by agents/,
    );
  });

  test("deleting the prod Deployment needs a review; once alice approves, the same call deletes it", async () => {
    const first = await call("kubectl_delete", {
      resourceType: "deployment",
      name: "web",
      namespace: "prod",
    });
    const id = /review ([0-9a-f-]{36}) is pending/.exec(first.text)?.[1];
    assert.ok(id, first.text);
    const reviews = gw.gateway.runtime.reviews;
    assert.ok(reviews);
    const review = await reviews.get(id);
    assert.equal(review.requester.identityId, agentId);
    assert.equal(review.request.action, "delete");
    assert.equal(review.justification, REASON, "the credential's reason is the review's justification");
    const alice = await gw.gateway.runtime.authenticate?.({
      headers: {
        authorization: `Bearer ${(await gw.gateway.store.identities.create({ name: "alice", kind: "human", groups: ["sre"] })).token}`,
      },
    });
    assert.ok(alice?.ok);
    await reviews.approve(id, alice.principal, { reason: "planned" });
    const second = await call("kubectl_delete", {
      resourceType: "deployment",
      name: "web",
      namespace: "prod",
    });
    assert.match(second.text, /deleted/, second.text);
    const gone = await call("kubectl_get", { resourceType: "deployments", namespace: "prod", name: "web" });
    assert.match(gone.text, /not found|NotFound/i, gone.text);
  });
});
