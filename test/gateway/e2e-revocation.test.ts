// End to end, issue 15: revoking, disabling or expiring an identity (or its credential) closes everything in flight
// for it. A held (wait-mode) kubectl write gets a Status at once and its review is withdrawn; a retry-mode review is
// withdrawn; a later approval is refused; the write never reaches the simulator. Grants end with their approver or
// requester, and N-of-M approvals count people, not identities. Real kubectl, the admin API over HTTPS.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { Decider } from "../../src/gateway/decide.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import type { Decision } from "../../src/policy/decision.ts";
import type { Grant, Review } from "../../src/review/types.ts";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type KubectlResult, kubectl } from "../helpers/kubectl.ts";
import { recordMark, simRecords } from "./e2e-support.ts";

const WRITES = new Set(["create", "update", "patch", "delete"]);
const approvers = { identities: [], groups: ["sre"] };

const decider: Decider = {
  decide(_principal, kube: KubeRequest): Decision {
    const ns = kube.info.namespace;
    if (!WRITES.has(kube.action)) return { effect: "allow", policy: "test", rule: "reads" };
    if (ns === "prod")
      return {
        effect: "review",
        policy: "test",
        rule: "prod-waits",
        review: { approvers, approvals: 1, mode: "wait", timeoutSeconds: 60 },
      };
    return {
      effect: "review",
      policy: "test",
      rule: ns === "default" ? "two-people" : "retry-writes",
      review: { approvers, approvals: ns === "default" ? 2 : 1, mode: "retry", timeoutSeconds: 600 },
    };
  },
};

let gw: TestGateway;
let admin: string;
let alice: string;

before(async () => {
  gw = await startTestGateway({ decider });
  admin = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
  ({ token: alice } = await gw.addIdentity("alice", "human", ["sre"]));
});
after(async () => {
  await gw?.close();
});

const api = (method: string, path: string, token = admin, body?: unknown) =>
  callGateway(gw, method, `/airlock/v1/${path}`, token, body);

async function review(id: string): Promise<Review> {
  const r = await api("GET", `reviews/${id}`);
  assert.equal(r.code, 200, JSON.stringify(r.body));
  return r.body.review as Review;
}

/** Waits for the pending review of `name` whose dry-run preview is stored (so the record has its dry run). */
function heldReview(requester: string, name: string): Promise<Review> {
  return eventually(
    `a pending review of ${requester} for ${name} with its preview`,
    async () =>
      ((await api("GET", "reviews?state=pending")).body.items as Review[]).find(
        (x) => x.requester.name === requester && x.request.name === name && x.preview !== null,
      ),
    { timeoutMs: 15_000 },
  );
}

function reviewIdIn(text: string): string {
  const id = /review ([0-9a-f-]{36})/.exec(text)?.[1];
  assert.ok(id, `no review id in: ${text}`);
  return id;
}

/** Writes of `name` that reached the simulator since `mark` (the preview's dry run is one of them). */
async function writesOf(mark: number, name: string, verb: string) {
  return (await simRecords(gw.sim, mark)).filter((r) => r.verb === verb && r.name === name);
}

/**
 * Holds `kubectl delete configmap NAME -n prod` for a fresh agent, runs `cut` against it, and returns what kubectl
 * printed, how long after the cut it ended, and the withdrawn review.
 */
async function cutWhileHeld(
  agent: string,
  cut: (who: { name: string; id: string; token: string }) => Promise<void>,
): Promise<{ result: KubectlResult; afterCutMs: number; review: Review; mark: number }> {
  const who = await gw.addIdentity(agent, "agent", ["agents"]);
  const cm = `${agent}-cm`;
  assert.equal(
    (await kubectl(gw.sim.kubeconfigPath, ["create", "configmap", cm, "-n", "prod", "--from-literal=a=1"]))
      .code,
    0,
  );
  const mark = await recordMark(gw.sim);
  const running = kubectl(who.kubeconfig, ["delete", "configmap", cm, "-n", "prod"]);
  const held = await heldReview(agent, cm);
  const cutAt = Date.now();
  await cut({ name: agent, id: who.id, token: who.token });
  const result = await running;
  const afterCutMs = Date.now() - cutAt;
  return { result, afterCutMs, review: await review(held.id), mark };
}

