// End to end, workload identity with no static secret, through a real `airlock serve` child process and the real
// kubectl: a projected service-account token from `kubectl create token` verified offline through the simulator's
// OIDC discovery and JWKS, a CI provider's OIDC JWT, both forwarded to an EKS connection (role Y assumed from role X
// at a loopback STS). Then the leak check: every secret involved (the workload tokens, the AWS secret keys and
// session tokens, the EKS bearer tokens, Airlock's own tokens) is absent from the gateway's complete output, from
// every file in its data directory but the admin token's own, and from the stored audit rows.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { SignJWT } from "jose";
import { buildKubeconfig } from "../../src/admin/index.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { openStore } from "../../src/store/index.ts";
import { serveAirlock } from "../helpers/cli.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/test-oidc.ts";
import { ROLE_X, startTestSts, type TestSts } from "../helpers/test-sts.ts";
import { simRecords } from "./e2e-support.ts";

const ROLE_Y = "arn:aws:iam::111122223333:role/airlock-upstream";

let dir: string;
let sim: Simulator;
let sts: TestSts;
let ci: TestIssuer;
let proxy: { host: string; url: string; caPem: string; bodies: string[]; close(): Promise<void> };
let gateway: ChildProcess;
let gatewayUrl = "";
let gatewayCa = "";
let adminToken = "";
let output: () => string = () => "";
/** Every secret the run involved; none may be found in logs or audit. */
const secrets = new Map<string, string>();

/** A TLS-terminating recorder in front of the test STS, so the test learns the session credentials it hands out. */
async function recordingProxy(target: TestSts): Promise<typeof proxy> {
  const ca = createCertificateAuthority("sts-proxy-ca");
  const tls = issueServerCertificate(ca, {
    commonName: "sts-proxy",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const bodies: string[] = [];
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const up = https.request(
      `${target.url}${req.url ?? "/"}`,
      { method: req.method ?? "GET", headers: req.headers, ca: target.caPem },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          bodies.push(body.toString("utf8"));
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
        });
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `https://127.0.0.1:${port}`,
    caPem: ca.certPem,
    bodies,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: test helper; each test reads the fields it asserts
function api(method: string, path: string, body?: unknown): Promise<{ code: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${gatewayUrl}${path}`,
      {
        method,
        ca: gatewayCa,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () =>
          resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function kubeconfigWith(name: string, token: string): Promise<string> {
  const path = join(dir, `${name}.kubeconfig`);
  const text = buildKubeconfig({
    server: gatewayUrl,
    caPem: gatewayCa,
    identity: name,
    token,
    namespace: "prod",
  });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

async function serviceAccountToken(): Promise<string> {
  const r = await kubectl(sim.kubeconfigPath, ["create", "token", "mcp-server", "-n", "prod"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-e2e-workload-"));
  [sim, sts, ci] = await Promise.all([
    startSimulator({ dir: join(dir, "sim"), seed: "demo", serviceAccountIssuer: "self" }),
    startTestSts(),
    startTestIssuer(),
  ]);
  proxy = await recordingProxy(sts);
  // The simulator trusts EKS tokens presigned for the proxy's host and maps them to role Y (bound to masters).
  await writeFile(
    join(dir, "sim", "eks-auth.json"),
    JSON.stringify({
      clusterId: "demo",
      extraHosts: [proxy.host],
      regions: ["us-east-1"],
      arn: ROLE_Y,
      username: "eks:airlock-upstream",
      groups: ["system:masters"],
    }),
  );
  await writeFile(join(dir, "sim-ca.pem"), sim.caPem);
  await writeFile(join(dir, "ci-ca.pem"), ci.caPem);
  await writeFile(join(dir, "proxy-ca.pem"), proxy.caPem);
  const config = {
    listen: { address: "127.0.0.1", port: 0 },
    dataDir: join(dir, "data"),
    clusters: [
      {
        name: "eks",
        eks: {
          cluster: "demo",
          region: "us-east-1",
          server: sim.url,
          caData: Buffer.from(sim.caPem).toString("base64"),
          roleArn: ROLE_Y,
          stsEndpoint: proxy.url,
        },
      },
    ],
    policy: { builtin: "allow-authenticated" },
    log: { level: "debug" },
    identity: {
      issuers: [
        {
          name: "sim-sa",
          oidc: {
            issuer: sim.url,
            audiences: [sim.url],
            algorithms: ["ES256"],
            caFile: join(dir, "sim-ca.pem"),
          },
        },
        { name: "ci", oidc: { issuer: ci.issuer, audiences: ["airlock"], caFile: join(dir, "ci-ca.pem") } },
      ],
      rules: [
        { issuer: "sim-sa", subject: "system:serviceaccount:prod:mcp-server", identity: "mcp-server" },
        { issuer: "ci", subject: "repo:acme/deploy:*", identity: "ci-bot" },
      ],
    },
  };
  await writeFile(join(dir, "airlock.yaml"), JSON.stringify(config)); // JSON is YAML
  const served = await serveAirlock(join(dir, "airlock.yaml"), {
    env: {
      HOME: dir, // no ~/.aws of the machine's user
      AWS_ACCESS_KEY_ID: ROLE_X.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROLE_X.secretAccessKey,
      NODE_EXTRA_CA_CERTS: join(dir, "proxy-ca.pem"),
    },
  });
  gateway = served.child;
  output = served.output;
  gatewayUrl = served.url;
  gatewayCa = await readFile(join(dir, "data", "tls", "ca.crt"), "utf8");
  adminToken = (await readFile(join(dir, "data", "admin.token"), "utf8")).trim();
  secrets.set("admin token", adminToken);
  secrets.set("role X secret key", ROLE_X.secretAccessKey);
  for (const name of ["mcp-server", "ci-bot"]) {
    const r = await api("POST", "/airlock/v1/identities", { name, kind: "agent", groups: ["agents"] });
    assert.equal(r.code, 201, JSON.stringify(r.body));
    secrets.set(`${name}'s API token`, r.body.token);
  }
});

