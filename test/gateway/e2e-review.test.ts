// End to end, reviews: the real kubectl through Airlock with a test decider (until the policy engine's demo policy is
// used here): deployment deletes in prod wait for a human in group sre; config map deletes in prod wait 2 s and time
// out; writes in staging and every exec are retry-mode reviews. Reviewers act with the real `airlock review` CLI.
//
// The tests run in order on one gateway: the exec runs while the web pods exist, and the denial comes before the
// approval of the same delete.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Decider } from "../../src/gateway/decide.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import type { Decision } from "../../src/policy/decision.ts";
import type { Review } from "../../src/review/types.ts";
import { type CliRun, runAirlock } from "../helpers/cli.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";
import { AGENT, recordMark, simRecords } from "./e2e-support.ts";

const WRITES = new Set(["create", "update", "patch", "delete", "deletecollection"]);

const reviewDecider: Decider = {
  decide(_principal, kube: KubeRequest): Decision {
    const approvers = { identities: [], groups: ["sre"] };
    const ns = kube.info.namespace;
    if (kube.action === "delete" && ns === "prod" && kube.info.resource === "deployments") {
      return {
        effect: "review",
        policy: "test",
        rule: "prod-deletes",
        review: { approvers, approvals: 1, mode: "wait", timeoutSeconds: 60 },
      };
    }
    if (kube.action === "delete" && ns === "prod" && kube.info.resource === "configmaps") {
      return {
        effect: "review",
        policy: "test",
        rule: "slow-review",
        review: { approvers, approvals: 1, mode: "wait", timeoutSeconds: 2 },
      };
    }
    if ((WRITES.has(kube.action) && ns === "staging") || kube.action === "exec") {
      return {
        effect: "review",
        policy: "test",
        rule: "retry-writes",
        review: { approvers, approvals: 1, mode: "retry", timeoutSeconds: 600 },
      };
    }
    return { effect: "allow", policy: "test", rule: "the-rest" };
  },
};

let gw: TestGateway;
let agent: string;
let agentToken: string;
let aliceToken: string;
let dave: string;
let daveToken: string;
let caFile: string;

