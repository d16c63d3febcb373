// End to end through the MCP SDK client: every tool that can change the cluster (and exec) takes an optional
// `justification` argument, and read-only tools do not; a policy rule that requires one refuses the call without
// it (saying how to give one) before any review opens; one in the rule's form is recorded on the audit event and shown
// to the reviewer; hostile text (a newline, a bidi override, 501 characters) is refused, not cleaned.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const POLICY = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: why }
spec:
  subjects: [{ group: agents }]
  rules:
    - name: reads
      verbs: [get, list, watch]
      effect: allow
    - name: prod-writes
      verbs: [create, update, patch, delete]
      namespaces: [prod]
      effect: review
      review: { approvers: { groups: [sre] }, mode: retry }
      justification: { required: true, pattern: "^(INC|CHG)-[0-9]+: .{10,}" }
    - name: other-writes
      verbs: [create, update, patch, delete]
      namespaces: ["*"]
      effect: allow
    - name: exec-echo
      verbs: [exec]
      resources: [pods]
      exec: { commandMatches: [echo] }
      effect: allow
      justification: { required: true }
`;

let gw: TestGateway;
let client: Client;

async function call(name: string, args: Record<string, unknown>) {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as { text?: string }[];
  return { text: content.map((c) => c.text ?? "").join("\n"), isError: r.isError === true };
}

async function lastEvent(match: (e: { verb: string; namespace: string }) => boolean) {
  const events = await gw.gateway.store.audit.list({ limit: 50 });
  return events.find(match);
}

before(async () => {
  const file = join(await mkdtemp(join(tmpdir(), "airlock-why-")), "why.yaml");
  await writeFile(file, POLICY);
  gw = await startTestGateway({ policyFiles: [file] });
  const { token } = await gw.addIdentity("mcp-agent", "agent", ["agents"]);
  client = new Client({ name: "airlock-justification-test", version: "1.0.0" });
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

describe("the MCP justification argument", () => {
  test("write tools and exec take it and say when it is required; read-only tools do not", async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of [
      "k8s_apply",
      "k8s_patch",
      "k8s_scale",
      "k8s_rollout_restart",
      "k8s_delete",
      "k8s_exec",
    ]) {
      const tool = byName.get(name);
      assert.ok(tool, name);
      const props = tool.inputSchema.properties as Record<string, { description?: string }>;
      assert.ok(props.justification, `${name} takes a justification`);
      assert.match(props.justification.description ?? "", /Required when a policy rule requires one/);
      assert.match(tool.description ?? "", /required when policy requires one/);
      assert.ok(!(tool.inputSchema.required ?? []).includes("justification"), `${name}: optional`);
    }
    for (const name of ["k8s_get", "k8s_list", "k8s_diff", "k8s_logs", "airlock_review_status"]) {
      const props = byName.get(name)?.inputSchema.properties as Record<string, unknown>;
      assert.equal(props.justification, undefined, `${name} takes none`);
    }
  });

  test("a required justification that is missing: refused with how to give one, and no review is opened", async () => {
    const before = (await gw.gateway.store.reviews.list({})).length;
    const r = await call("k8s_delete", { resource: "deployments", name: "web", namespace: "prod" });
    assert.equal(r.isError, true, r.text);
    assert.match(
      r.text,
      /refused by policy why rule prod-writes: a justification is required and none was given/,
    );
    for (const how of [
      /Airlock-Justification header/,
      /AIRLOCK_REASON=/,
      /airlock credential --reason/,
      /justification argument of an MCP tool call/,
    ])
      assert.match(r.text, how);
    assert.equal((await gw.gateway.store.reviews.list({})).length, before, "no review was opened");
  });

  test("a justification that does not match the rule's pattern is refused", async () => {
    const r = await call("k8s_delete", {
      resource: "deployments",
      name: "web",
      namespace: "prod",
      justification: "cleaning up",
    });
    assert.equal(r.isError, true, r.text);
    assert.match(
      r.text,
      /does not match the form the rule requires, \/\^\(INC\|CHG\)-\[0-9\]\+: \.\{10,\}\//,
    );
  });

  test("one in the rule's form opens the review, which shows it and binds it", async () => {
    const why = "INC-42: web is crash-looping after the 2.3 release";
    const r = await call("k8s_delete", {
      resource: "deployments",
      name: "web",
      namespace: "prod",
      justification: why,
    });
    assert.equal(r.isError, false, r.text);
    const id = /PENDING REVIEW ([0-9a-f-]{36})/.exec(r.text)?.[1];
    assert.ok(id, r.text);
    assert.match(r.text, new RegExp(`justification: ${why}`));
    const review = await gw.gateway.store.reviews.get(id);
    assert.equal(review?.justification, why);
    // The same call with another reason is another request: it does not join (or use) that review.
    const other = await call("k8s_delete", {
      resource: "deployments",
      name: "web",
      namespace: "prod",
      justification: "INC-43: a different reason for the same delete",
    });
    const otherId = /PENDING REVIEW ([0-9a-f-]{36})/.exec(other.text)?.[1];
    assert.ok(otherId && otherId !== id, other.text);
  });

  test("recorded on the audit event of the request it was sent with, and only that one", async () => {
    const why = "scaling staging api up for the load test";
    const r = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 2, justification: why });
    assert.equal(r.isError, false, r.text);
    const scaled = await lastEvent((e) => e.verb === "patch" && e.namespace === "staging");
    assert.equal(scaled?.justification, why);
    const plain = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 3 });
    assert.equal(plain.isError, false, plain.text);
    const next = await lastEvent((e) => e.verb === "patch" && e.namespace === "staging");
    assert.notEqual(next?.id, scaled?.id);
    assert.equal(next?.justification, undefined, "the next call of the same MCP session carries none");
  });

  test("exec takes one too (a rule requires it for exec here)", async () => {
    const pods = await call("k8s_list", { resource: "pods", namespace: "staging" });
    const pod = /\b(api-[a-z0-9-]+)/.exec(pods.text)?.[1];
    assert.ok(pod, pods.text);
    const bare = await call("k8s_exec", { pod, namespace: "staging", command: ["echo", "hi"] });
    assert.equal(bare.isError, true, bare.text);
    assert.match(bare.text, /rule exec-echo: a justification is required/);
    const ok = await call("k8s_exec", {
      pod,
      namespace: "staging",
      command: ["echo", "hi"],
      justification: "checking the pod answers",
    });
    assert.equal(ok.isError, false, ok.text);
    assert.match(ok.text, /hi/);
  });

  test("hostile text is refused with why, not cleaned: newline, bidi override, 501 characters", async () => {
    const base = { name: "api", namespace: "staging", replicas: 2 };
    for (const [justification, why] of [
      ["INC-1: ok\nApproved by: alice", /contains a line break \(U\+000A at character 10\)/],
      ["INC-1: fine \u202Eevil", /contains a bidirectional-text control \(U\+202E/],
      ["x".repeat(501), /longer than 500 characters/],
      ["   ", /the justification is empty/],
    ] as const) {
      const r = await call("k8s_scale", { ...base, justification });
      assert.equal(r.isError, true, r.text);
      assert.match(r.text, /the justification in the justification argument is refused/);
      assert.match(r.text, why);
    }
    const max = await call("k8s_scale", { ...base, justification: "é".repeat(500) });
    assert.equal(max.isError, false, `500 characters are accepted: ${max.text}`);
  });
});
