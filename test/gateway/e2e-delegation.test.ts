// End to end, issue 15: delegation needs consent. An agent names a human (on-behalf-of) only under an active
// delegation that the human (or an admin) gave; nobody in the chain of who asked approves the request; revoking the
// delegation or disabling the human stops the sessions minted under it at once and closes their watches. Real
// kubectl and the real `airlock` CLI.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildKubeconfig } from "../../src/admin/index.ts";
import type { Decider } from "../../src/gateway/decide.ts";
import type { Delegation } from "../../src/identity/types.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import type { Decision } from "../../src/policy/decision.ts";
import type { Review } from "../../src/review/types.ts";
import { type CliRun, runAirlock } from "../helpers/cli.ts";
import { eventually, eventuallyMatches } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";

const decider: Decider = {
  decide(_principal, kube: KubeRequest): Decision {
    if (["get", "list", "watch"].includes(kube.action))
      return { effect: "allow", policy: "test", rule: "reads" };
    return {
      effect: "review",
      policy: "test",
      rule: "writes",
      review: {
        approvers: { identities: [], groups: ["sre"] },
        approvals: 1,
        mode: "retry",
        timeoutSeconds: 600,
      },
    };
  },
};

let gw: TestGateway;
let admin: string;
let alice: string;
let bob: string;
let caFile: string;

before(async () => {
  gw = await startTestGateway({ decider });
  admin = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
  ({ token: alice } = await gw.addIdentity("alice", "human", ["sre"]));
  ({ token: bob } = await gw.addIdentity("bob", "human", ["sre"]));
  caFile = join(gw.dir, "gateway-ca.crt");
  await writeFile(caFile, gw.gateway.caPem);
});
after(async () => {
  await gw?.close();
});

const api = (method: string, path: string, token: string, body?: unknown) =>
  callGateway(gw, method, `/airlock/v1/${path}`, token, body);

function airlock(token: string, args: string[]): Promise<CliRun> {
  return runAirlock(gw, caFile, token, args);
}

/** A session credential acting for `human`, and a kubeconfig using it. */
async function session(agentToken: string, human: string, name: string) {
  const minted = await api("POST", "credentials/session", agentToken, { onBehalfOf: human });
  assert.equal(minted.code, 201, JSON.stringify(minted.body));
  const kubeconfig = join(gw.dir, `${name}.kubeconfig`);
  await writeFile(
    kubeconfig,
    buildKubeconfig({
      server: gw.gateway.url,
      caPem: gw.gateway.caPem,
      identity: name,
      token: minted.body.token,
      namespace: "prod",
    }),
    { mode: 0o600 },
  );
  return { token: minted.body.token as string, kubeconfig };
}

