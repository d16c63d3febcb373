import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import type { Authenticator } from "../../src/identity/authenticate.ts";
import { createWorkloadAuthenticator, identityConfigSchema } from "../../src/identity/workload/index.ts";
import { globMatch, mapSubject } from "../../src/identity/workload/mapping.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";
import { presignEksToken } from "../../src/upstream/eks-token.ts";
import { openUpstream, type Upstream } from "../../src/upstream/index.ts";
import { type Simulator, startTestSimulator } from "../helpers/sim.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/test-oidc.ts";
import { ROLE_X, startTestSts, type TestSts } from "../helpers/test-sts.ts";

describe("mapping rules", () => {
  test("globs are anchored and * spans any run", () => {
    const cases: [string, string, boolean][] = [
      ["system:serviceaccount:agents:*", "system:serviceaccount:agents:mcp", true],
      ["system:serviceaccount:agents:*", "system:serviceaccount:agents-prod:mcp", false],
      ["repo:acme/*:ref:refs/heads/main", "repo:acme/deploy:ref:refs/heads/main", true],
      ["repo:acme/*:ref:refs/heads/main", "repo:acme/deploy:ref:refs/heads/main-x", false],
      ["exact", "exact", true],
      ["exact", "exactly", false],
      ["a*b*c", "abc", true],
      ["a*b*c", "ab", false],
      ["*", "", true],
    ];
    for (const [p, v, want] of cases) assert.equal(globMatch(p, v), want, `${p} ~ ${v}`);
  });

  test("the first matching rule wins and claims must match too", () => {
    const { rules } = identityConfigSchema.parse({
      issuers: [],
      rules: [
        { issuer: "ci", subject: "repo:acme/*", claims: { ref: "refs/heads/main" }, identity: "deployer" },
        { issuer: "ci", subject: "repo:acme/*", identity: "reader" },
      ],
    });
    assert.equal(
      mapSubject(rules, { issuer: "ci", subject: "repo:acme/x", claims: { ref: "refs/heads/main" } }),
      "deployer",
    );
    assert.equal(
      mapSubject(rules, { issuer: "ci", subject: "repo:acme/x", claims: { ref: "refs/heads/dev" } }),
      "reader",
    );
    assert.equal(mapSubject(rules, { issuer: "other", subject: "repo:acme/x" }), undefined);
  });

  test("the schema refuses `none`, HMAC algorithms and http issuers", () => {
    for (const oidc of [
      { issuer: "https://x.example", audiences: ["a"], algorithms: ["none"] },
      { issuer: "https://x.example", audiences: ["a"], algorithms: ["HS256"] },
      { issuer: "http://x.example", audiences: ["a"] },
      { issuer: "https://x.example", audiences: [] },
    ]) {
      assert.equal(
        identityConfigSchema.safeParse({ issuers: [{ name: "x", oidc }] }).success,
        false,
        JSON.stringify(oidc),
      );
    }
  });
});