after(async () => {
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) gateway.kill("SIGKILL");
  await Promise.all([sim?.close(), sts?.close(), ci?.close(), proxy?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe("workload identity through the gateway to an EKS connection", () => {
  test("a projected service-account token is verified through the simulator's discovery and JWKS and maps to mcp-server", async () => {
    const token = await serviceAccountToken();
    secrets.set("service-account token", token);
    const kc = await kubeconfigWith("mcp-server", token);
    const who = await kubectl(kc, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, "airlock:mcp-server");
    const mark = (await simRecords(sim)).at(-1)?.seq ?? 0;
    const pods = await kubectl(kc, ["get", "pods", "-n", "prod"]);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /NAME\s+READY/);
    const records = (await simRecords(sim, mark)).filter((r) => r.resource === "pods");
    assert.ok(records.length > 0, "the list reached the cluster");
    for (const r of records) {
      assert.equal(r.user, "eks:airlock-upstream", "as role Y, through the EKS connection");
      assert.equal(r.impersonatedUser, "airlock:mcp-server");
    }
    assert.ok(
      proxy.bodies.some((b) => b.includes("<AssumeRoleResult>")),
      "role Y was assumed at the test STS",
    );
  });

  test("a forged service-account token (right issuer and kid, another key) is refused with 401", async () => {
    const real = await serviceAccountToken();
    const [header = "", payload = ""] = real.split(".");
    const { generateKeyPair } = await import("jose");
    const { privateKey } = await generateKeyPair("ES256");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const { kid } = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(privateKey);
    secrets.set("forged token", forged);
    const r = await kubectl(await kubeconfigWith("forger", forged), ["get", "pods", "-n", "prod"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
    // A token whose signature is the real one's over changed claims is refused too.
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "system:serviceaccount:prod:x" })).toString("base64url")}.${real.split(".")[2]}`;
    const t = await kubectl(await kubeconfigWith("tamper", tampered), ["get", "pods", "-n", "prod"]);
    assert.notEqual(t.code, 0);
    assert.match(t.stderr, /Unauthorized|must be logged in/);
  });

  test("a CI provider's OIDC JWT maps to ci-bot and reads through the same EKS connection", async () => {
    const jwt = await ci.sign({ sub: "repo:acme/deploy:ref:refs/heads/main", aud: "airlock" });
    secrets.set("CI OIDC JWT", jwt);
    const r = await kubectl(await kubeconfigWith("ci-bot", jwt), [
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "airlock:ci-bot");
  });
});

/** Every file under `root` with its bytes. */
async function filesUnder(root: string): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    if ((await stat(path)).isFile()) out.push([path, await readFile(path)]);
  }
  return out;
}

describe("secrets stay out of logs and audit", () => {
  test("no workload token, AWS key, session token or EKS bearer token in the gateway's output, data files or audit rows", async () => {
    // The AssumeRole answers the gateway got: per-identity and its own sessions' keys and session tokens.
    for (const body of proxy.bodies) {
      for (const [, tag, value] of body.matchAll(/<(SecretAccessKey|SessionToken)>([^<]+)</g))
        secrets.set(`assumed-role ${tag} ${value?.slice(0, 6)}`, value ?? "");
    }
    assert.ok(
      [...secrets.keys()].some((k) => k.includes("SessionToken")),
      "role Y sessions were seen",
    );
    assert.ok(secrets.has("service-account token") && secrets.has("CI OIDC JWT"), "the workload tests ran");
    gateway.kill("SIGTERM");
    await once(gateway, "exit");
    assert.match(output(), /workload identity/, "the workload link logged (so the check is not vacuous)");

    const store = await openStore({ kind: "sqlite", path: join(dir, "data", "airlock.db") });
    let rows: unknown[];
    try {
      rows = await store.audit.list({ limit: 10_000 });
    } finally {
      await store.close();
    }
    assert.ok(rows.length > 5, "the requests were audited");
    const audit = JSON.stringify(rows);
    const files = (await filesUnder(join(dir, "data"))).filter(([p]) => !p.endsWith("admin.token"));
    const places: [string, string][] = [
      ["the gateway's output", output()],
      ["the audit rows", audit],
      ...files.map(([p, b]): [string, string] => [p, b.toString("latin1")]),
    ];
    // EKS bearer tokens and presigned URLs are recognisable by shape, whoever minted them.
    const shapes = [/k8s-aws-v1\./, /X-Amz-Signature/i, /X-Amz-Security-Token/i, /eyJhbGciOi/];
    for (const [where, text] of places) {
      for (const [what, value] of secrets) {
        assert.ok(value.length >= 16, `${what} is a real secret`);
        for (const form of new Set([value, encodeURIComponent(value)]))
          assert.ok(!text.includes(form), `${what} appears in ${where}`);
      }
      for (const shape of shapes) assert.doesNotMatch(text, shape, `${where} holds a ${shape}`);
    }
  });
});
