import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { StatusError } from "../../src/kube/status.ts";
import { issueClientCertificate } from "../../src/shared/tls.ts";
import { parseExecCredential, refreshAt } from "../../src/upstream/exec-plugin.ts";
import { openUpstream, type Upstream } from "../../src/upstream/index.ts";
import { type FakeCluster, send, startFakeCluster, tempDir, writeKubeconfig } from "./upstream-fixtures.ts";

const PLUGIN = fileURLToPath(new URL("./upstream-exec-plugin.mjs", import.meta.url));
const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";

let cluster: FakeCluster;
const opened: Upstream[] = [];
before(async () => {
  cluster = await startFakeCluster();
});
after(async () => {
  for (const u of opened) u.close();
  await cluster.close();
});

interface PluginSetup {
  apiVersion?: string;
  env?: Record<string, string>;
  provideClusterInfo?: boolean;
  command?: string;
  now?: () => number;
  execTimeoutMs?: number;
  log?: (e: object) => void;
}

/** A kubeconfig whose user runs the test plugin; returns the upstream and the plugin's state folder. */
async function withPlugin(
  setup: PluginSetup = {},
): Promise<{ upstream: Upstream; dir: string; runs: () => Promise<number> }> {
  const dir = await tempDir("exec");
  const env = { PLUGIN_STATE_DIR: dir, PLUGIN_TOKEN: "tok", ...setup.env };
  const kubeconfig = await writeKubeconfig(dir, cluster.url, cluster.ca.certPem, {
    exec: {
      apiVersion: setup.apiVersion ?? V1,
      command: setup.command ?? process.execPath,
      args: [PLUGIN],
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
      interactiveMode: "Never",
      provideClusterInfo: setup.provideClusterInfo ?? false,
    },
  });
  const upstream = await openUpstream(
    { name: "exec", kubeconfig: { path: kubeconfig } },
    {
      env: { PATH: process.env.PATH },
      ...(setup.now ? { now: setup.now } : {}),
      ...(setup.execTimeoutMs ? { execTimeoutMs: setup.execTimeoutMs } : {}),
      ...(setup.log ? { log: setup.log } : {}),
    },
  );
  opened.push(upstream);
  const runs = async () => (await readFile(join(dir, "count"), "utf8").catch(() => "")).length;
  return { upstream, dir, runs };
}

test("a v1 exec plugin's token is sent as the Bearer credential, with KUBERNETES_EXEC_INFO and cluster info", async () => {
  const { upstream, dir, runs } = await withPlugin({ apiVersion: V1, provideClusterInfo: true });
  assert.equal(await runs(), 0, "the plugin runs on first use, not at open");
  const status = await send(await upstream.requestOptions("GET", "/api/v1/namespaces", []));
  assert.equal(status, 200);
  assert.equal(cluster.seen.at(-1)?.authorization, "Bearer tok-1");
  const info = JSON.parse(await readFile(join(dir, "exec-info.json"), "utf8"));
  assert.equal(info.kind, "ExecCredential");
  assert.equal(info.apiVersion, V1);
  assert.equal(info.spec.interactive, false);
  assert.equal(info.spec.cluster.server, cluster.url);
  assert.equal(
    Buffer.from(info.spec.cluster["certificate-authority-data"], "base64").toString(),
    cluster.ca.certPem,
  );
});

test("a v1beta1 exec plugin works, and without provideClusterInfo the plugin sees no cluster", async () => {
  const { upstream, dir } = await withPlugin({ apiVersion: V1BETA1 });
  assert.deepEqual(await upstream.credentialHeaders(), { authorization: "Bearer tok-1" });
  const info = JSON.parse(await readFile(join(dir, "exec-info.json"), "utf8"));
  assert.equal(info.apiVersion, V1BETA1);
  assert.equal(info.spec.cluster, undefined);
});

test("the plugin's answer is cached: sequential and concurrent requests share one run", async () => {
  const { upstream, runs } = await withPlugin({ env: { PLUGIN_EXPIRES_IN: "3600" } });
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => upstream.credentialHeaders()));
  for (const h of concurrent) assert.equal(h.authorization, "Bearer tok-1");
  await upstream.credentialHeaders();
  await upstream.credentialHeaders();
  assert.equal(await runs(), 1);
});

test("the plugin runs again one minute before expirationTimestamp, not before", async () => {
  let now = Date.now();
  const { upstream, runs } = await withPlugin({ env: { PLUGIN_EXPIRES_IN: "900" }, now: () => now });
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-1");
  now += 800_000; // 100 s before expiry: still good
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-1");
  now += 45_000; // 55 s before expiry: inside the refresh margin
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-2");
  assert.equal(await runs(), 2);
});

test("an already expired credential is used once and fetched again on the next request", async () => {
  const { upstream, runs } = await withPlugin({ env: { PLUGIN_EXPIRES_IN: "-5" } });
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-1");
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-2");
  assert.equal(await runs(), 2);
});

test("invalidate() after a 401 re-runs the plugin; a burst of invalidations is one re-run", async () => {
  let now = Date.now();
  const { upstream, runs } = await withPlugin({ now: () => now });
  cluster.rejectTokens.add("tok-1");
  const status = await send(await upstream.requestOptions("GET", "/api", []));
  assert.equal(status, 401);
  now += 10_000;
  upstream.invalidate();
  const retried = await send(await upstream.requestOptions("GET", "/api", []));
  assert.equal(retried, 200);
  assert.equal(cluster.seen.at(-1)?.authorization, "Bearer tok-2");
  upstream.invalidate(); // the rest of the wave of 401s, right after the fresh run
  upstream.invalidate();
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer tok-2");
  assert.equal(await runs(), 2);
});