async function assertNeverRan(mark: number, agent: string, reviewId: string): Promise<void> {
  const cm = `${agent}-cm`;
  // Only the preview's dry run (dryRun=All) reached the cluster; the delete itself never did.
  assert.equal((await writesOf(mark, cm, "delete")).length, 1, "the dry run only");
  const still = await kubectl(gw.sim.kubeconfigPath, ["get", "configmap", cm, "-n", "prod"]);
  assert.equal(still.code, 0, "the config map is still there");
  const approve = await api("POST", `reviews/${reviewId}/approve`, alice, {});
  assert.equal(approve.code, 403, JSON.stringify(approve.body));
  assert.match(approve.body.message, /the review was withdrawn \(.+\); the request will not run/);
}

describe("revocation reaches requests held for review (wait mode)", () => {
  test("revoking the agent answers its held kubectl delete at once, withdraws the review, and a later approve is refused", async () => {
    const {
      result,
      afterCutMs,
      review: r,
      mark,
    } = await cutWhileHeld("agent-revoked", async (who) => {
      assert.equal((await api("POST", `identities/${who.name}/revoke`)).code, 200);
    });
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /Error from server \(Forbidden\): .*airlock: identity agent-revoked was revoked while this request waited for review [0-9a-f-]{36}; the review was withdrawn and the request was not sent/,
    );
    assert.ok(afterCutMs < 3000, `kubectl ended ${afterCutMs} ms after the revoke`);
    assert.equal(r.state, "withdrawn");
    assert.equal(r.endedReason, "identity agent-revoked was revoked");
    const events = (await api("GET", `reviews/${r.id}`)).body.events as { type: string; detail: string }[];
    assert.ok(events.some((e) => e.type === "withdrawn" && /was revoked/.test(e.detail)));
    await assertNeverRan(mark, "agent-revoked", r.id);
    const notes = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 100_000 });
    assert.ok(
      notes.some(
        (n) => n.body.includes("review.withdrawn") && n.body.includes(r.id) && /was revoked/.test(n.body),
      ),
      "the withdrawal is a chained audit note",
    );
  });

  test("disabling the agent does the same, and re-enabling it does not bring the request back", async () => {
    const {
      result,
      review: r,
      mark,
    } = await cutWhileHeld("agent-disabled", async (who) => {
      assert.equal((await api("POST", `identities/${who.name}/disable`)).code, 200);
    });
    assert.match(result.stderr, /identity agent-disabled was disabled while this request waited for review/);
    assert.equal(r.state, "withdrawn");
    assert.equal((await api("POST", "identities/agent-disabled/enable")).code, 200);
    await assertNeverRan(mark, "agent-disabled", r.id);
    assert.equal((await review(r.id)).state, "withdrawn");
  });

  test("revoking the credential that sent it does the same", async () => {
    const {
      result,
      review: r,
      mark,
    } = await cutWhileHeld("agent-cred", async (who) => {
      const creds = await api("GET", `identities/${who.name}/credentials`);
      const id = creds.body.items[0].id as string;
      assert.equal((await api("POST", `identities/${who.name}/credentials/${id}/revoke`)).code, 200);
    });
    assert.match(
      result.stderr,
      /credential [0-9a-f-]{36} of identity agent-cred was revoked while this request waited/,
    );
    assert.equal(r.state, "withdrawn");
    await assertNeverRan(mark, "agent-cred", r.id);
  });

  test("the agent's identity reaching its expiry does the same", async () => {
    const {
      result,
      afterCutMs,
      review: r,
      mark,
    } = await cutWhileHeld("agent-expiring", async (who) => {
      const at = new Date(Date.now() + 1500).toISOString();
      assert.equal((await api("PATCH", `identities/${who.name}`, admin, { expiresAt: at })).code, 200);
    });
    assert.match(result.stderr, /agent-expiring expired while this request waited for review/);
    assert.ok(afterCutMs >= 1400 && afterCutMs < 4000, `ended ${afterCutMs} ms after the expiry was set`);
    assert.equal(r.state, "withdrawn");
    await assertNeverRan(mark, "agent-expiring", r.id);
  });
});

