import assert from "node:assert/strict";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { StatusError } from "../../src/kube/status.ts";
import { createCertificateAuthority, issueClientCertificate } from "../../src/shared/tls.ts";
import { openUpstream, type Upstream, UpstreamRegistry } from "../../src/upstream/index.ts";
import {
  type FakeCluster,
  send,
  startFakeCluster,
  tempDir,
  writeClientCert,
  writeKubeconfig,
} from "./upstream-fixtures.ts";

let cluster: FakeCluster;
let named: FakeCluster; // a cluster whose certificate names only kubernetes.default, not its address
const opened: Upstream[] = [];
before(async () => {
  cluster = await startFakeCluster();
  named = await startFakeCluster({ dnsNames: ["kubernetes.default"], ipAddresses: [] });
});
after(async () => {
  for (const u of opened) u.close();
  await cluster.close();
  await named.close();
});

async function open(...args: Parameters<typeof openUpstream>): Promise<Upstream> {
  const u = await openUpstream(...args);
  opened.push(u);
  return u;
}

test("a kubeconfig token is the credential upstream; the client's Authorization and Host are replaced", async () => {
  const dir = await tempDir("token");
  const kubeconfig = await writeKubeconfig(dir, cluster.url, cluster.ca.certPem, {
    token: "upstream-secret-token",
  });
  const u = await open({ name: "prod", kubeconfig: { path: kubeconfig } });
  assert.equal(u.name, "prod");
  assert.equal(u.impersonate, true);
  const options = await u.requestOptions("GET", "/api/v1/namespaces?limit=5", [
    ["Authorization", "Bearer client-airlock-token"],
    ["Host", "airlock.example.com"],
    ["Impersonate-User", "airlock:agent:bot"],
    ["Impersonate-Group", "airlock:agents"],
    ["Impersonate-Group", "airlock:team-a"],
  ]);
  assert.equal(await send(options), 200);
  const seen = cluster.seen.at(-1);
  assert.equal(seen?.path, "/api/v1/namespaces?limit=5");
  assert.equal(seen?.authorization, "Bearer upstream-secret-token");
  assert.equal(seen?.host, `127.0.0.1:${cluster.port}`);
  const groups = seen?.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1] === "Impersonate-Group");
  assert.deepEqual(
    groups,
    ["airlock:agents", "airlock:team-a"],
    "repeated headers stay separate lines, in order",
  );
  assert.equal(seen?.rawHeaders.filter((h) => h.toLowerCase() === "authorization").length, 1);
});

test("a server URL's path prefix is joined with the request path, unnormalised", async () => {
  const u = await open({
    name: "rancher",
    server: `${cluster.url}/k8s/clusters/c-1/`,
    token: "t-123456789",
    caData: Buffer.from(cluster.ca.certPem).toString("base64"),
    impersonate: false,
  });
  assert.equal(u.impersonate, false);
  assert.equal(await send(await u.requestOptions("GET", "/apis/apps/v1/deployments", [])), 200);
  assert.equal(cluster.seen.at(-1)?.path, "/k8s/clusters/c-1/apis/apps/v1/deployments");
  await assert.rejects(u.requestOptions("GET", "apis", []), /must start with "\/"/);
});

