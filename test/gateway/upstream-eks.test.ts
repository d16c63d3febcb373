import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import https from "node:https";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { testConnection } from "../../src/admin/clusters.ts";
import { formatReport } from "../../src/cli/connection.ts";
import { createAwsVerifier } from "../../src/identity/workload/aws-verifier.ts";
import { openUpstream, sessionNameFor, type Upstream } from "../../src/upstream/index.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";
import { ROLE_X, startTestSts, type TestSts } from "../helpers/test-sts.ts";

const ROLE_Y = "arn:aws:iam::111122223333:role/airlock-upstream";

describe("session names", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "airlock"],
    ["mcp-server", "airlock-mcp-server"],
    ["a b/c", "airlock-a-b-c-"],
    ["x".repeat(80), "airlock-"],
  ];
  for (const [actor, prefix] of cases) {
    test(`an STS session name for ${JSON.stringify(actor)?.slice(0, 20)} follows STS's rules`, () => {
      const name = sessionNameFor(actor);
      assert.ok(name.startsWith(prefix), name);
      assert.match(name, /^[\w+=,.@-]{2,64}$/);
    });
  }
  test("names that differ only in unsafe characters get different sessions", () => {
    assert.notEqual(sessionNameFor("a b"), sessionNameFor("a/b"));
    assert.notEqual(sessionNameFor("y".repeat(70)), sessionNameFor(`${"y".repeat(69)}z`));
  });
});