describe("revocation reaches retry-mode reviews", () => {
  for (const [how, path] of [
    ["revoked", "revoke"],
    ["disabled", "disable"],
  ] as const) {
    test(`a pending retry-mode review of an agent that is ${how} is withdrawn and cannot be approved`, async () => {
      const agent = `retry-${how}`;
      const who = await gw.addIdentity(agent, "agent", ["agents"]);
      const mark = await recordMark(gw.sim);
      const args = ["create", "configmap", `${agent}-cm`, "-n", "staging", "--from-literal=a=1"];
      const first = await kubectl(who.kubeconfig, args);
      assert.match(first.stderr, /approval required/);
      const id = reviewIdIn(first.stderr);
      assert.equal((await api("POST", `identities/${agent}/${path}`)).code, 200);
      await eventually("the review to be withdrawn", async () => (await review(id)).state, {
        until: (state) => state === "withdrawn",
      });
      assert.equal((await review(id)).endedReason, `identity ${agent} was ${how}`);
      const approve = await api("POST", `reviews/${id}/approve`, alice, {});
      assert.equal(approve.code, 403);
      assert.match(
        approve.body.message,
        new RegExp(
          `approve review ${id} is refused: the review was withdrawn \\(identity ${agent} was ${how}\\)`,
        ),
      );
      if (how === "disabled") {
        assert.equal((await api("POST", `identities/${agent}/enable`)).code, 200);
        const again = await kubectl(who.kubeconfig, args);
        assert.notEqual(again.code, 0, "the re-enabled agent's re-send needs a new review");
        assert.notEqual(reviewIdIn(again.stderr), id);
      } else {
        const again = await kubectl(who.kubeconfig, args);
        assert.match(again.stderr, /Unauthorized|must be logged in/);
      }
      const creates = (await simRecords(gw.sim, mark)).filter(
        (rec) => rec.verb === "create" && rec.namespace === "staging" && rec.resource === "configmaps",
      );
      // The previews' dry runs only: one per review (the re-enabled agent's re-send opened a second).
      assert.equal(
        creates.length,
        how === "disabled" ? 2 : 1,
        "only the previews' dry runs reached the cluster",
      );
      const direct = await kubectl(gw.sim.kubeconfigPath, [
        "get",
        "configmap",
        `${agent}-cm`,
        "-n",
        "staging",
      ]);
      assert.notEqual(direct.code, 0, "the config map was never created");
      assert.match(direct.stderr, new RegExp(`\\(NotFound\\): configmaps "${agent}-cm" not found`));
    });
  }

  test("a retry-mode review whose agent expired is withdrawn on the next read, with no sweep, and cannot be approved", async () => {
    const agent = "retry-expired";
    const who = await gw.addIdentity(agent, "agent", ["agents"]);
    const id = reviewIdIn(
      (await kubectl(who.kubeconfig, ["create", "configmap", `${agent}-cm`, "-n", "staging"])).stderr,
    );
    const at = new Date(Date.now() + 300).toISOString();
    assert.equal((await api("PATCH", `identities/${agent}`, admin, { expiresAt: at })).code, 200);
    // Past the expiry on the wall clock: the review and grant checks read the wall clock, not StartOptions.now.
    await new Promise((res) => setTimeout(res, 400));
    const r = await review(id);
    assert.equal(r.state, "withdrawn");
    assert.equal(r.endedReason, `identity ${agent} expired`);
    const approve = await api("POST", `reviews/${id}/approve`, alice, {});
    assert.equal(approve.code, 403);
    assert.match(approve.body.message, /withdrawn \(identity retry-expired expired\)/);
  });

  test("an approved but unused retry-mode review is withdrawn when its approver is revoked: the re-send is refused", async () => {
    const agent = "retry-approver-gone";
    const who = await gw.addIdentity(agent, "agent", ["agents"]);
    const { token: gina } = await gw.addIdentity("gina", "human", ["sre"]);
    const args = ["create", "configmap", `${agent}-cm`, "-n", "staging", "--from-literal=a=1"];
    const id = reviewIdIn((await kubectl(who.kubeconfig, args)).stderr);
    assert.equal((await api("POST", `reviews/${id}/approve`, gina, {})).code, 200);
    assert.equal((await api("POST", "identities/gina/revoke")).code, 200);
    const again = await kubectl(who.kubeconfig, args);
    assert.notEqual(again.code, 0, "the approval died with its approver");
    assert.notEqual(reviewIdIn(again.stderr), id, "the re-send opened a new review");
    const r = await review(id);
    assert.equal(r.state, "withdrawn");
    assert.equal(r.endedReason, "its approver: identity gina was revoked");
  });

  test("an approved but unused retry-mode review is withdrawn when its agent is disabled", async () => {
    const agent = "retry-approved";
    const who = await gw.addIdentity(agent, "agent", ["agents"]);
    const args = ["create", "configmap", `${agent}-cm`, "-n", "staging", "--from-literal=a=1"];
    const id = reviewIdIn((await kubectl(who.kubeconfig, args)).stderr);
    assert.equal((await api("POST", `reviews/${id}/approve`, alice, {})).code, 200);
    assert.equal((await api("POST", `identities/${agent}/disable`)).code, 200);
    assert.equal((await api("POST", `identities/${agent}/enable`)).code, 200);
    const again = await kubectl(who.kubeconfig, args);
    assert.notEqual(again.code, 0, "the approval died with the disable");
    const r = await review(id);
    assert.equal(r.state, "withdrawn");
    assert.equal(r.endedReason, `identity ${agent} was disabled`);
  });
});