test("a client certificate from files is presented to the cluster, with no Authorization header", async () => {
  const dir = await tempDir("cert");
  const { cert, key } = await writeClientCert(dir, cluster.ca, "airlock-upstream");
  await writeFile(join(dir, "ca.crt"), cluster.ca.certPem);
  const u = await open({
    name: "certs",
    server: cluster.url,
    clientCertFile: cert,
    clientKeyFile: key,
    caFile: join(dir, "ca.crt"),
  });
  assert.deepEqual(await u.credentialHeaders(), {});
  assert.equal(await send(await u.requestOptions("GET", "/version", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "airlock-upstream");
  assert.equal(cluster.seen.at(-1)?.authorization, undefined);
});

test("requests reuse one keep-alive connection", async () => {
  const u = await open({
    name: "pool",
    server: cluster.url,
    token: "pool-token-1234",
    caData: cluster.ca.certPem,
  });
  for (let i = 0; i < 3; i++) assert.equal(await send(await u.requestOptions("GET", `/api?i=${i}`, [])), 200);
  const ports = cluster.seen.slice(-3).map((s) => s.remotePort);
  assert.equal(new Set(ports).size, 1, `ports ${ports.join(",")}`);
  assert.equal(u.agent.options.keepAlive, true);
  assert.ok((u.agent.maxSockets ?? 0) >= 64 && u.agent.maxFreeSockets >= 1);
});

test("a cluster whose certificate is not from the configured CA is refused: verification is always on", async () => {
  const other = createCertificateAuthority("someone-else");
  const u = await open({
    name: "wrong-ca",
    server: cluster.url,
    token: "t-123456789",
    caData: other.certPem,
  });
  const before = cluster.seen.length;
  await assert.rejects(send(await u.requestOptions("GET", "/api", [])), (err: NodeJS.ErrnoException) => {
    assert.match(err.code ?? "", /CERT|SIGNATURE|ISSUER/);
    return true;
  });
  assert.equal(cluster.seen.length, before, "no request reached the cluster");
});

test("tls-server-name: the certificate is checked against that name, not the address", async () => {
  const dir = await tempDir("sni");
  const plain = await writeKubeconfig(dir, named.url, named.ca.certPem, { token: "t-123456789" });
  const bad = await open({ name: "by-address", kubeconfig: { path: plain } });
  await assert.rejects(send(await bad.requestOptions("GET", "/api", [])), /ERR_TLS_CERT_ALTNAME_INVALID|IP/);
  const withName = await writeKubeconfig(
    dir,
    named.url,
    named.ca.certPem,
    { token: "t-123456789" },
    { "tls-server-name": "kubernetes.default" },
  );
  const good = await open({ name: "by-name", kubeconfig: { path: withName } });
  assert.equal(await send(await good.requestOptions("GET", "/api", [])), 200);
});

test("insecureSkipTlsVerify: true is refused with the reason", async () => {
  await assert.rejects(
    openUpstream({ name: "lax", server: cluster.url, token: "t", insecureSkipTlsVerify: true }),
    (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.match(
        err.message,
        /^cluster "lax": insecureSkipTlsVerify: refused: the gateway always verifies/,
      );
      assert.match(err.message, /anyone on the path could read the upstream credential/);
      return true;
    },
  );
});

const badSpecs: { name: string; spec: Parameters<typeof openUpstream>[0]; expect: RegExp }[] = [
  {
    name: "a plain-http server",
    spec: { name: "x", server: "http://127.0.0.1:1", token: "t" },
    expect: /server: must be https/,
  },
  {
    name: "no credential",
    spec: { name: "x", server: "https://127.0.0.1:1" },
    expect: /never connects anonymously/,
  },
  {
    name: "a missing kubeconfig",
    spec: { name: "x", kubeconfig: { path: "/nonexistent/kc" } },
    expect: /kubeconfig\.path: cannot read \/nonexistent\/kc: ENOENT/,
  },
  {
    name: "a missing token file",
    spec: { name: "x", server: "https://127.0.0.1:1", tokenFile: "/nonexistent/token" },
    expect: /cannot read \/nonexistent\/token: ENOENT/,
  },
  {
    name: "a CA that is not PEM",
    spec: { name: "x", server: "https://127.0.0.1:1", token: "t", caData: "bm90IGEgY2VydA==" },
    expect: /caData: neither PEM nor base64/,
  },
  {
    name: "in-cluster without a host",
    spec: { name: "x", inCluster: {} },
    expect: /inCluster\.host: not given and KUBERNETES_SERVICE_HOST is not set/,
  },
];
for (const b of badSpecs) {
  test(`${b.name} is refused at open with the cluster and field named`, async () => {
    await assert.rejects(openUpstream(b.spec), (err: unknown) => {
      assert.ok(err instanceof StatusError, String(err));
      assert.match(err.message, b.expect);
      return true;
    });
  });
}

test("in-cluster: the service-account token is re-read when the kubelet rotates it", async () => {
  const dir = await tempDir("sa");
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, "sa-token-one\n");
  await writeFile(join(dir, "ca.crt"), cluster.ca.certPem);
  const logged: object[] = [];
  const u = await open(
    { name: "in", inCluster: { tokenFile, caFile: join(dir, "ca.crt") } },
    {
      env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(cluster.port) },
      fileCheckIntervalMs: 0,
      log: (e) => logged.push(e),
    },
  );
  assert.equal(u.url.href, `${cluster.url}/`);
  assert.equal(await send(await u.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.authorization, "Bearer sa-token-one");
  // The kubelet writes the new token beside the old one and swaps it in atomically.
  await writeFile(join(dir, "token.new"), "sa-token-two\n");
  await rename(join(dir, "token.new"), tokenFile);
  assert.equal(await send(await u.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.authorization, "Bearer sa-token-two");
  assert.ok(logged.some((e) => (e as { event: string }).event === "upstream.file.reloaded"));
  assert.doesNotMatch(JSON.stringify(logged), /sa-token/);
  // A token file emptied mid-rotation fails closed: no request without a credential.
  await writeFile(tokenFile, "");
  await assert.rejects(u.requestOptions("GET", "/api", []), (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.status.code, 503);
    assert.match(err.message, new RegExp(`${tokenFile} is empty`));
    return true;
  });
});

test("a rotated client certificate file is picked up with a new connection pool", async () => {
  const dir = await tempDir("rotate");
  const paths = await writeClientCert(dir, cluster.ca, "cert-one", "client");
  const logged: object[] = [];
  const u = await open(
    {
      name: "rot",
      server: cluster.url,
      clientCertFile: paths.cert,
      clientKeyFile: paths.key,
      caData: cluster.ca.certPem,
    },
    { fileCheckIntervalMs: 0, log: (e) => logged.push(e) },
  );
  assert.equal(await send(await u.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "cert-one");
  const firstAgent = u.agent;
  // Half-way through a rotation (new certificate, old key) the last good pair is still used.
  const next = issueClientCertificate(cluster.ca, { commonName: "cert-two" });
  await writeFile(paths.cert, next.certPem);
  assert.equal(await send(await u.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "cert-one");
  assert.equal(u.agent, firstAgent);
  assert.ok(logged.some((e) => (e as { event: string }).event === "upstream.tls.rotation-deferred"));
  await writeFile(paths.key, next.keyPem);
  assert.equal(await send(await u.requestOptions("GET", "/api", [])), 200);
  assert.equal(cluster.seen.at(-1)?.clientCN, "cert-two");
  assert.notEqual(u.agent, firstAgent);
  assert.ok(logged.some((e) => (e as { event: string }).event === "upstream.tls.rotated"));
});

test("a token with a line break inside is refused at open, naming the file and not the token", async () => {
  const dir = await tempDir("crlf");
  await writeFile(join(dir, "token"), "first-half\r\nInjected: header\n");
  await assert.rejects(
    openUpstream({
      name: "crlf",
      server: cluster.url,
      tokenFile: join(dir, "token"),
      caData: cluster.ca.certPem,
    }),
    (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.match(
        err.message,
        new RegExp(`the token in ${join(dir, "token")} contains characters not allowed`),
      );
      assert.doesNotMatch(err.message, /first-half|Injected/);
      return true;
    },
  );
});

test("a closed upstream refuses further requests", async () => {
  const u = await openUpstream({
    name: "gone",
    server: cluster.url,
    token: "t-123456789",
    caData: cluster.ca.certPem,
  });
  u.close();
  await assert.rejects(u.requestOptions("GET", "/api", []), /connection closed/);
});

test("the registry finds clusters by name, has a default, and refuses duplicates and unknown defaults", async () => {
  const a = await open({ name: "a", server: cluster.url, token: "t-123456789", caData: cluster.ca.certPem });
  const b = await open({ name: "b", server: cluster.url, token: "t-123456789", caData: cluster.ca.certPem });
  const reg = new UpstreamRegistry([a, b], "b");
  assert.equal(reg.get("a"), a);
  assert.equal(reg.get("c"), undefined);
  assert.equal(reg.default(), b);
  assert.deepEqual(
    reg.all().map((u) => u.name),
    ["a", "b"],
  );
  assert.throws(() => new UpstreamRegistry([a, a], "a"), /duplicate cluster name "a"/);
  assert.throws(() => new UpstreamRegistry([a], "z"), /default cluster "z" is not one of: a/);
});
