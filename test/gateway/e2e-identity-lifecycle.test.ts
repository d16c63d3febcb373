// End to end, the identity lifecycle against live streams, with the real kubectl through Airlock: delegation
// (`airlock credential --on-behalf-of`) visible upstream and in the audit log; an expiry closing a running
// `get -w` within a second of passing; disable closing streams and enable giving access back; an expiry moved later
// keeping a stream open, but never past its token's own expiry.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { airlock } from "../helpers/cli.ts";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, spawnKubectl } from "../helpers/kubectl.ts";

let gw: TestGateway;
let adminToken: string;
let caFile: string;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  gw = await startTestGateway();
  adminToken = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
  caFile = join(gw.dir, "gateway-ca.crt");
  await writeFile(caFile, gw.gateway.caPem);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await gw?.close();
});

function api(method: string, path: string, token: string, body?: unknown) {
  return callGateway(gw, method, path, token, body);
}

async function tokenKubeconfig(name: string, token: string): Promise<string> {
  const path = join(gw.dir, `${name}-${Math.random().toString(36).slice(2)}.kubeconfig`);
  const text = buildKubeconfig({
    server: gw.gateway.url,
    caPem: gw.gateway.caPem,
    identity: name,
    token,
    namespace: "prod",
  });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** A running `kubectl get configmaps -w`, once it printed its table header; `ended` resolves at exit with the time. */
async function runningWatch(kubeconfig: string): Promise<{ ended: Promise<number>; output: () => string }> {
  const watch = spawnKubectl(kubeconfig, ["get", "configmaps", "-w"]);
  children.push(watch);
  let out = "";
  watch.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  watch.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const ended = new Promise<number>((resolve) => watch.on("exit", () => resolve(Date.now())));
  await eventuallyMatches(() => out, /NAME/); // the watch is running
  return { ended, output: () => out };
}

async function refused(kubeconfig: string): Promise<void> {
  const r = await kubectl(kubeconfig, ["get", "pods"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Unauthorized|must be logged in/);
}

const stillOpen = (ended: Promise<number>, ms: number) =>
  Promise.race([ended.then(() => false), sleep(ms).then(() => true)]);

describe("delegation", () => {
  test("airlock credential --on-behalf-of alice: upstream sees the agent with the on-behalf-of extra, and the audit event names both", async () => {
    await gw.gateway.store.identities.create({ name: "alice", kind: "human", groups: ["sre"] });
    const { token } = await gw.addIdentity("delegate-agent", "agent", ["agents"]);
    // Alice's consent first (issue 15; refusals without it: test/gateway/e2e-delegation.test.ts).
    const consent = await api("POST", "/airlock/v1/identities/alice/delegations", adminToken, {
      to: "delegate-agent",
      for: "1h",
    });
    assert.equal(consent.code, 201, JSON.stringify(consent.body));
    const kubeconfig = join(gw.dir, "delegate.kubeconfig");
    const written = await airlock([
      "kubeconfig",
      "--exec",
      "--identity",
      "delegate-agent",
      "--server",
      gw.gateway.url,
      "--ca",
      caFile,
      "--on-behalf-of",
      "alice",
      "--reason",
      "pairing with alice",
      "--output",
      kubeconfig,
    ]);
    assert.equal(written.code, 0, written.stderr);
    const env = { AIRLOCK_TOKEN: token, XDG_CACHE_HOME: join(gw.dir, "xdg-delegate") };
    const who = await kubectl(kubeconfig, ["auth", "whoami", "-o", "json"], { env });
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, "airlock:delegate-agent");
    assert.deepEqual(info.extra?.["airlock.dev/on-behalf-of"], ["alice"]);
    const events = (await api("GET", "/airlock/v1/audit?identity=delegate-agent&limit=20", adminToken)).body
      .items as { identityName?: string; onBehalfOf?: string; resource: string; justification?: string }[];
    const review = events.find((e) => e.resource === "selfsubjectreviews");
    assert.ok(review, JSON.stringify(events));
    assert.equal(review.onBehalfOf, "alice");
    assert.equal(review.justification, "pairing with alice");
  });

  test("delegation to an agent (not a human) is refused", async () => {
    const { token } = await gw.addIdentity("delegate-agent-2", "agent");
    await gw.addIdentity("other-agent", "agent");
    const r = await api("POST", "/airlock/v1/credentials/session", token, { onBehalfOf: "other-agent" });
    assert.equal(r.code, 422, JSON.stringify(r.body));
    assert.match(r.body.message, /not an active human identity/);
  });
});

describe("expiry and the identity lifecycle against live streams", () => {
  test("an identity's expiry closes its running get -w within a second of passing, and the next request gets 401", async () => {
    const expiresAt = Date.now() + 4000;
    const { token } = await gw.gateway.store.identities.create({
      name: "short-lived",
      kind: "agent",
      groups: ["agents"],
      expiresAt: new Date(expiresAt).toISOString(),
    });
    const kc = await tokenKubeconfig("short-lived", token);
    const watch = await runningWatch(kc);
    assert.ok(Date.now() < expiresAt, "the watch started before the expiry");
    const at = await watch.ended;
    assert.ok(at >= expiresAt - 50, `closed ${expiresAt - at} ms before the expiry`);
    assert.ok(at - expiresAt < 1000, `closed ${at - expiresAt} ms after the expiry`);
    await refused(kc);
  });

  test("disabling an identity closes its streams within a second and enabling it gives access back", async () => {
    const { kubeconfig } = await gw.addIdentity("pausable", "agent", ["agents"]);
    const watch = await runningWatch(kubeconfig);
    const started = Date.now();
    const disabled = await api("POST", "/airlock/v1/identities/pausable/disable", adminToken);
    assert.equal(disabled.code, 200, JSON.stringify(disabled.body));
    const at = await Promise.race([watch.ended, sleep(1000).then(() => Number.NaN)]);
    assert.ok(at - started < 1000, "the watch closed within a second of the disable");
    await refused(kubeconfig);
    const enabled = await api("POST", "/airlock/v1/identities/pausable/enable", adminToken);
    assert.equal(enabled.code, 200, JSON.stringify(enabled.body));
    const back = await kubectl(kubeconfig, ["get", "pods"]);
    assert.equal(back.code, 0, back.stderr);
    const again = await runningWatch(kubeconfig);
    assert.ok(await stillOpen(again.ended, 500), "a new watch stays open after enable");
  });

  test("an expiry moved later keeps the open watch past the old expiry, but not past its token's own", async () => {
    const now = Date.now();
    const identityExpiry = now + 3000;
    const tokenExpiry = now + 6000;
    await gw.gateway.store.identities.create({
      name: "extended",
      kind: "agent",
      groups: ["agents"],
      expiresAt: new Date(identityExpiry).toISOString(),
      token: { expiresAt: new Date(tokenExpiry).toISOString() },
    });
    const issued = await api("POST", "/airlock/v1/identities/extended/tokens", adminToken, {
      expiresAt: new Date(tokenExpiry).toISOString(),
    });
    assert.equal(issued.code, 201, JSON.stringify(issued.body));
    const kc = await tokenKubeconfig("extended", issued.body.token);
    const watch = await runningWatch(kc);
    const moved = await api("PATCH", "/airlock/v1/identities/extended", adminToken, {
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    assert.equal(moved.code, 200, JSON.stringify(moved.body));
    assert.ok(await stillOpen(watch.ended, identityExpiry + 1200 - Date.now()), "open past the old expiry");
    const at = await watch.ended;
    assert.ok(
      at >= tokenExpiry - 50 && at - tokenExpiry < 1000,
      `closed ${at - tokenExpiry} ms from the token's expiry`,
    );
  });

  test("an expiry moved earlier closes the open watch at the new time", async () => {
    const { kubeconfig } = await gw.addIdentity("shortened", "agent", ["agents"]);
    const watch = await runningWatch(kubeconfig);
    const expiresAt = Date.now() + 1500;
    const moved = await api("PATCH", "/airlock/v1/identities/shortened", adminToken, {
      expiresAt: new Date(expiresAt).toISOString(),
    });
    assert.equal(moved.code, 200, JSON.stringify(moved.body));
    const at = await watch.ended;
    assert.ok(
      at >= expiresAt - 50 && at - expiresAt < 1000,
      `closed ${at - expiresAt} ms from the new expiry`,
    );
  });
});
