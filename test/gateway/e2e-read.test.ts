// End to end, reads: the real kubectl with the agent's kubeconfig, through Airlock, against the simulator. Each
// command's output equals the same command run directly against the simulator (ages aside), and the simulator's
// record shows every request arrived from the gateway impersonating airlock:demo-agent.
//
// Nothing in this file writes objects (create token only mints a token), so the direct and gateway runs see the
// same cluster and the tests share one gateway.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kubeconfigFor } from "@airlock/sim";
import { DEMO_DB_PASSWORD } from "@airlock/sim/seed.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type KubectlResult, kubectl } from "../helpers/kubectl.ts";
import {
  AGENT,
  AGENT_USER,
  hasRequest,
  impersonatedRequests,
  normaliseTable,
  recordMark,
  rows,
  simRecords,
} from "./e2e-support.ts";

let gw: TestGateway;
let agent: string; // the agent's kubeconfig: Airlock's URL and CA, the agent's Airlock token, namespace prod
let human: string; // a human's: responses to agents are always masked, to humans only when a rule says so

before(async () => {
  gw = await startTestGateway();
  agent = (await gw.addIdentity(AGENT, "agent", ["agents"])).kubeconfig;
  human = (await gw.addIdentity("reader-human", "human", ["sre"])).kubeconfig;
});
after(async () => {
  await gw?.close();
});

/** Runs kubectl through Airlock and returns its result and the simulator's (impersonated) record of it. */
async function viaAirlock(args: string[], as = agent) {
  let result: KubectlResult | undefined;
  const records = await impersonatedRequests(
    gw.sim,
    async () => {
      result = await kubectl(as, args);
    },
    as === human ? "airlock:reader-human" : undefined,
  );
  assert.ok(result);
  return { ...result, records };
}

/** The same command straight to the simulator as its admin, in the agent's namespace. */
function direct(args: string[]): Promise<KubectlResult> {
  return kubectl(gw.sim.kubeconfigPath, ["--namespace", "prod", ...args]);
}

async function assertSameAsDirect(args: string[], as = agent) {
  const through = await viaAirlock(args, as);
  assert.equal(through.code, 0, through.stderr);
  const straight = await direct(args);
  assert.equal(straight.code, 0, straight.stderr);
  assert.equal(normaliseTable(through.stdout), normaliseTable(straight.stdout));
  return through;
}

