// End to end, justifications (issue 21) under the demo policy (its prod review in retry mode, so a held write answers
// at once): the real kubectl with the airlock credential exec plugin reading AIRLOCK_REASON per command and --reason
// per credential, and a raw HTTPS client sending the Airlock-Justification header. A prod write without one is refused
// with the how-to message before any review opens; one in the rule's form opens a review that `airlock review show`
// and the console's API show, and is recorded on the audit event; hostile variants are refused with why; a review
// binds the justification it showed, so an approval cannot be used with another reason.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { AuditEvent } from "../../src/audit/types.ts";
import { runAirlock } from "../helpers/cli.ts";
import { execKubeconfig } from "../helpers/exec-kubeconfig.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl } from "../helpers/kubectl.ts";

const DEMO = fileURLToPath(new URL("../../examples/policies/demo.yaml", import.meta.url));
const WHY = "INC-42: web is crash-looping after the release";

let gw: TestGateway;
let agentToken: string;
let aliceToken: string;
let caFile: string;
/** demo-agent through the exec plugin, with no --reason: AIRLOCK_REASON gives one per command. */
let perCommand: string;
let cacheDir: string;

function agentKubeconfig(name: string, reason?: string): Promise<string> {
  return execKubeconfig(gw, name, { name: "demo-agent", token: agentToken }, reason ? { reason } : {});
}

function k(args: string[], reason?: string, kubeconfig = perCommand) {
  return kubectl(kubeconfig, args, {
    timeoutMs: 30_000,
    ...(reason === undefined ? {} : { env: { AIRLOCK_REASON: reason } }),
  });
}