describe("on-behalf-of needs a delegation", () => {
  test("an agent naming a human without a delegation is refused, with how to get one (API and CLI)", async () => {
    const { token } = await gw.addIdentity("agent-noconsent", "agent", ["agents"]);
    const r = await api("POST", "credentials/session", token, { onBehalfOf: "alice" });
    assert.equal(r.code, 403);
    assert.equal(
      r.body.message,
      `acting on behalf of "alice" is forbidden: there is no active delegation from alice to agent-noconsent; alice (or an admin) can grant one with 'airlock identity delegate alice --to agent-noconsent --for 8h'`,
    );
    const cli = await airlock(token, ["credential", "--on-behalf-of", "alice"]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /airlock identity delegate alice --to agent-noconsent --for 8h/);
    assert.doesNotMatch(cli.stdout, /airlock-session\./, "no session was handed out");
  });

  test("only the human or an admin gives consent: another human and the agent itself are refused", async () => {
    const { token } = await gw.addIdentity("agent-selfserve", "agent", ["agents"]);
    const byBob = await api("POST", "identities/alice/delegations", bob, { to: "agent-selfserve" });
    assert.equal(byBob.code, 403);
    assert.match(
      byBob.body.message,
      /only alice or an admin \(group airlock:admins\) may do that; "bob" is neither/,
    );
    const byAgent = await api("POST", "identities/alice/delegations", token, { to: "agent-selfserve" });
    assert.equal(byAgent.code, 403);
    assert.match(byAgent.body.message, /agents may not use the admin API/);
    const toAgent = await api("POST", "identities/agent-selfserve/delegations", admin, { to: "alice" });
    assert.equal(toAgent.code, 422, "only a human delegates");
  });

  test("with alice's delegation the session works, acts for her upstream and in the audit, and ends with her delegation", async () => {
    const { token } = await gw.addIdentity("agent-consent", "agent", ["agents"]);
    const given = await airlock(alice, [
      "identity",
      "delegate",
      "alice",
      "--to",
      "agent-consent",
      "--for",
      "8h",
    ]);
    assert.equal(given.code, 0, given.stderr);
    const id = /delegation ([0-9a-f-]{36}): agent-consent may act on behalf of alice until/.exec(
      given.stdout,
    )?.[1];
    assert.ok(id, given.stdout);
    const s = await session(token, "alice", "agent-consent-session");
    const pods = await kubectl(s.kubeconfig, ["get", "pods", "-n", "prod"]);
    assert.equal(pods.code, 0, pods.stderr);
    const audit = await gw.gateway.store.audit.list({ identityName: "agent-consent", limit: 5 });
    assert.equal(audit[0]?.onBehalfOf, "alice");

    // A watch under the delegation, then alice ends it: the watch closes within a second, the session stops.
    const watch = spawnKubectl(s.kubeconfig, ["get", "pods", "-n", "prod", "-w"]);
    let out = "";
    watch.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    await eventuallyMatches(() => out, /web/); // the watch is running
    const closed = new Promise<number>((resolve) => watch.on("close", () => resolve(Date.now())));
    const revoked = await airlock(alice, ["identity", "undelegate", id]);
    const revokedAt = Date.now();
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(
      revoked.stdout,
      new RegExp(`delegation ${id} ended: agent-consent no longer acts on behalf of alice`),
    );
    const closedAt = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    assert.notEqual(closedAt, -1, "the watch closed");
    assert.ok(closedAt - revokedAt < 1500, `closed ${closedAt - revokedAt} ms after the revocation answered`);
    const after = await kubectl(s.kubeconfig, ["get", "pods", "-n", "prod"]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /Unauthorized|must be logged in/);
    const listed = (await api("GET", "delegations?human=alice", admin)).body.items as Delegation[];
    assert.equal(listed.find((d) => d.id === id)?.revokedBy, "alice");
    const again = await api("POST", "credentials/session", token, { onBehalfOf: "alice" });
    assert.equal(again.code, 403, "no new session without a new delegation");
    // A new delegation does not revive the session minted under the revoked one.
    assert.equal(
      (await api("POST", "identities/alice/delegations", alice, { to: "agent-consent" })).code,
      201,
    );
    const revived = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", s.token);
    assert.equal(revived.code, 401);
    assert.match(
      revived.body.message,
      /the delegation from alice to agent-consent it was minted under was revoked/,
    );
  });

  test("disabling the human ends the delegation and the sessions acting for her", async () => {
    const { token: carolToken } = await gw.addIdentity("carol", "human", ["sre"]);
    const { token } = await gw.addIdentity("agent-carol", "agent", ["agents"]);
    assert.equal(
      (await api("POST", "identities/carol/delegations", carolToken, { to: "agent-carol" })).code,
      201,
    );
    const s = await session(token, "carol", "agent-carol-session");
    assert.equal((await kubectl(s.kubeconfig, ["get", "pods", "-n", "prod"])).code, 0);
    assert.equal((await api("POST", "identities/carol/disable", admin)).code, 200);
    const direct = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", s.token);
    assert.equal(direct.code, 401);
    assert.match(direct.body.message, /acts on behalf of "carol", but identity carol was disabled/);
    const listed = await eventually("the delegation to end", async () =>
      ((await api("GET", "delegations?agent=agent-carol", admin)).body.items as Delegation[]).find(
        (d, i) => i === 0 && d.revokedAt,
      ),
    );
    assert.equal(listed.revokedBy, "airlock", "the delegation ended with its human");
  });
});

describe("nobody in the chain of who asked approves", () => {
  test("alice cannot approve what an agent asked on her behalf; the review shows the chain; bob can approve", async () => {
    const { token } = await gw.addIdentity("agent-obo", "agent", ["agents"]);
    assert.equal((await api("POST", "identities/alice/delegations", admin, { to: "agent-obo" })).code, 201);
    const s = await session(token, "alice", "agent-obo-session");
    const args = ["create", "configmap", "obo-cm", "-n", "staging", "--from-literal=a=1"];
    const first = await kubectl(s.kubeconfig, args);
    const id = /review ([0-9a-f-]{36})/.exec(first.stderr)?.[1];
    assert.ok(id, first.stderr);
    const review = (await api("GET", `reviews/${id}`, admin)).body.review as Review;
    assert.equal(review.requester.onBehalfOf, "alice");
    assert.ok(review.requester.credentialId);
    assert.ok(review.requester.sessionId);
    const shown = await airlock(bob, ["review", "show", id]);
    assert.match(shown.stdout, /On behalf of: {2}alice/);
    assert.match(shown.stdout, /Credential: {4}[0-9a-f-]{36} \(session [0-9a-f-]{36}\)/);

    const self = await airlock(alice, ["review", "approve", id]);
    assert.equal(self.code, 1);
    assert.match(
      self.stderr,
      /"agent-obo" asked for this request on behalf of "alice", and "alice" is that person and may not approve it/,
    );
    const ok = await airlock(bob, ["review", "approve", id]);
    assert.equal(ok.code, 0, ok.stderr);
    const ran = await kubectl(s.kubeconfig, args);
    assert.equal(ran.code, 0, ran.stderr);
  });
});