describe("kubectl get through Airlock", () => {
  test("get namespaces lists what the cluster lists, asked as airlock:demo-agent", async () => {
    const r = await assertSameAsDirect(["get", "namespaces"]);
    assert.deepEqual(
      rows(r.stdout).map((row) => row[0]),
      ["default", "kube-node-lease", "kube-public", "kube-system", "prod", "staging"],
    );
    assert.ok(hasRequest(r.records, { verb: "list", resource: "namespaces" }));
  });

  test("get pods lists the pods of the kubeconfig's namespace (prod)", async () => {
    const r = await assertSameAsDirect(["get", "pods"]);
    const names = rows(r.stdout).map((row) => row[0] ?? "");
    assert.equal(names.length, 3);
    for (const name of names) assert.match(name, /^web-[a-z0-9]+-[a-z0-9]+$/);
    assert.ok(hasRequest(r.records, { verb: "list", resource: "pods", namespace: "prod" }));
  });

  test("get deployments names web, read from apps", async () => {
    const r = await assertSameAsDirect(["get", "deployments"]);
    assert.deepEqual(
      rows(r.stdout).map((row) => row[0]),
      ["web"],
    );
    assert.ok(hasRequest(r.records, { verb: "list", apiGroup: "apps", resource: "deployments" }));
  });

  test("get secrets lists the Secret the web pods read", async () => {
    const r = await assertSameAsDirect(["get", "secrets"]);
    assert.ok(
      rows(r.stdout).some((row) => row[0] === "db-credentials"),
      r.stdout,
    );
    assert.ok(hasRequest(r.records, { verb: "list", resource: "secrets", namespace: "prod" }));
  });

  test("get pods -A -o wide spans every namespace", async () => {
    const r = await assertSameAsDirect(["get", "pods", "-A", "-o", "wide"]);
    const namespaces = new Set(rows(r.stdout).map((row) => row[0]));
    assert.deepEqual([...namespaces].sort(), ["prod", "staging"]);
    assert.ok(hasRequest(r.records, { verb: "list", resource: "pods", namespace: "" }));
  });

  test("get -o yaml returns the object exactly as the cluster stores it (to a human: masking is opt-in)", async () => {
    const cm = await assertSameAsDirect(["get", "configmap", "web-config", "-o", "yaml"], human);
    assert.match(cm.stdout, /^kind: ConfigMap$/m);
    assert.match(cm.stdout, /^ {2}name: web-config$/m);
    assert.ok(hasRequest(cm.records, { verb: "get", resource: "configmaps", name: "web-config" }));
    const deploy = await assertSameAsDirect(["get", "deployment", "web", "-o", "yaml"], human);
    assert.match(deploy.stdout, /^kind: Deployment$/m);
    const secret = await assertSameAsDirect(["get", "secret", "db-credentials", "-o", "yaml"], human);
    assert.ok(secret.stdout.includes(Buffer.from(DEMO_DB_PASSWORD).toString("base64")), secret.stdout);
    // The agent, under the same rule (which names no profile), gets the default profile's markers.
    const masked = await viaAirlock(["get", "secret", "db-credentials", "-o", "yaml"]);
    assert.equal(masked.code, 0, masked.stderr);
    assert.ok(!masked.stdout.includes(Buffer.from(DEMO_DB_PASSWORD).toString("base64")), masked.stdout);
    assert.match(masked.stderr, /airlock: \d+ values? masked by profile default/);
  });

  test("get -l selects by label, and an unmatched selector finds nothing", async () => {
    const web = await assertSameAsDirect(["get", "pods", "-l", "app=web"]);
    assert.equal(rows(web.stdout).length, 3);
    const none = await viaAirlock(["get", "pods", "-l", "app=nothing-has-this"]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /No resources found in prod namespace\./);
    const notEqual = await assertSameAsDirect(["get", "pods", "-A", "-l", "app!=web"]);
    assert.deepEqual(new Set(rows(notEqual.stdout).map((row) => row[0])), new Set(["staging"]));
  });
});

