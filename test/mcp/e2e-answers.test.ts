// Issue 20 §2/§3 through the official SDK client over HTTPS, demo policy, one gateway: structured answers, list
// output modes and pagination, the identity's default namespace, reviews without surprises (the gateway-built dry run
// decided as a get, "no change", withdraw), honest annotations, and tools.listChanged not advertised.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { asGet } from "../../src/gateway/stages/decide.ts";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { resolveWriteOptions } from "../../src/kube/classify/options.ts";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { columnCell, parseColumns, parseJsonPath } from "../../src/mcp/format.ts";
import { execKubeconfig } from "../helpers/exec-kubeconfig.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const MARKER = /‹masked:[0-9a-f]{8}›/;

let gw: TestGateway;
let agent: { token: string; kubeconfig: string };
let client: Client;
let other: Client;

function connect(token: string): Promise<Client> {
  const c = new Client({ name: "airlock-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
    fetch: httpsFetch({ ca: gw.gateway.caPem }),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return c.connect(transport).then(() => c);
}

interface Result {
  text: string;
  isError: boolean;
  structured: Record<string, unknown> | undefined;
}

async function call(name: string, args: Record<string, unknown>, c: Client = client): Promise<Result> {
  const r = await c.callTool({ name, arguments: args });
  const content = r.content as { type: string; text?: string }[];
  return {
    text: content.map((x) => x.text ?? "").join("\n"),
    isError: r.isError === true,
    structured: r.structuredContent as Record<string, unknown> | undefined,
  };
}

const pendingReviews = async () =>
  (await gw.gateway.store.reviews.list({ state: "pending", limit: 1000 })).length;

const cm = (ns: string, mode: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: answers-settings\n  namespace: ${ns}\ndata:\n  mode: ${mode}\n`;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO] });
  agent = await gw.addIdentity("demo-agent", "agent", ["agents"]);
  await gw.gateway.store.identities.update("demo-agent", { defaultNamespace: "prod" });
  const second = await gw.addIdentity("other-agent", "agent", ["agents"]);
  client = await connect(agent.token);
  other = await connect(second.token);
});
after(async () => {
  await client?.close();
  await other?.close();
  await gw?.close();
});

describe("structured answers", () => {
  test("tools.listChanged is not advertised (no GET stream delivers notifications; the tool set is fixed)", () => {
    assert.notEqual(client.getServerCapabilities()?.tools?.listChanged, true);
  });

  test("every tool declares an outputSchema that allows a pending review", async () => {
    const { tools } = await client.listTools();
    for (const t of tools) {
      assert.ok(t.outputSchema, `${t.name} has no outputSchema`);
      const props = (t.outputSchema as { properties?: Record<string, unknown> }).properties ?? {};
      assert.ok("review" in props, `${t.name}: no review field`);
    }
  });

  test("a call without namespace runs in the identity's defaultNamespace (prod), and whoami says so", async () => {
    const who = await call("k8s_whoami", {});
    assert.equal(who.structured?.defaultNamespace, "prod");
    const r = await call("k8s_list", { resource: "pods" });
    assert.equal(r.isError, false, r.text);
    assert.equal(r.structured?.namespace, "prod");
    const rows = r.structured?.rows as Record<string, string>[];
    assert.ok(
      rows.some((row) => row.NAME?.startsWith("web-")),
      r.text,
    );
    // The text holds the same rows.
    for (const row of rows) assert.ok(r.text.includes(row.NAME ?? "?"));
  });

  test("k8s_list output name, json, wide and custom columns; a page names how to continue", async () => {
    const names = await call("k8s_list", { resource: "pods", output: "name" });
    assert.ok(((names.structured?.names ?? []) as string[]).every((n) => n.startsWith("pods/")));
    const page = await call("k8s_list", { resource: "pods", limit: 1 });
    assert.equal(page.structured?.count, 1);
    const token = page.structured?.continue as string;
    assert.ok(token, page.text);
    assert.match(page.text, /(\d+ more|More objects) after these 1; pass continue: "/);
    const next = await call("k8s_list", { resource: "pods", limit: 1, continue: token });
    assert.notDeepEqual(next.structured?.rows, page.structured?.rows);
    const cols = await call("k8s_list", {
      resource: "deployments",
      columns: "NAME:.metadata.name,IMAGE:.spec.template.spec.containers[*].image,REPLICAS:.spec.replicas",
    });
    assert.equal(cols.isError, false, cols.text);
    assert.deepEqual(
      ((cols.structured?.rows ?? []) as Record<string, string>[]).find((r) => r.NAME === "web"),
      { NAME: "web", IMAGE: "nginx:1.27", REPLICAS: "3" },
    );
    assert.match(cols.text, /^NAME\s+IMAGE\s+REPLICAS$/m);
    const wide = await call("k8s_list", { resource: "pods", output: "wide" });
    const narrow = await call("k8s_list", { resource: "pods" });
    assert.ok(
      Object.keys(((wide.structured?.rows ?? []) as object[])[0] ?? {}).length >
        Object.keys(((narrow.structured?.rows ?? []) as object[])[0] ?? {}).length,
    );
    const secrets = await call("k8s_list", { resource: "secrets", output: "json" });
    assert.equal(secrets.isError, false, secrets.text);
    assert.ok(!secrets.text.includes(DEMO_DB_PASSWORD));
    assert.ok(!JSON.stringify(secrets.structured).includes(DEMO_DB_PASSWORD));
    assert.match(JSON.stringify(secrets.structured?.items), MARKER);
    assert.match(secrets.text, /^Masked \d+ values?: /m);
    const bad = await call("k8s_list", { resource: "pods", columns: "NAME:metadata.name" });
    assert.equal(bad.isError, true);
  });

  test("the JSONPath subset: keys, indexes, [*], quoted keys; no filters or scripts", () => {
    const obj = {
      metadata: { labels: { "app.kubernetes.io/name": "web" } },
      spec: { c: [{ i: "a" }, { i: "b" }] },
    };
    const path = (p: string) => {
      const parsed = parseJsonPath(p);
      assert.ok(parsed.ok, p);
      return parsed.steps;
    };
    assert.equal(columnCell(obj, path(".spec.c[*].i")), "a,b");
    assert.equal(columnCell(obj, path("{.spec.c[1].i}")), "b");
    assert.equal(columnCell(obj, path(".metadata.labels['app.kubernetes.io/name']")), "web");
    assert.equal(columnCell(obj, path(".nothing.here")), "<none>");
    assert.equal(columnCell(obj, path(".constructor.name")), "<none>");
    for (const evil of ["$..*", ".spec.c[?(@.i=='a')]", ".a[(this.x)]", "constructor"])
      assert.equal(parseJsonPath(evil).ok, false, evil);
    assert.equal(parseColumns("A:.a,B:.b['x,y']").ok, true);
  });

  test("a denied call says how to ask, in one line, naming a group and no person", async () => {
    const r = await call("k8s_scale", { name: "api", namespace: "staging", replicas: 0 });
    assert.equal(r.isError, true);
    const how = r.text.split("\n").filter((l) => l.startsWith("How to ask:"));
    assert.equal(how.length, 1, r.text);
    assert.match(how[0] ?? "", /group airlock:admins/);
  });
});

describe("reviews without surprises", () => {
  test("k8s_diff of a prod change opens no review: the gateway's dry run is decided as a get", async () => {
    const before = await pendingReviews();
    const r = await call("k8s_diff", { manifest: cm("prod", "slow") });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /^\+ {2}mode: slow$/m);
    assert.deepEqual(r.structured?.objects, [{ object: "ConfigMap/answers-settings", changed: true }]);
    assert.equal(await pendingReviews(), before, "no review was opened");
    const events = await gw.gateway.store.audit.list({ limit: 1000 });
    // A server-side apply of an object that does not exist yet is a create (dryRun=All) to Kubernetes.
    const dry = events.find((e) => e.name === "answers-settings" && e.method === "PATCH");
    assert.ok(dry, JSON.stringify(events.filter((e) => e.name === "answers-settings")));
    assert.equal(dry?.rule, "read-everything", "decided by the read rule");
    const got = await call("k8s_get", { resource: "configmaps", name: "answers-settings" });
    assert.equal(got.isError, true, "nothing was created");
  });

  test("a client's own dry run stays a write: kubectl --dry-run=server in prod is held for review", async () => {
    const all = async () => gw.gateway.store.reviews.list({ limit: 1000 });
    const before = (await all()).length;
    // The gateway holds the request while the review is pending (wait mode): kubectl is stopped after 3 s. The
    // demo policy wants a justification for prod writes: given per command through the exec plugin.
    const viaPlugin = await execKubeconfig(gw, "answers-agent", { name: "demo-agent", token: agent.token });
    await kubectl(
      viaPlugin,
      [
        "-n",
        "prod",
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"dry":"run"}}}',
        "--dry-run=server",
      ],
      { timeoutMs: 3000, env: { AIRLOCK_REASON: "CHG-1: check the label patch first" } },
    );
    // A review was opened (then withdrawn when kubectl went away): the dry run was decided as the write it is.
    const reviews = await all();
    assert.equal(reviews.length, before + 1);
    assert.ok(reviews.some((r) => r.request.name === "web" && r.request.action === "patch"));
  });

  test("the dry-run-as-get rule only ever reads a dry-run create/update/patch as a get", () => {
    const classify = (method: string, path: string, body?: unknown) => {
      const c = classifyRequest(method, path, "default");
      assert.ok(c.ok);
      if (body !== undefined) c.value.body = body;
      const options = resolveWriteOptions(c.value, body, body !== undefined);
      assert.ok(options.ok);
      c.value.options = options.value;
      return c.value;
    };
    const dryPatch = classify("PATCH", "/api/v1/namespaces/prod/configmaps/x?dryRun=All");
    assert.equal(asGet(dryPatch, "PATCH")?.action, "get");
    assert.equal(asGet(dryPatch, "PATCH")?.info.name, "x");
    assert.equal(asGet(classify("PATCH", "/api/v1/namespaces/prod/configmaps/x"), "PATCH"), undefined);
    assert.equal(
      asGet(classify("DELETE", "/api/v1/namespaces/prod/configmaps/x?dryRun=All"), "DELETE"),
      undefined,
    );
    assert.equal(
      asGet(classify("POST", "/api/v1/namespaces/prod/configmaps?dryRun=All", {}), "POST"),
      undefined,
    );
    const create = classify("POST", "/api/v1/namespaces/prod/configmaps?dryRun=All", {
      metadata: { name: "y" },
    });
    assert.equal(asGet(create, "POST")?.info.name, "y");
  });

  test("a prod apply is pending (isError false, review in structuredContent); the requester withdraws it, others cannot", async () => {
    const r = await call("k8s_apply", {
      manifest: cm("prod", "fast"),
      justification: "CHG-2: answers in fast mode",
    });
    assert.equal(r.isError, false, r.text);
    const review = r.structured?.review as { id: string; state: string; approverGroups: string[] };
    assert.equal(review.state, "pending");
    assert.deepEqual(review.approverGroups, ["sre"]);
    assert.ok(!/alice/.test(r.text), "no person's name");
    const stranger = await call("airlock_review_withdraw", { id: review.id }, other);
    assert.equal(stranger.isError, true);
    assert.match(stranger.text, /not found/);
    const w = await call("airlock_review_withdraw", { id: review.id, reason: "wrong mode" });
    assert.equal(w.isError, false, w.text);
    assert.equal(w.structured?.state, "withdrawn");
    const stored = await gw.gateway.store.reviews.get(review.id);
    assert.equal(stored?.state, "withdrawn");
    assert.match(stored?.endedReason ?? "", /withdrawn by the requester demo-agent: wrong mode/);
  });

  test("a scale to the current count is 'no change' and opens no review in prod", async () => {
    const before = await pendingReviews();
    const r = await call("k8s_scale", {
      name: "web",
      replicas: 3,
      justification: "INC-2: answers test scale",
    });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /no change/);
    assert.equal(r.structured?.changed, false);
    assert.equal(await pendingReviews(), before);
    const held = await call("k8s_scale", {
      name: "web",
      replicas: 4,
      justification: "INC-3: more web capacity",
    });
    assert.equal(held.isError, false, held.text);
    assert.equal((held.structured?.review as { state?: string })?.state, "pending");
  });

  test("annotations tell the truth: every read-only tool sends only reads (or gateway dry runs decided as get)", async () => {
    const { tools } = await client.listTools();
    const readOnly = tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name);
    const samples: Record<string, Record<string, unknown>> = {
      k8s_whoami: {},
      k8s_can_i: { verb: "delete", resource: "pods" },
      k8s_api_resources: {},
      k8s_list: { resource: "pods" },
      k8s_get: { resource: "deployments", name: "web" },
      k8s_describe: { resource: "deployments", name: "web" },
      k8s_events: {},
      k8s_logs: { pod: "nonexistent" },
      k8s_diff: { manifest: cm("prod", "annotations") },
      k8s_rollout_status: { name: "web" },
      k8s_rollout_history: { name: "web" },
      k8s_watch: { resource: "pods", seconds: 1 },
      k8s_explain: { resource: "deployments", field: "spec.replicas" },
      k8s_pod_http: { pod: "web", port: 80, path: "/healthz" },
      k8s_top: { kind: "nodes" },
    };
    const seen = new Set((await gw.gateway.store.audit.list({ limit: 10_000 })).map((e) => e.id));
    for (const name of readOnly) {
      if (name.startsWith("airlock_review")) continue;
      const args = samples[name];
      assert.ok(args, `no sample call for read-only tool ${name}: add one`);
      await call(name, args);
    }
    const since = (await gw.gateway.store.audit.list({ limit: 10_000 })).filter((e) => !seen.has(e.id));
    assert.ok(since.length > 5);
    for (const e of since)
      assert.ok(
        ["get", "list", "watch"].includes(e.verb) ||
          e.rule === "read-everything" ||
          e.verb === "create" ||
          (e.verb === "proxy" && e.method === "GET"),
        `${e.verb} ${e.resource} ${e.name} by ${e.rule}`,
      );
    // Writes never claim to be read-only, and every write tool says it may wait for a human.
    for (const t of tools.filter((x) => x.annotations?.readOnlyHint !== true && x.name.startsWith("k8s_"))) {
      assert.match(t.description ?? "", /wait for a human|human's approval/, t.name);
      assert.equal(t.annotations?.readOnlyHint, false, t.name);
    }
    const del = tools.find((t) => t.name === "k8s_delete");
    assert.equal(del?.annotations?.destructiveHint, true);
  });
});