/** One raw HTTPS request as demo-agent; `headers` as [name, value] pairs (repeats and latin1 bytes allowed). */
function raw(
  method: string,
  path: string,
  headers: [string, string][],
  token = agentToken,
): Promise<{ code: number; body: { message?: string; reason?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.gateway.url}${path}`, { method, ca: gw.gateway.caPem }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.setHeader("authorization", `Bearer ${token}`);
    const grouped = new Map<string, string[]>();
    for (const [n, v] of headers) grouped.set(n, [...(grouped.get(n) ?? []), v]);
    for (const [n, v] of grouped) req.setHeader(n, v.length === 1 ? (v[0] as string) : v);
    req.on("error", reject);
    req.end();
  });
}

async function events(): Promise<AuditEvent[]> {
  return gw.gateway.store.audit.list({ limit: 200 });
}

before(async () => {
  const policyDir = await mkdtemp(join(tmpdir(), "airlock-why-"));
  const text = (await readFile(DEMO, "utf8")).replace("mode: wait", "mode: retry");
  await writeFile(join(policyDir, "demo.yaml"), text);
  gw = await startTestGateway({ policyFiles: [join(policyDir, "demo.yaml")] });
  agentToken = (await gw.addIdentity("demo-agent", "agent", ["agents"])).token;
  aliceToken = (await gw.addIdentity("alice", "human", ["sre"])).token;
  caFile = join(gw.dir, "gateway-ca.crt");
  cacheDir = join(gw.dir, "credential-cache");
  await writeFile(caFile, gw.gateway.caPem);
  perCommand = await agentKubeconfig("per-command");
});
after(async () => {
  await gw?.close();
});

describe("kubectl: AIRLOCK_REASON per command, read by the exec plugin", () => {
  test("a prod write without a justification is refused with how to give one, and no review is opened", async () => {
    const r = await k(["delete", "deployment", "web", "-n", "prod"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Error from server \(Forbidden\): deployments\.apps "web" is forbidden: airlock: delete refused by policy demo rule prod-writes-need-review: a justification is required and none was given \(with one, it is held for a review by policy demo rule prod-writes-need-review\); give one per request with the Airlock-Justification header/,
    );
    for (const how of [
      /AIRLOCK_REASON="…" kubectl/,
      /airlock credential --reason/,
      /justification argument of an MCP tool call/,
    ])
      assert.match(r.stderr, how);
    assert.equal((await gw.gateway.store.reviews.list({})).length, 0, "refused before any review");
  });

  test("a pattern mismatch is refused naming the form", async () => {
    const r = await k(["delete", "deployment", "web", "-n", "prod"], "roll back web, it is broken");
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /does not match the form the rule requires, \/\(INC\|CHG\)-\[0-9\]\+: \.\{10,\}\//,
    );
  });

  test("one in the rule's form opens the review: review show and the console API show it; approved, it runs and is audited with it", async () => {
    const held = await k(["delete", "deployment", "web", "-n", "prod"], WHY);
    const id = /review ([0-9a-f-]{36}) is pending/.exec(held.stderr)?.[1];
    assert.ok(id, held.stderr);
    const listed = await runAirlock(gw, caFile, aliceToken, ["review", "list"]);
    assert.match(listed.stdout, /JUSTIFICATION \(CLIENT SAYS\)/);
    assert.match(listed.stdout, new RegExp(`${id} .*INC-42: web is crash-looping after the release`));
    const shown = await runAirlock(gw, caFile, aliceToken, ["review", "show", id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^Justification: client says: ${WHY}$`, "m"));
    const consoleApi = await callGateway(gw, "GET", `/airlock/v1/reviews/${id}`, aliceToken);
    assert.equal(consoleApi.code, 200);
    assert.equal(consoleApi.body.review.justification, WHY, "what the console's review page shows");
    const approved = await runAirlock(gw, caFile, aliceToken, ["review", "approve", id]);
    assert.equal(approved.code, 0, approved.stderr);
    const done = await k(["delete", "deployment", "web", "-n", "prod"], WHY);
    assert.equal(done.code, 0, done.stderr);
    const event = (await events()).find((e) => e.verb === "delete" && e.name === "web" && e.status === 200);
    assert.equal(event?.justification, WHY, "the audit event carries the reason it was sent with");
    assert.match(event?.reason ?? "", new RegExp(`review ${id} approved by alice`));
  });

  test("each command's reason is its own: another reason gets another credential, and each event its reason", async () => {
    const before = (await readdir(cacheDir)).length;
    assert.equal((await k(["get", "pods", "-n", "staging"], "INC-1: looking at staging")).code, 0);
    assert.equal((await k(["get", "pods", "-n", "kube-system"], "INC-2: looking at kube-system")).code, 0);
    assert.equal((await k(["get", "pods", "-n", "default"])).code, 0);
    assert.equal((await readdir(cacheDir)).length, before + 2, "one cached credential per new reason");
    const list = (await events()).filter((e) => e.verb === "list" && e.resource === "pods");
    const of = (ns: string) => list.find((e) => e.namespace === ns);
    assert.equal(of("staging")?.justification, "INC-1: looking at staging");
    assert.equal(of("kube-system")?.justification, "INC-2: looking at kube-system");
    assert.equal(of("default")?.justification, undefined);
  });

  test("hostile reasons are refused by the plugin (and the gateway): newline, bidi override, 501 characters", async () => {
    for (const [reason, why] of [
      ["INC-1: ok\nApproved-By: alice", /contains a line break/],
      ["INC-1: fine \u202Ereverse", /bidirectional-text control/],
      [`INC-1: ${"x".repeat(494)}`, /longer than 500 characters/],
    ] as const) {
      const r = await k(["get", "pods", "-n", "staging"], reason);
      assert.notEqual(r.code, 0, reason);
      assert.match(r.stderr, /AIRLOCK_REASON is refused/);
      assert.match(r.stderr, why);
    }
    // The gateway refuses the same text when a client asks for such a session directly.
    const minted = await callGateway(gw, "POST", "/airlock/v1/credentials/session", agentToken, {
      reason: "INC-1: ok\nApproved-By: alice",
    });
    assert.equal(minted.code, 400);
    assert.match(minted.body.message, /the justification in the session's reason is refused: .*line break/);
  });
});

describe("kubectl: a reason per credential (airlock credential --reason)", () => {
  test("the credential's reason is the justification of its requests", async () => {
    const why = "CHG-7: planned clean-up of the old settings";
    const withReason = await agentKubeconfig("with-reason", why);
    const r = await k(["delete", "service", "web", "-n", "prod"], undefined, withReason);
    const id = /review ([0-9a-f-]{36}) is pending/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.equal((await gw.gateway.store.reviews.get(id))?.justification, why);
  });

  test("--reason and a different AIRLOCK_REASON are refused: one request, one reason", async () => {
    const withReason = await agentKubeconfig("with-reason-2", "CHG-7: planned clean-up of the old settings");
    const r = await k(["get", "pods", "-n", "staging"], "INC-9: something else entirely", withReason);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /AIRLOCK_REASON and the kubeconfig's --reason differ/);
  });
});