describe("other read commands through Airlock", () => {
  test("describe pod shows the pod, its Secret-backed env and its events as directly", async () => {
    const pods = await kubectl(agent, ["get", "pods", "-o", "name"]);
    const pod = pods.stdout.split("\n")[0]?.replace(/^pod\//, "") ?? "";
    assert.ok(pod, pods.stderr);
    const r = await assertSameAsDirect(["describe", "pod", pod]);
    assert.match(r.stdout, new RegExp(`^Name:\\s+${pod}$`, "m"));
    assert.match(r.stdout, /^Namespace:\s+prod$/m);
    assert.match(r.stdout, /DB_PASSWORD:\s+<set to the key 'password' in secret 'db-credentials'>/);
    assert.ok(hasRequest(r.records, { verb: "get", resource: "pods", name: pod }));
    assert.ok(hasRequest(r.records, { verb: "list", resource: "events" }));
  });

  test("api-resources lists what the cluster serves", async () => {
    const r = await assertSameAsDirect(["api-resources"]);
    assert.match(r.stdout, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.ok(hasRequest(r.records, { path: "/apis" }));
  });

  test("version, explain (OpenAPI v3) and a paginated get (--chunk-size=1) read as directly", async () => {
    const version = await assertSameAsDirect(["version"]);
    assert.match(version.stdout, /^Server Version: v1\.32\.\d+$/m);
    const explain = await assertSameAsDirect(["explain", "deployment"]);
    assert.match(explain.stdout, /^KIND:\s+Deployment$/m);
    assert.ok(explain.records.some((r) => r.path.startsWith("/openapi/v3")));
    const paged = await assertSameAsDirect(["get", "pods", "-A", "--chunk-size=1"]);
    assert.equal(rows(paged.stdout).length, 5);
    assert.ok(paged.records.filter((r) => r.verb === "list" && r.resource === "pods").length >= 5);
  });

  test("auth whoami names airlock:demo-agent, its groups and its Airlock identity", async () => {
    const r = await viaAirlock(["auth", "whoami"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Username\\s+${AGENT_USER}$`, "m"));
    assert.match(r.stdout, /^Groups\s+\[airlock:agents agents system:authenticated\]$/m);
    assert.match(r.stdout, /^Extra: airlock\.dev\/identity-id\s+\[[0-9a-f-]{36}\]$/m);
    assert.ok(hasRequest(r.records, { verb: "create", resource: "selfsubjectreviews" }));
  });

  test("auth can-i answers for the impersonated agent: yes to pods, no to impersonation", async () => {
    const yes = await viaAirlock(["auth", "can-i", "delete", "pods"]);
    assert.equal(yes.stdout.trim(), "yes", yes.stderr);
    assert.equal(yes.code, 0);
    assert.ok(hasRequest(yes.records, { verb: "create", resource: "selfsubjectaccessreviews" }));
    // The admin behind the gateway may impersonate; the agent it impersonates may not.
    const no = await viaAirlock(["auth", "can-i", "impersonate", "users"]);
    assert.match(no.stdout.trim(), /^no - airlock: clients never impersonate through Airlock/, no.stderr);
    assert.equal(no.code, 1);
    const adminCan = await direct(["auth", "can-i", "impersonate", "users"]);
    assert.equal(adminCan.stdout.trim(), "yes", adminCan.stderr);
    // --list shows the rules the cluster grants the impersonated groups, not the gateway's own (admin) rules.
    const list = await viaAirlock(["auth", "can-i", "--list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^\*\.\*\s+\[\]\s+\[\]\s+\[get list watch create update patch delete deletecollection\]$/m,
    );
    assert.doesNotMatch(list.stdout, /\[\*\]$/m);
    assert.ok(hasRequest(list.records, { verb: "create", resource: "selfsubjectrulesreviews" }));
  });

  test("a client's own --as is refused by Airlock before anything reaches the cluster", async () => {
    const mark = await recordMark(gw.sim);
    const raw = await kubectl(agent, ["get", "--raw", "/api/v1/namespaces/prod/pods", "--as=system:admin"]);
    assert.equal(raw.code, 1);
    assert.match(
      raw.stderr,
      /Error from server \(Forbidden\): airlock: impersonation headers are not accepted from clients/,
    );
    // Commands that start with discovery fail there, and client-go prints a discovery error body as "unknown".
    const get = await kubectl(agent, ["get", "pods", "--as=system:admin"]);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /Error from server \(Forbidden\): unknown/);
    assert.deepEqual(await simRecords(gw.sim, mark), []);
  });

  test("create token mints a working token for the mcp-server ServiceAccount (a human caller)", async () => {
    const r = await viaAirlock(["create", "token", "mcp-server"], human);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    assert.equal(payload.sub, "system:serviceaccount:prod:mcp-server");
    assert.ok(
      hasRequest(r.records, {
        verb: "create",
        resource: "serviceaccounts",
        name: "mcp-server",
        subresource: "token",
      }),
    );
    const kubeconfig = join(gw.dir, "mcp-server.kubeconfig");
    await writeFile(kubeconfig, kubeconfigFor(gw.sim.url, gw.sim.caPem, token), { mode: 0o600 });
    const me = await kubectl(kubeconfig, ["auth", "whoami"]);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /^Username\s+system:serviceaccount:prod:mcp-server$/m);
  });
});