before(async () => {
  gw = await startTestGateway({ decider: reviewDecider });
  ({ kubeconfig: agent, token: agentToken } = await gw.addIdentity(AGENT, "agent", ["agents"]));
  ({ token: aliceToken } = await gw.addIdentity("alice", "human", ["sre"]));
  ({ kubeconfig: dave, token: daveToken } = await gw.addIdentity("dave", "human", ["sre"]));
  caFile = join(gw.dir, "gateway-ca.crt");
  await writeFile(caFile, gw.gateway.caPem);
});
after(async () => {
  await gw?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real `airlock` CLI against the gateway, with `token`. */
function airlock(token: string, args: string[]): Promise<CliRun> {
  return runAirlock(gw, caFile, token, args);
}

async function pendingReviews(): Promise<Review[]> {
  const r = await airlock(aliceToken, ["review", "list", "--state", "pending", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Review[];
}

/**
 * Waits until a pending review for `name` in prod exists, and returns it. Only prod: the staging tests leave
 * retry-mode reviews of objects with the same names pending, and a review of the wrong request must never be taken.
 */
function awaitPending(name: string): Promise<Review> {
  return eventually(
    `a pending review for ${name} in prod`,
    async () =>
      (await pendingReviews()).find((r) => r.request.name === name && r.request.namespace === "prod"),
    { timeoutMs: 20_000 },
  );
}

function collect(child: ChildProcess): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** One raw request to the gateway with exactly these headers: the Content-Type and Airlock headers are the test. */
function send(token: string, sent: Sent): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...sent.headers, authorization: `Bearer ${token}` };
    const req = request(
      `${gw.gateway.url}${sent.path}`,
      { method: sent.method, headers, ca: gw.gateway.caPem },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(sent.body);
  });
}

function reviewIdIn(text: string): string {
  const id = /review ([0-9a-f-]{36})/.exec(text)?.[1];
  assert.ok(id, `no review id in: ${text}`);
  return id;
}

describe("reviews through kubectl", () => {
  test("an approved exec does not let another argv through", async () => {
    const pods = await kubectl(gw.sim.kubeconfigPath, ["get", "pods", "-n", "prod", "-o", "name"]);
    const pod = pods.stdout
      .split("\n")
      .find((l) => l.startsWith("pod/"))
      ?.slice(4);
    assert.ok(pod, pods.stdout);
    const exec = (word: string) => kubectl(agent, ["exec", pod, "-n", "prod", "--", "echo", word]);
    const first = await exec("approved");
    assert.notEqual(first.code, 0);
    const id = reviewIdIn(first.stderr);
    assert.equal((await airlock(aliceToken, ["review", "approve", id])).code, 0);
    const other = await exec("other");
    assert.notEqual(other.code, 0, "another argv is another request");
    assert.notEqual(reviewIdIn(other.stderr), id);
    const same = await exec("approved");
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout.trim(), "approved");
  });

  // Issue 12 §5: an approval binds everything that changes what the cluster does. Each variant below differs from
  // the approved request in one field only; none may use the approval (it stays unused) or join its review.
  test("an approval is not used by a request differing only in Content-Type, exec flags, container or justification", async () => {
    const made = await kubectl(gw.sim.kubeconfigPath, [
      "create",
      "configmap",
      "fp-cm",
      "--from-literal=keep=1",
      "-n",
      "staging",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const patchPath = "/api/v1/namespaces/staging/configmaps/fp-cm";
    const patchBody = '{"data":{"added":"2"}}';
    const merge = { "content-type": "application/merge-patch+json" };
    const pods = await kubectl(gw.sim.kubeconfigPath, ["get", "pods", "-n", "prod", "-o", "name"]);
    const pod = pods.stdout
      .split("\n")
      .find((l) => l.startsWith("pod/"))
      ?.slice(4);
    assert.ok(pod, pods.stdout);
    // Each exec case runs its own command, so no case's first request meets an earlier case's approval.
    const execPath = (word: string) =>
      `/api/v1/namespaces/prod/pods/${pod}/exec?command=echo&command=${word}&stdout=true&stderr=true`;
    const cases: { name: string; approved: Sent; variant: Sent }[] = [
      {
        name: "a strategic-merge patch with the merge patch's bytes",
        approved: { method: "PATCH", path: patchPath, headers: merge, body: patchBody },
        variant: {
          method: "PATCH",
          path: patchPath,
          headers: { "content-type": "application/strategic-merge-patch+json" },
          body: patchBody,
        },
      },
      {
        name: "the same patch with another justification",
        approved: {
          method: "PATCH",
          path: patchPath,
          headers: { ...merge, "airlock-justification": "add a key" },
          body: patchBody,
        },
        variant: {
          method: "PATCH",
          path: patchPath,
          headers: { ...merge, "airlock-justification": "add a key (approved by alice)" },
          body: patchBody,
        },
      },
      {
        name: "an exec with a tty",
        approved: { method: "POST", path: execPath("tty"), headers: {} },
        variant: { method: "POST", path: `${execPath("tty")}&tty=true`, headers: {} },
      },
      {
        name: "an exec with stdin",
        approved: { method: "POST", path: execPath("stdin"), headers: {} },
        variant: { method: "POST", path: `${execPath("stdin")}&stdin=true`, headers: {} },
      },
      {
        name: "an exec in another container",
        approved: { method: "POST", path: `${execPath("container")}&container=app`, headers: {} },
        variant: { method: "POST", path: `${execPath("container")}&container=sidecar`, headers: {} },
      },
    ];
    for (const c of cases) {
      const first = await send(agentToken, c.approved);
      assert.equal(first.code, 403, `${c.name}: ${first.text}`);
      const id = reviewIdIn(first.text);
      const ok = await airlock(aliceToken, ["review", "approve", id]);
      assert.equal(ok.code, 0, ok.stderr);
      const other = await send(agentToken, c.variant);
      assert.equal(other.code, 403, `${c.name} was released: ${other.text}`);
      assert.notEqual(reviewIdIn(other.text), id, `${c.name} joined the approved review`);
      const shown = await airlock(aliceToken, ["review", "show", id, "--json"]);
      const review = (JSON.parse(shown.stdout) as { review: Review }).review;
      assert.equal(review.state, "approved", c.name);
      assert.equal(review.usesLeft, 1, `${c.name} used the approval`);
    }
    // The approved merge patch itself still runs, once, and does what the reviewer saw.
    const released = await send(agentToken, cases[0]!.approved);
    assert.equal(released.code, 200, released.text);
    assert.deepEqual(JSON.parse(released.text).data, { keep: "1", added: "2" });
  });

  test("a held delete denied by a reviewer fails with the reviewer's reason in kubectl's output", async () => {
    const run = collect(spawnKubectl(agent, ["delete", "deployment", "web", "-n", "prod"]));
    const review = await awaitPending("web");
    assert.equal(review.requester.name, AGENT);
    const denied = await airlock(aliceToken, [
      "review",
      "deny",
      review.id,
      "--reason",
      "not during the change freeze",
    ]);
    assert.equal(denied.code, 0, denied.stderr);
    const result = await run;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(Forbidden\)/);
    assert.match(result.stderr, /denied in review .* by alice: not during the change freeze/);
    const direct = await kubectl(gw.sim.kubeconfigPath, ["get", "deployment", "web", "-n", "prod"]);
    assert.equal(direct.code, 0, "the deployment is still there");
  });

  test("kubectl delete deployment web waits, the reviewer sees the diff and dependents, and approval lets it complete", async () => {
    const mark = await recordMark(gw.sim);
    const run = collect(spawnKubectl(agent, ["delete", "deployment", "web", "-n", "prod"]));
    const review = await awaitPending("web");
    // The dry-run preview is computed in the background; wait for it to land.
    const shown = await eventually(
      "the review's dry-run preview",
      async () => {
        const r = await airlock(aliceToken, ["review", "show", review.id]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      },
      { until: (out) => /Deleted with it/.test(out) },
    );
    assert.match(shown, /Requested by: {2}demo-agent \(agent\)/);
    assert.match(
      shown,
      /Method: {8}DELETE\n {2}Path: {10}\/apis\/apps\/v1\/namespaces\/prod\/deployments\/web\n/,
    );
    assert.match(shown, /^-kind: Deployment$/m, "the diff removes the deployment");
    assert.match(shown, /ReplicaSet prod\/web-/);
    assert.match(shown, /Pod prod\/web-/);
    assert.match(shown, /created .*demo-agent/);
    // The only delete so far is the preview's dry run, sent impersonating the requester; the deployment is still there.
    const deletes = async () =>
      (await simRecords(gw.sim, mark)).filter(
        (r) => r.verb === "delete" && r.resource === "deployments" && r.name === "web",
      );
    const early = await deletes();
    assert.equal(early.length, 1);
    assert.equal(early[0]?.impersonatedUser, `airlock:${AGENT}`);
    assert.equal((await kubectl(gw.sim.kubeconfigPath, ["get", "deployment", "web", "-n", "prod"])).code, 0);

    const approved = await airlock(aliceToken, ["review", "approve", review.id, "--reason", "planned"]);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await run;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /deployment.apps "web" deleted/);
    const all = await deletes();
    assert.equal(all.length, 2, "the dry run and the real delete");
    assert.equal(all[1]?.impersonatedUser, `airlock:${AGENT}`);
    assert.notEqual(
      (await kubectl(gw.sim.kubeconfigPath, ["get", "deployment", "web", "-n", "prod"])).code,
      0,
    );

    const after = await airlock(aliceToken, ["review", "show", review.id, "--json"]);
    const { review: done, events } = JSON.parse(after.stdout) as {
      review: Review;
      events: { type: string }[];
    };
    assert.equal(done.state, "executed");
    const types = events.map((e) => e.type);
    for (const t of ["created", "previewed", "approved", "executed"])
      assert.ok(types.includes(t), `${t} in ${types}`);
    const audit = await gw.gateway.store.audit.list({ identityName: AGENT, limit: 50 });
    const event = audit.find((e) => e.verb === "delete" && e.name === "web" && e.decision === "allow");
    assert.match(event?.reason ?? "", new RegExp(`review ${review.id} approved by alice`));
  });

  test("the requester cannot approve their own review, and an agent cannot approve at all", async () => {
    const run = kubectl(dave, ["create", "configmap", "dave-cm", "--from-literal=a=1", "-n", "staging"]);
    const result = await run;
    assert.notEqual(result.code, 0);
    const id = reviewIdIn(result.stderr);
    const self = await airlock(daveToken, ["review", "approve", id]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /Forbidden.*"dave" asked for this request and may not approve it/);
    const bot = await airlock(agentToken, ["review", "approve", id]);
    assert.equal(bot.code, 1);
    assert.match(bot.stderr, /agents may not use the admin API/);
    const r = await airlock(aliceToken, ["review", "show", id, "--json"]);
    assert.equal((JSON.parse(r.stdout) as { review: Review }).review.state, "pending");
  });

  test("a retry-mode approval releases only the same request, and only once", async () => {
    const args = (name: string, value: string) => [
      "create",
      "configmap",
      name,
      `--from-literal=a=${value}`,
      "-n",
      "staging",
    ];
    const first = await kubectl(agent, args("approved-cm", "1"));
    assert.notEqual(first.code, 0);
    assert.match(first.stderr, /approval required/);
    assert.match(first.stderr, /airlock review show [0-9a-f-]{36}/);
    const id = reviewIdIn(first.stderr);
    const ok = await airlock(aliceToken, ["review", "approve", id]);
    assert.equal(ok.code, 0, ok.stderr);

    const otherName = await kubectl(agent, args("other-cm", "1"));
    assert.notEqual(otherName.code, 0);
    assert.notEqual(reviewIdIn(otherName.stderr), id, "another name opens another review");
    const otherBody = await kubectl(agent, args("approved-cm", "2"));
    assert.notEqual(otherBody.code, 0);
    assert.notEqual(reviewIdIn(otherBody.stderr), id, "another body opens another review");

    const same = await kubectl(agent, args("approved-cm", "1"));
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /configmap\/approved-cm created/);
    const again = await kubectl(agent, args("approved-cm", "1"));
    assert.notEqual(again.code, 0, "the approval was single-use");
    assert.notEqual(reviewIdIn(again.stderr), id);
    const direct = await kubectl(gw.sim.kubeconfigPath, ["get", "configmaps", "-n", "staging", "-o", "name"]);
    assert.match(direct.stdout, /configmap\/approved-cm/);
    assert.doesNotMatch(direct.stdout, /other-cm/);
  });

  test("an approval with --grant 30m lets the same verb on the same resource in the namespace run until revoked", async () => {
    const create = (name: string) =>
      kubectl(agent, ["create", "configmap", name, "--from-literal=a=1", "-n", "staging"]);
    const first = await create("granted-1");
    assert.notEqual(first.code, 0);
    const approved = await airlock(aliceToken, [
      "review",
      "approve",
      reviewIdIn(first.stderr),
      "--grant",
      "30m",
    ]);
    assert.equal(approved.code, 0, approved.stderr);
    const grantId = /grant ([0-9a-f-]{36}): demo-agent may create configmaps in staging/.exec(
      approved.stdout,
    )?.[1];
    assert.ok(grantId, approved.stdout);

    const second = await create("granted-2");
    assert.equal(second.code, 0, second.stderr);
    const audit = await gw.gateway.store.audit.list({ identityName: AGENT, limit: 20 });
    // Newest first: the create of granted-2 (a create names no object in its path).
    const event = audit.find((e) => e.verb === "create" && e.decision === "allow");
    assert.match(event?.reason ?? "", new RegExp(`grant ${grantId} by alice`));
    const listed = await airlock(aliceToken, ["review", "grants", "--active", "--json"]);
    assert.ok((JSON.parse(listed.stdout) as { id: string }[]).some((g) => g.id === grantId));

    const revoked = await airlock(aliceToken, ["review", "revoke-grant", grantId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const third = await create("granted-3");
    assert.notEqual(third.code, 0, "a revoked grant lets nothing through");
    assert.match(third.stderr, /approval required/);
  });

  test("the reviewer sees a patch as a dry-run diff, and a Secret's values masked", async () => {
    const showOnce = async (id: string, want: RegExp) => {
      const out = await eventually(
        `review ${id} to show ${want}`,
        async () => {
          const r = await airlock(aliceToken, ["review", "show", id]);
          assert.equal(r.code, 0, r.stderr);
          return r.stdout;
        },
        { until: (text) => want.test(text) },
      );
      return out;
    };
    const patch = await kubectl(agent, [
      "patch",
      "deployment",
      "api",
      "-n",
      "staging",
      "-p",
      '{"spec":{"replicas":4}}',
    ]);
    assert.notEqual(patch.code, 0);
    const diff = await showOnce(reviewIdIn(patch.stderr), /lines added/);
    assert.match(diff, /^- {2}replicas: \d$/m);
    assert.match(diff, /^\+ {2}replicas: 4$/m);
    assert.doesNotMatch(diff, /managedFields|resourceVersion/);
    const live = await kubectl(gw.sim.kubeconfigPath, [
      "get",
      "deployment",
      "api",
      "-n",
      "staging",
      "-o",
      "jsonpath={.spec.replicas}",
    ]);
    assert.notEqual(live.stdout, "4", "the dry run changed nothing");

    const secret = await kubectl(agent, [
      "create",
      "secret",
      "generic",
      "held",
      "-n",
      "staging",
      "--from-literal=password=hunter2-xyz",
    ]);
    assert.notEqual(secret.code, 0);
    const shown = await showOnce(reviewIdIn(secret.stderr), /lines added/);
    assert.match(shown, /‹masked:[0-9a-f]{8}›|4oC5bWFza2Vk/); // the one engine's marker (base64 in Secret data)
    assert.doesNotMatch(shown, /hunter2-xyz|aHVudGVyMi14eXo/);
    const json = await airlock(aliceToken, ["review", "show", reviewIdIn(secret.stderr), "--json"]);
    assert.doesNotMatch(json.stdout, /hunter2-xyz|aHVudGVyMi14eXo/, "nor in the API's answer");
  });

  test("a wait-mode request nobody decides times out cleanly with a 403 naming the timeout", async () => {
    const started = Date.now();
    const result = await kubectl(agent, ["delete", "configmap", "anything", "-n", "prod"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Forbidden.*was not decided within 2s, so the request was not sent/);
    assert.ok(Date.now() - started >= 1900);
    const id = reviewIdIn(result.stderr);
    const r = await airlock(aliceToken, ["review", "show", id, "--json"]);
    assert.equal((JSON.parse(r.stdout) as { review: Review }).review.state, "expired");
  });

  test("a held request whose client disconnects withdraws its review", async () => {
    const child = spawnKubectl(agent, ["delete", "deployment", "api", "-n", "prod"]);
    const run = collect(child);
    const review = await awaitPending("api");
    child.kill("SIGKILL");
    await run;
    const state = await eventually(
      "the review to leave pending",
      async () => {
        const r = await airlock(aliceToken, ["review", "show", review.id, "--json"]);
        return (JSON.parse(r.stdout) as { review: Review }).review.state;
      },
      { until: (st) => st !== "pending" },
    );
    assert.equal(state, "withdrawn");
  });
});