describe("the EKS connection against a loopback STS and the simulator", () => {
  let sim: Simulator;
  let sts: TestSts;
  let admin: SimClient;
  let upstream: Upstream;
  let offset = -13 * 60_000;
  const logs: object[] = [];
  const now = () => Date.now() + offset;

  before(async () => {
    [sim, sts] = await Promise.all([startTestSimulator(), startTestSts()]);
    admin = simClient(sim);
    await writeFile(
      join(dirname(sim.kubeconfigPath), "eks-auth.json"),
      JSON.stringify({
        clusterId: "demo",
        extraHosts: [sts.host],
        regions: ["us-east-1"],
        arn: ROLE_Y,
        username: "eks:airlock-upstream",
        groups: ["system:masters"],
      }),
    );
    upstream = await openUpstream(
      {
        name: "eks",
        eks: {
          cluster: "demo",
          region: "us-east-1",
          server: sim.url,
          caData: Buffer.from(sim.caPem).toString("base64"),
          roleArn: ROLE_Y,
          externalId: "airlock-ext-7",
          sessionTags: { team: "platform" },
          stsEndpoint: sts.url,
        },
      },
      { now, log: (e) => logs.push(e), aws: { credentials: async () => ROLE_X, stsCaPem: sts.caPem } },
    );
  });
  after(async () => {
    upstream?.close();
    admin?.close();
    await Promise.all([sim?.close(), sts?.close()]);
  });

  const get = async (path: string, actor?: string) => {
    const options = await upstream.requestOptions("GET", path, [["accept", "application/json"]], actor);
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on("error", reject);
      req.end();
    });
  };
  const tokenOf = async (actor?: string) =>
    ((await upstream.credentialHeaders(actor)).authorization ?? "").replace(/^Bearer /, "");

  test("role X assumes role Y as airlock-<identity> with the external id and session tags", async () => {
    const reply = await get("/api/v1/namespaces", "mcp-server");
    assert.equal(reply.status, 200, reply.body);
    const assumed = sts.calls.filter((c) => c.action === "AssumeRole");
    assert.equal(assumed.length, 1);
    const call = assumed[0]!;
    assert.equal(call.ok, true, "SigV4 signature of AssumeRole recomputed by the test STS");
    assert.equal(call.accessKeyId, ROLE_X.accessKeyId);
    assert.equal(call.params.RoleArn, ROLE_Y);
    assert.equal(call.params.RoleSessionName, "airlock-mcp-server");
    assert.equal(call.params.ExternalId, "airlock-ext-7");
    assert.equal(call.params["Tags.member.1.Key"], "team");
    assert.equal(call.params["Tags.member.1.Value"], "platform");
  });

  test("the token STS verifies names the acting identity's session and binds the cluster id", async () => {
    const token = await tokenOf("mcp-server");
    const verify = createAwsVerifier({ clusterId: "demo", extraHosts: [sts.host], caPem: sts.caPem, now });
    const v = await verify(token);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(
      v.identity.arn,
      "arn:aws:sts::111122223333:assumed-role/airlock-upstream/airlock-mcp-server",
    );
    assert.equal(v.identity.canonicalArn, ROLE_Y);
    const other = await createAwsVerifier({
      clusterId: "prod",
      extraHosts: [sts.host],
      caPem: sts.caPem,
      now,
    })(token);
    assert.equal(other.ok, false);
  });

  test("each identity gets its own cached session; the gateway's own has no identity in it", async () => {
    const before = sts.calls.filter((c) => c.action === "AssumeRole").length;
    const a1 = await tokenOf("mcp-server");
    const a2 = await tokenOf("mcp-server");
    assert.equal(a1, a2, "cached");
    const b = await tokenOf("ci-bot");
    const own = await tokenOf();
    assert.notEqual(a1, b);
    const sessions = sts.calls.filter((c) => c.action === "AssumeRole").slice(before);
    assert.deepEqual(
      sessions.map((c) => c.params.RoleSessionName),
      ["airlock-ci-bot", "airlock"],
    );
    assert.notEqual(own, b);
  });

  test("the token is refreshed before its 15 minutes run out while a watch opened with the old one stays open", async () => {
    const oldToken = await tokenOf("watcher");
    const options = await upstream.requestOptions(
      "GET",
      "/api/v1/namespaces/default/configmaps?watch=1",
      [["accept", "application/json"]],
      "watcher",
    );
    const events: string[] = [];
    let buffered = "";
    const watch = https.request(options);
    const opened = new Promise<void>((resolve, reject) => {
      watch.on("response", (res) => {
        assert.equal(res.statusCode, 200);
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const l of lines)
            if (l.trim())
              events.push((JSON.parse(l) as { object: { metadata: { name: string } } }).object.metadata.name);
        });
        resolve();
      });
      watch.on("error", reject);
    });
    watch.end();
    await opened;
    // 13 minutes later (the clock started 13 minutes behind): a request mints a new token.
    offset = 0;
    const newToken = await tokenOf("watcher");
    assert.notEqual(newToken, oldToken, "refreshed");
    assert.equal((await get("/api/v1/namespaces/default/configmaps", "watcher")).status, 200);
    const created = await admin.req("POST", "/api/v1/namespaces/default/configmaps", {
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-refresh" } },
    });
    assert.equal(created.code, 201);
    for (let i = 0; i < 50 && !events.includes("after-refresh"); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(events.includes("after-refresh"), `watch still delivers: ${events.join(",")}`);
    watch.destroy();
  });

  test("after a 401 the cached sessions are dropped and a new role session is assumed", async () => {
    const before = sts.calls.filter((c) => c.action === "AssumeRole").length;
    upstream.invalidate();
    assert.equal((await get("/api/v1/namespaces", "mcp-server")).status, 200);
    assert.equal(sts.calls.filter((c) => c.action === "AssumeRole").length, before + 1);
  });

  test("no AWS key, session token or EKS token appears in the connection's log events", async () => {
    const token = await tokenOf("mcp-server");
    const text = JSON.stringify(logs);
    assert.ok(logs.some((e) => (e as { event?: string }).event === "upstream.eks.assumed"));
    for (const secret of [ROLE_X.secretAccessKey, ROLE_X.accessKeyId, token, token.slice(11, 60)]) {
      assert.ok(!text.includes(secret), "a secret leaked into a log event");
    }
    assert.ok(!/ASIA[0-9A-F]{16}/.test(text), "an assumed-role access key leaked");
  });

  test("the connection test reports who role Y is on the cluster and what it may do, readably", async () => {
    const report = await testConnection(upstream, "default");
    assert.equal(report.ok, true, report.error);
    assert.equal(report.user?.username, "eks:airlock-upstream");
    assert.ok(report.user?.groups.includes("system:masters"));
    assert.ok(
      report.resourceRules.some((r) => r.verbs.includes("*")),
      JSON.stringify(report.resourceRules),
    );
    const text = formatReport(report);
    assert.match(text, /connected as: eks:airlock-upstream/);
    assert.match(text, /VERBS +API GROUPS +RESOURCES/);
    assert.ok(!text.includes("k8s-aws-v1."));
  });

  test("a refused AssumeRole fails the request with 503 naming the role, not the keys", async () => {
    const bad = await openUpstream(
      {
        name: "eks-bad",
        eks: {
          cluster: "demo",
          region: "us-east-1",
          server: sim.url,
          caData: sim.caPem,
          roleArn: ROLE_Y,
          stsEndpoint: sts.url,
        },
      },
      {
        aws: {
          credentials: async () => ({ ...ROLE_X, secretAccessKey: "wrong-secret-0123456789" }),
          stsCaPem: sts.caPem,
        },
      },
    );
    try {
      await assert.rejects(
        bad.requestOptions("GET", "/api", [], "mcp-server"),
        (err: Error & { status?: { code: number } }) => {
          assert.equal(err.status?.code, 503);
          assert.match(
            err.message,
            /AssumeRole of arn:aws:iam::111122223333:role\/airlock-upstream as session airlock-mcp-server failed/,
          );
          assert.ok(!err.message.includes("wrong-secret"));
          return true;
        },
      );
    } finally {
      bad.close();
    }
  });
});
