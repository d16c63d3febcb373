// End to end, identities and credentials, with the real kubectl through Airlock: the exec credential plugin
// (`airlock kubeconfig --exec`, justification in the audit log), mTLS client certificates, token expiry, rotation
// with an overlap window, scopes, and revocation cutting off a running `exec -i … cat` and `get -w` within a second.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { airlock } from "../helpers/cli.ts";
import { eventuallyMatches } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { kubectl, runningPod, spawnKubectl } from "../helpers/kubectl.ts";

let gw: TestGateway;
let adminToken: string;
let caFile: string;
const children: ChildProcess[] = [];

/** The gateway's clock: the wall clock plus what the expiry tests moved it on by (no waiting). */
let moved = 0;
const now = () => Date.now() + moved;

before(async () => {
  gw = await startTestGateway({ now });
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("session credentials through the exec plugin", () => {
  test("airlock kubeconfig --exec makes kubectl get pods work, and the --reason is on the audit events", async () => {
    const { token } = await gw.addIdentity("plugin-agent", "agent", ["agents"]);
    const kubeconfig = join(gw.dir, "plugin.kubeconfig");
    const written = await airlock([
      "kubeconfig",
      "--exec",
      "--identity",
      "plugin-agent",
      "--server",
      gw.gateway.url,
      "--ca",
      caFile,
      "--reason",
      "INC-42 restart check",
      "--output",
      kubeconfig,
    ]);
    assert.equal(written.code, 0, written.stderr);
    const kc = await readFile(kubeconfig, "utf8");
    assert.ok(!kc.includes(token), "the exec kubeconfig holds no token");
    const cache = join(gw.dir, "xdg-cache");
    const env = { AIRLOCK_TOKEN: token, XDG_CACHE_HOME: cache };
    const r = await kubectl(kubeconfig, ["get", "pods", "-n", "prod"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NAME\s+READY/);
    const again = await kubectl(kubeconfig, ["get", "configmaps", "-n", "prod"], { env });
    assert.equal(again.code, 0, again.stderr);
    const audit = await airlock(["audit", "list", "--identity", "plugin-agent", "--json"], {
      AIRLOCK_SERVER: gw.gateway.url,
      AIRLOCK_TOKEN: adminToken,
      AIRLOCK_CA: caFile,
    });
    assert.equal(audit.code, 0, audit.stderr);
    const events = JSON.parse(audit.stdout) as { resource: string; justification?: string }[];
    const pods = events.filter((e) => e.resource === "pods");
    assert.ok(pods.length > 0, "the get pods request was audited");
    for (const e of events) assert.equal(e.justification, "INC-42 restart check");
    assert.ok(!audit.stdout.includes(token), "the long-lived token is not in the audit log");
    assert.ok(!gw.logs.join("").includes(token), "nor in the gateway's logs");
  });

  test("a session credential stops working when its parent token is revoked", async () => {
    const { token } = await gw.addIdentity("session-parent", "agent");
    const session = await api("POST", "/airlock/v1/credentials/session", token, { reason: "check" });
    assert.equal(session.code, 201, JSON.stringify(session.body));
    assert.match(session.body.token, /^airlock-session\./);
    const kc = await tokenKubeconfig("session-parent", session.body.token);
    assert.equal((await kubectl(kc, ["get", "pods"])).code, 0);
    const creds = await api("GET", "/airlock/v1/identities/session-parent/credentials", adminToken);
    const parent = creds.body.items[0].id as string;
    const revoked = await api(
      "POST",
      `/airlock/v1/identities/session-parent/credentials/${parent}/revoke`,
      adminToken,
    );
    assert.equal(revoked.code, 200);
    const r = await kubectl(kc, ["get", "pods"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
  });
});

describe("mTLS client certificates", () => {
  test("kubectl with client-certificate-data from identity cert authenticates as the identity; revoking the certificate refuses it", async () => {
    await gw.addIdentity("cert-agent", "agent", ["agents"]);
    const issued = await api("POST", "/airlock/v1/identities/cert-agent/certificates", adminToken, {
      validDays: 2,
    });
    assert.equal(issued.code, 201, JSON.stringify(issued.body));
    assert.match(issued.body.kubeconfig, /client-certificate-data/);
    const kc = join(gw.dir, "cert.kubeconfig");
    await writeFile(kc, issued.body.kubeconfig, { mode: 0o600 });
    const r = await kubectl(kc, ["get", "pods", "-n", "prod"]);
    assert.equal(r.code, 0, r.stderr);
    const who = await kubectl(kc, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    assert.equal(who.stdout, "airlock:cert-agent");
    await api(
      "POST",
      `/airlock/v1/identities/cert-agent/credentials/${issued.body.credential.id}/revoke`,
      adminToken,
    );
    const after = await kubectl(kc, ["get", "pods", "-n", "prod"]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /Unauthorized|must be logged in/);
  });
});

describe("API tokens: expiry, rotation, scopes", () => {
  test("a token stops working when its expiry passes", async () => {
    await gw.addIdentity("expiring", "agent");
    const t = await api("POST", "/airlock/v1/identities/expiring/tokens", adminToken, {
      expiresAt: new Date(now() + 60_000).toISOString(),
    });
    assert.equal(t.code, 201);
    const kc = await tokenKubeconfig("expiring", t.body.token);
    assert.equal((await kubectl(kc, ["get", "pods"])).code, 0);
    const expiresAt = Date.parse(t.body.credential.expiresAt);
    moved += expiresAt - now() - 10_000; // ten seconds before its expiry on the gateway's clock
    const before = await kubectl(kc, ["get", "pods"]);
    assert.equal(before.code, 0, `ten seconds before its expiry it still works: ${before.stderr}`);
    moved += expiresAt - now() + 1_000; // past the expiry on the gateway's clock
    const r = await kubectl(kc, ["get", "pods"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
  });

  test("rotation gives a new token at once and the old one keeps working until the overlap ends", async () => {
    const { token: old } = await gw.addIdentity("rotating", "agent");
    const rotated = await api("POST", "/airlock/v1/identities/rotating/tokens/rotate", adminToken, {
      overlapSeconds: 60,
    });
    assert.equal(rotated.code, 201, JSON.stringify(rotated.body));
    const oldKc = await tokenKubeconfig("rotating", old);
    const newKc = await tokenKubeconfig("rotating", rotated.body.token);
    assert.equal((await kubectl(oldKc, ["get", "pods"])).code, 0, "the old token works inside the overlap");
    assert.equal((await kubectl(newKc, ["get", "pods"])).code, 0);
    moved += 61_000; // past the overlap on the gateway's clock
    assert.notEqual(
      (await kubectl(oldKc, ["get", "pods"])).code,
      0,
      "the old token is refused after the overlap",
    );
    assert.equal((await kubectl(newKc, ["get", "pods"])).code, 0, "the new token still works");
  });

  test("a read-only token reads but a write is refused with 403 naming the scope", async () => {
    await gw.addIdentity("reader", "agent");
    const t = await api("POST", "/airlock/v1/identities/reader/tokens", adminToken, {
      scopes: { readOnly: true },
    });
    const kc = await tokenKubeconfig("reader", t.body.token);
    assert.equal((await kubectl(kc, ["get", "pods"])).code, 0);
    const w = await kubectl(kc, ["create", "configmap", "scoped-write", "--from-literal=a=b"]);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /configmaps is forbidden: .*scope "read-only" does not allow create/);
    const x = await kubectl(kc, ["delete", "configmap", "nothing-here"]);
    assert.match(x.stderr, /scope "read-only" does not allow delete/);
  });

  test("a token scoped to another cluster is refused on this one with 403 naming the scope", async () => {
    await gw.addIdentity("elsewhere", "agent");
    const t = await api("POST", "/airlock/v1/identities/elsewhere/tokens", adminToken, {
      scopes: { clusters: ["prod-eu"] },
    });
    // kubectl's discovery is refused first and it prints only "Forbidden: unknown", so the Status is read directly.
    const r = await api("GET", "/api/v1/namespaces/prod/pods", t.body.token);
    assert.equal(r.code, 403);
    assert.equal(r.body.reason, "Forbidden");
    assert.match(r.body.message, /scope "clusters: prod-eu" does not include cluster "sim"/);
    const k = await kubectl(await tokenKubeconfig("elsewhere", t.body.token), ["get", "pods"]);
    assert.match(k.stderr, /Error from server \(Forbidden\)/);
  });
});

describe("revocation", () => {
  test("revoking an identity closes its running exec -i cat and get -w within a second, and the next request gets 401", async () => {
    const { kubeconfig } = await gw.addIdentity("doomed", "agent", ["agents"]);
    const pod = await runningPod(kubeconfig);
    const exec = spawnKubectl(kubeconfig, ["exec", "-i", pod, "--", "cat"]);
    const watch = spawnKubectl(kubeconfig, ["get", "configmaps", "-w"]);
    children.push(exec, watch);
    let echoed = "";
    exec.stdout?.setEncoding("utf8").on("data", (d: string) => {
      echoed += d;
    });
    let watched = "";
    watch.stdout?.setEncoding("utf8").on("data", (d: string) => {
      watched += d;
    });
    const ended = (c: ChildProcess) => new Promise<void>((resolve) => c.on("exit", () => resolve()));
    const execEnded = ended(exec);
    const watchEnded = ended(watch);
    exec.stdin?.write("ping\n");
    await eventuallyMatches(() => echoed, /ping/); // exec is running
    await eventuallyMatches(() => watched, /NAME/); // the watch is running
    const started = performance.now();
    const revoked = await api("POST", "/airlock/v1/identities/doomed/revoke", adminToken);
    assert.equal(revoked.code, 200);
    await Promise.race([
      Promise.all([execEnded, watchEnded]),
      sleep(1000).then(() => {
        throw new Error("a stream is still open a second after revocation");
      }),
    ]);
    assert.ok(performance.now() - started < 1000);
    const next = await kubectl(kubeconfig, ["get", "pods"]);
    assert.notEqual(next.code, 0);
    assert.match(next.stderr, /Unauthorized|must be logged in/);
    const events = (await api("GET", "/airlock/v1/audit?identity=doomed&limit=50", adminToken)).body
      .items as {
      subresource: string;
      verb: string;
      reason: string | null;
      status: number | null;
    }[];
    const notes = events.filter((e) =>
      /airlock closed the (exec|watch): identity doomed was revoked/.test(e.reason ?? ""),
    );
    assert.ok(
      notes.length >= 2,
      `each closure is an audit note: ${JSON.stringify(events.map((e) => e.reason))}`,
    );
  });
});