test("a failing plugin gives a 503 naming the command and its stderr, never the token; logs carry no token", async () => {
  let now = Date.now();
  const logged: object[] = [];
  const { upstream, dir } = await withPlugin({
    now: () => now,
    log: (e) => logged.push(e),
    env: { PLUGIN_TOKEN: "very-secret-token" },
  });
  assert.equal((await upstream.credentialHeaders()).authorization, "Bearer very-secret-token-1");
  await writeFile(join(dir, "mode"), "fail");
  now += 10_000;
  upstream.invalidate();
  await assert.rejects(upstream.requestOptions("GET", "/api", []), (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.status.code, 503);
    assert.ok(err.message.includes(`exec plugin ${process.execPath} failed (exit code 3)`), err.message);
    assert.match(err.message, /could not reach the token service \(run 2\)/);
    assert.match(err.message, /last token was <redacted>/);
    assert.doesNotMatch(err.message, /very-secret-token/);
    return true;
  });
  const events = logged.map((e) => (e as { event: string }).event);
  assert.deepEqual(events.slice(-4), [
    "upstream.exec.run",
    "upstream.exec.ok",
    "upstream.exec.run",
    "upstream.exec.failed",
  ]);
  assert.doesNotMatch(JSON.stringify(logged), /very-secret-token/);
});

const badPlugins: { name: string; mode?: string; command?: string; expect: RegExp }[] = [
  {
    name: "prints something that is not JSON",
    mode: "garbage",
    expect: /did not print a JSON ExecCredential/,
  },
  {
    name: "answers in another apiVersion",
    mode: "wrong-version",
    expect:
      /configured to use API version client\.authentication\.k8s\.io\/v1, plugin returned version "client\.authentication\.k8s\.io\/v1alpha1"/,
  },
  {
    name: "does not exist",
    command: "/nonexistent/get-token",
    expect: /cannot run exec plugin \/nonexistent\/get-token: ENOENT/,
  },
];
for (const b of badPlugins) {
  test(`a plugin that ${b.name} is a 503 that says so`, async () => {
    const { upstream, dir } = await withPlugin(b.command ? { command: b.command } : {});
    if (b.mode) await writeFile(join(dir, "mode"), b.mode);
    await assert.rejects(upstream.credentialHeaders(), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.status.reason, "ServiceUnavailable");
      assert.match(err.message, b.expect);
      return true;
    });
  });
}

test("a plugin that hangs is killed after the time limit", async () => {
  const { upstream, dir } = await withPlugin({ execTimeoutMs: 300 });
  await writeFile(join(dir, "mode"), "hang");
  const started = Date.now();
  await assert.rejects(upstream.credentialHeaders(), /timed out after 300 ms/);
  assert.ok(Date.now() - started < 5000);
});

test("a client certificate from the plugin is presented, and a new one replaces it after invalidate()", async () => {
  let now = Date.now();
  const { upstream, dir } = await withPlugin({ now: () => now });
  for (const which of ["1", "2"]) {
    const c = issueClientCertificate(cluster.ca, { commonName: `exec-client-${which}` });
    await writeFile(join(dir, `client${which}.crt`), c.certPem);
    await writeFile(join(dir, `client${which}.key`), c.keyPem);
  }
  await writeFile(join(dir, "mode"), "cert");
  assert.deepEqual(await upstream.credentialHeaders(), {});
  assert.equal(await send(await upstream.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "exec-client-1");
  assert.equal(cluster.seen.at(-1)?.authorization, undefined);
  const firstAgent = upstream.agent;
  now += 10_000;
  upstream.invalidate();
  assert.equal(await send(await upstream.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "exec-client-2");
  assert.notEqual(upstream.agent, firstAgent);
});

test("parseExecCredential rejects incomplete answers without echoing them", () => {
  const cases: [unknown, RegExp][] = [
    [{ kind: "Other", apiVersion: V1, status: { token: "s3cret" } }, /kind "Other"/],
    [{ kind: "ExecCredential", apiVersion: V1 }, /without status/],
    [{ kind: "ExecCredential", apiVersion: V1, status: {} }, /neither a token nor a client certificate/],
    [{ kind: "ExecCredential", apiVersion: V1, status: { clientCertificateData: "s3cret" } }, /only one of/],
    [
      { kind: "ExecCredential", apiVersion: V1, status: { token: "s3cret", expirationTimestamp: "soon" } },
      /RFC 3339/,
    ],
  ];
  for (const [doc, expected] of cases) {
    assert.throws(
      () => parseExecCredential(JSON.stringify(doc), V1),
      (err: Error) => expected.test(err.message) && !err.message.includes("s3cret"),
    );
  }
  const ok = parseExecCredential(
    JSON.stringify({
      kind: "ExecCredential",
      apiVersion: V1,
      status: { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" },
    }),
    V1,
  );
  assert.deepEqual(ok, { token: "t", expiresAt: Date.parse("2030-01-01T00:00:00Z") });
});

test("refreshAt: a minute before expiry, half-way for short lifetimes, never without expiry", () => {
  const t = 1_000_000;
  const cases: [number | undefined, number][] = [
    [undefined, Number.POSITIVE_INFINITY],
    [t + 900_000, t + 840_000],
    [t + 60_000, t + 30_000],
    [t + 10_000, t + 5_000],
    [t - 5_000, t - 5_000],
  ];
  for (const [expiresAt, expected] of cases)
    assert.equal(refreshAt(t, expiresAt), expected, `expiresAt ${expiresAt}`);
});