describe("grants end with their approver or requester", () => {
  async function grantFor(
    agent: string,
    approverToken: string,
  ): Promise<{ who: { kubeconfig: string }; grant: Grant }> {
    const who = await gw.addIdentity(agent, "agent", ["agents"]);
    const first = await kubectl(who.kubeconfig, ["create", "configmap", `${agent}-1`, "-n", "staging"]);
    const approved = await api("POST", `reviews/${reviewIdIn(first.stderr)}/approve`, approverToken, {
      grant: "30m",
    });
    assert.equal(approved.code, 200, JSON.stringify(approved.body));
    const second = await kubectl(who.kubeconfig, ["create", "configmap", `${agent}-2`, "-n", "staging"]);
    assert.equal(second.code, 0, second.stderr);
    return { who, grant: approved.body.grant as Grant };
  }

  test("a grant approved by dave ends when dave is revoked: requests need review again and /grants says why", async () => {
    const { token: dave } = await gw.addIdentity("dave", "human", ["sre"]);
    const { who, grant } = await grantFor("granted-agent", dave);
    assert.equal((await api("POST", "identities/dave/revoke")).code, 200);
    const third = await kubectl(who.kubeconfig, ["create", "configmap", "granted-agent-3", "-n", "staging"]);
    assert.notEqual(third.code, 0);
    assert.match(third.stderr, /approval required/);
    const listed = (await api("GET", "grants")).body.items as Grant[];
    const ended = listed.find((g) => g.id === grant.id);
    assert.ok(ended?.revokedAt, "ended");
    assert.equal(ended?.revokedBy, "airlock");
    assert.equal(ended?.endedReason, "its approver: identity dave was revoked");
    const active = (await api("GET", "grants?active=true")).body.items as Grant[];
    assert.ok(!active.some((g) => g.id === grant.id));
  });

  test("a grant ends when its approver expires, seen on the next request and in /grants", async () => {
    const { token: erin } = await gw.addIdentity("erin", "human", ["sre"]);
    const { who, grant } = await grantFor("granted-agent-2", erin);
    const at = new Date(Date.now() + 300).toISOString();
    assert.equal((await api("PATCH", "identities/erin", admin, { expiresAt: at })).code, 200);
    // Past the expiry on the wall clock: the review and grant checks read the wall clock, not StartOptions.now.
    await new Promise((res) => setTimeout(res, 400));
    const third = await kubectl(who.kubeconfig, [
      "create",
      "configmap",
      "granted-agent-2-3",
      "-n",
      "staging",
    ]);
    assert.match(third.stderr, /approval required/);
    const ended = ((await api("GET", "grants")).body.items as Grant[]).find((g) => g.id === grant.id);
    assert.equal(ended?.endedReason, "its approver: identity erin expired");
  });

  test("a grant ends when its requester is disabled, and stays ended after it is enabled again", async () => {
    const { who, grant } = await grantFor("granted-agent-3", alice);
    assert.equal((await api("POST", "identities/granted-agent-3/disable")).code, 200);
    const ended = await eventually("the grant to end", async () =>
      ((await api("GET", "grants")).body.items as Grant[]).find((g) => g.id === grant.id && g.revokedAt),
    );
    assert.equal(ended.endedReason, "its requester: identity granted-agent-3 was disabled");
    assert.equal((await api("POST", "identities/granted-agent-3/enable")).code, 200);
    const again = await kubectl(who.kubeconfig, [
      "create",
      "configmap",
      "granted-agent-3-3",
      "-n",
      "staging",
    ]);
    assert.match(again.stderr, /approval required/);
  });
});