describe("workload tokens authenticate mapped identities", () => {
  let dir: string;
  let store: Store;
  let issuer: TestIssuer;
  let sts: TestSts;
  let sim: Simulator;
  let admin: SimClient;
  let simUpstream: Upstream;
  let auth: Authenticator;
  const logs: object[] = [];
  let offset = 0;
  const call = (token: string) => auth({ headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-workload-"));
    [issuer, sts, sim] = await Promise.all([startTestIssuer(), startTestSts(), startTestSimulator()]);
    admin = simClient(sim);
    store = await openStore({ kind: "sqlite", path: join(dir, "airlock.db") });
    for (const name of ["ci-bot", "mcp-server", "aws-agent", "disabled-bot"])
      await store.identities.create({ name, kind: "agent", groups: ["agents"] });
    await store.identities.setDisabled("disabled-bot", true);
    simUpstream = await openUpstream({ name: "sim", kubeconfig: { path: sim.kubeconfigPath } });
    await writeFile(join(dir, "oidc-ca.pem"), issuer.caPem);
    await writeFile(join(dir, "sts-ca.pem"), sts.caPem);
    const config = identityConfigSchema.parse({
      issuers: [
        {
          name: "ci",
          oidc: {
            issuer: issuer.issuer,
            audiences: ["airlock"],
            caFile: join(dir, "oidc-ca.pem"),
            clockSkewSeconds: 30,
          },
        },
        {
          name: "sim-sa",
          kubernetes: { cluster: "sim", issuer: "https://kubernetes.default.svc.cluster.local" },
        },
        {
          name: "aws",
          aws: {
            clusterId: "airlock-test",
            regions: ["us-east-1"],
            extraHosts: [sts.host],
            caFile: join(dir, "sts-ca.pem"),
          },
        },
      ],
      rules: [
        {
          issuer: "ci",
          subject: "repo:acme/deploy:*",
          claims: { repository_owner: "acme" },
          identity: "ci-bot",
        },
        { issuer: "ci", subject: "repo:acme/disabled", identity: "disabled-bot" },
        { issuer: "sim-sa", subject: "system:serviceaccount:agents:mcp", identity: "mcp-server" },
        { issuer: "aws", subject: "arn:aws:iam::111122223333:role/airlock-gateway", identity: "aws-agent" },
      ],
    });
    auth = await createWorkloadAuthenticator(config, {
      store,
      upstreams: { get: (n) => (n === "sim" ? simUpstream : undefined) },
      log: (e) => logs.push(e),
      now: () => Date.now() + offset,
    });
  });
  after(async () => {
    simUpstream?.close();
    admin?.close();
    await store?.close();
    await Promise.all([issuer?.close(), sts?.close(), sim?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const ciClaims = { sub: "repo:acme/deploy:ref:refs/heads/main", aud: "airlock", repository_owner: "acme" };

  test("an OIDC JWT from the configured issuer maps to its identity, credential id naming issuer and subject", async () => {
    const r = await call(await issuer.sign(ciClaims));
    assert.ok(r?.ok, JSON.stringify(r));
    assert.equal(r.principal.name, "ci-bot");
    assert.equal(r.principal.credentialId, "workload:ci:repo:acme/deploy:ref:refs/heads/main");
    assert.ok(r.principal.expiresAt, "streams close when the token expires");
  });

  const refusedCases: [string, () => Promise<string>, RegExp][] = [
    [
      "an expired OIDC JWT is refused",
      () => issuer.sign({ ...ciClaims, exp: Math.floor(Date.now() / 1000) - 120 }),
      /exp/,
    ],
    ["a JWT for another audience is refused", () => issuer.sign({ ...ciClaims, aud: "someone-else" }), /aud/],
    [
      "a JWT not yet valid (beyond the skew) is refused",
      () => issuer.sign({ ...ciClaims, nbf: Math.floor(Date.now() / 1000) + 300 }),
      /nbf/,
    ],
    [
      "a forged JWT (signed by a key the issuer never published, same kid) is refused",
      async () => issuer.sign(ciClaims, { key: await issuer.foreignKey() }),
      /signature/,
    ],
    [
      "an unsigned (alg none) JWT is refused",
      async () => {
        const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const now = Math.floor(Date.now() / 1000);
        return `${enc({ alg: "none" })}.${enc({ ...ciClaims, iss: issuer.issuer, exp: now + 60 })}.`;
      },
      /alg/,
    ],
    [
      "an HS256 JWT keyed with anything is refused",
      () =>
        new SignJWT({ ...ciClaims, iss: issuer.issuer, exp: Math.floor(Date.now() / 1000) + 60 })
          .setProtectedHeader({ alg: "HS256", kid: issuer.currentKid() })
          .sign(new TextEncoder().encode("a-shared-secret-of-32-bytes-length!")),
      /alg/,
    ],
    [
      "a verified subject no rule maps is refused",
      () => issuer.sign({ ...ciClaims, sub: "repo:evil/x" }),
      /no identity mapping/,
    ],
    [
      "claims that do not match the rule are refused",
      () => issuer.sign({ ...ciClaims, repository_owner: "evil" }),
      /no identity mapping/,
    ],
    [
      "a mapped identity that is disabled is refused",
      () => issuer.sign({ ...ciClaims, sub: "repo:acme/disabled" }),
      /disabled/,
    ],
  ];
  for (const [name, make, why] of refusedCases) {
    test(name, async () => {
      const r = await call(await make());
      assert.equal(r?.ok, false, JSON.stringify(r));
      assert.equal(r && !r.ok && r.status.code, 401);
      assert.match((r && !r.ok ? r.status.message : "") ?? "", why);
    });
  }

  test("a JWT within the clock skew is accepted", async () => {
    const r = await call(await issuer.sign({ ...ciClaims, nbf: Math.floor(Date.now() / 1000) + 10 }));
    assert.ok(r?.ok, JSON.stringify(r));
  });

  test("keys are cached; an unknown kid refetches at most once per 30 s, so a rotated key is found", async () => {
    await call(await issuer.sign(ciClaims));
    const fetches = issuer.jwksFetches;
    await call(await issuer.sign(ciClaims));
    assert.equal(issuer.jwksFetches, fetches, "cached");
    await issuer.rotate();
    offset = 31_000;
    const r = await call(await issuer.sign(ciClaims));
    assert.ok(r?.ok, JSON.stringify(r));
    assert.equal(issuer.jwksFetches, fetches + 1);
    // Tokens with made-up key ids inside the cooldown do not make the gateway hammer the issuer.
    for (const kid of ["x1", "x2", "x3"])
      assert.equal((await call(await issuer.sign(ciClaims, { kid })))?.ok, false);
    assert.equal(issuer.jwksFetches, fetches + 1);
    offset = 0;
  });

  test("a token from an unconfigured issuer is not claimed (the chain answers 401)", async () => {
    const r = await call(await issuer.sign({ ...ciClaims, iss: "https://elsewhere.example" }));
    assert.equal(r, undefined);
    assert.equal(await auth({ headers: { authorization: "Bearer airlock_abc" } }), undefined);
  });

  test("a service-account token issued by the simulator is accepted through TokenReview", async () => {
    await admin.req("POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "agents" } },
    });
    await admin.req("POST", "/api/v1/namespaces/agents/serviceaccounts", {
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "mcp" } },
    });
    await admin.req("POST", "/api/v1/namespaces/agents/serviceaccounts", {
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "other" } },
    });
    const issue = async (sa: string) =>
      (
        await admin.req("POST", `/api/v1/namespaces/agents/serviceaccounts/${sa}/token`, {
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: 600 },
          },
        })
      ).body.status.token as string;
    const r = await call(await issue("mcp"));
    assert.ok(r?.ok, JSON.stringify(r));
    assert.equal(r.principal.name, "mcp-server");
    assert.equal(r.principal.credentialId, "workload:sim-sa:system:serviceaccount:agents:mcp");
    const other = await call(await issue("other"));
    assert.equal(other?.ok, false);
    // A token the cluster does not vouch for (wrong signature) is refused by TokenReview.
    const [h, p] = (await issue("mcp")).split(".");
    const forged = await call(`${h}.${p}.${Buffer.from("x".repeat(64)).toString("base64url")}`);
    assert.equal(forged?.ok, false);
    assert.match((forged && !forged.ok ? forged.status.message : "") ?? "", /does not accept/);
  });

  test("an EKS token of a mapped role is accepted through STS; one for another cluster id is refused", async () => {
    const mint = (cluster: string) =>
      presignEksToken({
        cluster,
        region: "us-east-1",
        credentials: ROLE_X,
        stsEndpoint: sts.url,
        now: Date.now(),
      }).then((t) => t.token);
    const r = await call(await mint("airlock-test"));
    assert.ok(r?.ok, JSON.stringify(r));
    assert.equal(r.principal.name, "aws-agent");
    assert.equal(r.principal.credentialId, "workload:aws:arn:aws:iam::111122223333:role/airlock-gateway");
    const other = await call(await mint("prod"));
    assert.equal(other?.ok, false);
  });

  test("revoking the mapped identity refuses its next request even with a cached verdict", async () => {
    const token = (
      await presignEksToken({
        cluster: "airlock-test",
        region: "us-east-1",
        credentials: ROLE_X,
        stsEndpoint: sts.url,
        now: Date.now(),
      })
    ).token;
    assert.ok((await call(token))?.ok);
    await store.identities.revoke("aws-agent");
    const r = await call(token);
    assert.equal(r?.ok, false);
    assert.match((r && !r.ok ? r.status.message : "") ?? "", /revoked/);
  });

  test("no workload token appears in the link's log events", async () => {
    const token = await issuer.sign({ ...ciClaims, sub: "repo:evil/x" });
    await call(token);
    const text = JSON.stringify(logs);
    assert.ok(logs.length > 0);
    assert.ok(!text.includes(token.split(".")[2] ?? "-"), "signature leaked");
    assert.ok(!text.includes("k8s-aws-v1."), "an EKS token leaked");
  });
});