describe("the Airlock-Justification header (a raw client)", () => {
  const path = "/api/v1/namespaces/staging/configmaps";

  test("percent-encoded UTF-8 is decoded and recorded", async () => {
    const why = "INC-5: vérifier les réglages — 100% sûr";
    const r = await raw("GET", path, [["Airlock-Justification", encodeURIComponent(why)]]);
    assert.equal(r.code, 200);
    const event = (await events()).find(
      (e) => e.verb === "list" && e.resource === "configmaps" && e.namespace === "staging",
    );
    assert.equal(event?.justification, why);
  });

  test("malformed or hostile headers are refused with why (400), never cleaned", async () => {
    for (const [value, why] of [
      ["INC-1%3A%20ok%0AApproved-By%3A%20alice", /contains a line break/],
      ["INC-1%3A%20ok%E2%80%AEevil", /bidirectional-text control \(U\+202E/],
      ["x".repeat(501), /longer than 500 characters/],
      ["INC-1%3A%2", /malformed percent-escape/],
      ["INC-1%G0", /malformed percent-escape/],
      ["INC-1%3A%20%E2%80", /does not decode to UTF-8/],
      ["INC-1%C0%AF", /does not decode to UTF-8/],
      ["INC-1: caf\u00e9", /raw byte 0xe9/],
      ["%EF%BB%BFINC-1: bom", /U\+FEFF/],
      ["%20%20", /empty/],
    ] as const) {
      const r = await raw("GET", path, [["Airlock-Justification", value]]);
      assert.equal(r.code, 400, value);
      assert.match(
        r.body.message ?? "",
        /the justification in the Airlock-Justification header is refused/,
        value,
      );
      assert.match(r.body.message ?? "", why, value);
    }
    const twice = await raw("GET", path, [
      ["Airlock-Justification", "INC-1: one"],
      ["Airlock-Justification", "INC-2: two"],
    ]);
    assert.equal(twice.code, 400);
    assert.match(twice.body.message ?? "", /sent more than once/);
  });

  test("a header that disagrees with the session credential's reason is refused; the same text is fine", async () => {
    const session = await callGateway(gw, "POST", "/airlock/v1/credentials/session", agentToken, {
      reason: "INC-8: checking staging config",
    });
    assert.equal(session.code, 201, JSON.stringify(session.body));
    const other = await raw(
      "GET",
      path,
      [["Airlock-Justification", "INC-9%3A%20something%20else"]],
      session.body.token,
    );
    assert.equal(other.code, 400);
    assert.match(
      other.body.message ?? "",
      /two different justifications, the Airlock-Justification header and the one its session credential was issued with/,
    );
    const same = await raw(
      "GET",
      path,
      [["Airlock-Justification", encodeURIComponent("INC-8: checking staging config")]],
      session.body.token,
    );
    assert.equal(same.code, 200);
  });

  test("a review binds the justification it showed: after approval, the same request with another reason is not released", async () => {
    const target = "/api/v1/namespaces/prod/configmaps/web-config";
    const shown = "INC-11: web-config is stale, remove it";
    const first = await raw("DELETE", target, [["Airlock-Justification", encodeURIComponent(shown)]]);
    assert.equal(first.code, 403);
    const id = /review ([0-9a-f-]{36}) is pending/.exec(first.body.message ?? "")?.[1];
    assert.ok(id, first.body.message);
    assert.equal((await gw.gateway.store.reviews.get(id))?.justification, shown);
    const approved = await runAirlock(gw, caFile, aliceToken, ["review", "approve", id]);
    assert.equal(approved.code, 0, approved.stderr);
    // The agent swaps the reason after approval: another request, another (pending) review; nothing runs.
    const swapped = await raw("DELETE", target, [
      ["Airlock-Justification", encodeURIComponent("INC-12: approved by the on-call lead")],
    ]);
    assert.equal(swapped.code, 403);
    const other = /review ([0-9a-f-]{36}) is pending/.exec(swapped.body.message ?? "")?.[1];
    assert.ok(other && other !== id, swapped.body.message);
    // Or drops it: refused before any review.
    const dropped = await raw("DELETE", target, []);
    assert.equal(dropped.code, 403);
    assert.match(dropped.body.message ?? "", /a justification is required/);
    // The approved request itself, with the reason the reviewer saw, runs once.
    const released = await raw("DELETE", target, [["Airlock-Justification", encodeURIComponent(shown)]]);
    assert.equal(released.code, 200, released.body.message);
  });
});