describe("N-of-M approvals count distinct people", () => {
  test("two identities owned by one person count once; a second person completes the approval", async () => {
    await gw.gateway.store.identities.create({
      name: "alice-oncall",
      kind: "human",
      groups: ["sre"],
      owner: "alice",
    });
    const { token: aliceOncall } = await gw.gateway.store.credentials.create("alice-oncall").then((c) => {
      assert.ok(c);
      return c;
    });
    const { token: bob } = await gw.addIdentity("bob", "human", ["sre"]);
    const who = await gw.addIdentity("two-person-agent", "agent", ["agents"]);
    const args = ["create", "configmap", "two-person-cm", "-n", "default"];
    const id = reviewIdIn((await kubectl(who.kubeconfig, args)).stderr);
    assert.equal((await api("POST", `reviews/${id}/approve`, alice, {})).code, 200);
    const same = await api("POST", `reviews/${id}/approve`, aliceOncall, {});
    assert.equal(same.code, 403, JSON.stringify(same.body));
    assert.match(
      same.body.message,
      /"alice-oncall" and "alice" are the same person \(alice\), who has already approved this review; approvals count distinct people/,
    );
    assert.equal((await review(id)).state, "pending", "one person's approval is one of two");
    assert.equal((await api("POST", `reviews/${id}/approve`, bob, {})).code, 200);
    assert.equal((await review(id)).state, "approved");
    const ran = await kubectl(who.kubeconfig, args);
    assert.equal(ran.code, 0, ran.stderr);
  });

  test("an identity owned by the requester cannot approve the requester's review", async () => {
    const { kubeconfig: frank } = await gw.addIdentity("frank", "human", ["sre"]);
    await gw.gateway.store.identities.create({
      name: "frank-2",
      kind: "human",
      groups: ["sre"],
      owner: "frank",
    });
    const created = await gw.gateway.store.credentials.create("frank-2");
    assert.ok(created);
    const first = await kubectl(frank, ["create", "configmap", "frank-cm", "-n", "staging"]);
    const id = reviewIdIn(first.stderr);
    const own = await api("POST", `reviews/${id}/approve`, created.token, {});
    assert.equal(own.code, 403);
    assert.match(
      own.body.message,
      /"frank-2" belongs to "frank", who asked for this request, and may not approve it/,
    );
  });
});
