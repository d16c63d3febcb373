// The simulator's service-account issuer discovery: /.well-known/openid-configuration and /openid/v1/jwks, public as
// kube serves them, naming the issuer its tokens carry, with a JWKS that verifies them (and nothing else).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Simulator, startSimulator } from "@airlock/sim";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { kubectl } from "../helpers/kubectl.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

let dir: string;
let self: Simulator;
let fixed: Simulator;
let selfClient: SimClient;
let fixedClient: SimClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sim-oidc-"));
  [self, fixed] = await Promise.all([
    startSimulator({ dir: join(dir, "self"), seed: "demo", serviceAccountIssuer: "self" }),
    startSimulator({ dir: join(dir, "fixed"), seed: "demo" }),
  ]);
  selfClient = simClient(self);
  fixedClient = simClient(fixed);
});
after(async () => {
  selfClient?.close();
  fixedClient?.close();
  await Promise.all([self?.close(), fixed?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function createToken(sim: Simulator, args: string[] = []): Promise<string> {
  const r = await kubectl(sim.kubeconfigPath, ["create", "token", "mcp-server", "-n", "prod", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe("service-account issuer discovery", () => {
  test("discovery is public and names the simulator's own URL as issuer and its JWKS under it", async () => {
    const r = await selfClient.req("GET", "/.well-known/openid-configuration", { token: null });
    assert.equal(r.code, 200, r.text);
    assert.equal(r.body.issuer, self.url);
    assert.equal(r.body.jwks_uri, `${self.url}/openid/v1/jwks`);
    assert.deepEqual(r.body.id_token_signing_alg_values_supported, ["ES256"]);
    assert.match(String(r.headers["cache-control"]), /max-age=3600/);
  });

  test("the JWKS is public, holds only a public EC key, and an authenticated caller gets the same", async () => {
    const anonymous = await selfClient.req("GET", "/openid/v1/jwks", { token: null });
    assert.equal(anonymous.code, 200, anonymous.text);
    assert.match(String(anonymous.headers["content-type"]), /application\/jwk-set\+json/);
    const [key, ...rest] = anonymous.body.keys;
    assert.equal(rest.length, 0);
    assert.equal(key.kty, "EC");
    assert.equal(key.crv, "P-256");
    assert.equal(key.alg, "ES256");
    assert.equal(key.use, "sig");
    assert.equal(typeof key.kid, "string");
    assert.equal(key.d, undefined, "no private part");
    const admin = await selfClient.req("GET", "/openid/v1/jwks");
    assert.equal(admin.code, 200);
    assert.deepEqual(admin.body, anonymous.body);
  });

  test("a token from kubectl create token carries the discovery issuer and verifies against the JWKS", async () => {
    const token = await createToken(self);
    const discovery = (await selfClient.req("GET", "/.well-known/openid-configuration", { token: null }))
      .body;
    const jwks = (await selfClient.req("GET", "/openid/v1/jwks", { token: null })).body as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: discovery.issuer,
      audience: self.url,
      algorithms: ["ES256"],
    });
    assert.equal(protectedHeader.kid, jwks.keys[0]?.kid);
    assert.equal(payload.sub, "system:serviceaccount:prod:mcp-server");
    // The simulator still accepts its own token with the issuer as the API audience (kube's default).
    const who = await selfClient.req("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      token,
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    assert.equal(who.code, 201, who.text);
    assert.equal(who.body.status.userInfo.username, "system:serviceaccount:prod:mcp-server");
  });

  test("another simulator's JWKS does not verify the token", async () => {
    const token = await createToken(self);
    const foreign = (await fixedClient.req("GET", "/openid/v1/jwks", { token: null })).body as JSONWebKeySet;
    await assert.rejects(jwtVerify(token, createLocalJWKSet(foreign), { algorithms: ["ES256"] }));
  });

  test("by default the issuer is kubernetes.default.svc.cluster.local, in discovery and in tokens alike", async () => {
    const r = await fixedClient.req("GET", "/.well-known/openid-configuration", { token: null });
    assert.equal(r.body.issuer, "https://kubernetes.default.svc.cluster.local");
    assert.equal(r.body.jwks_uri, `${fixed.url}/openid/v1/jwks`);
    const token = await createToken(fixed);
    const jwks = (await fixedClient.req("GET", "/openid/v1/jwks", { token: null })).body as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: r.body.issuer });
    assert.deepEqual(payload.aud, ["https://kubernetes.default.svc.cluster.local"]);
  });

  test("a bad token on the discovery path is still 401, as everywhere", async () => {
    const r = await selfClient.req("GET", "/openid/v1/jwks", { token: "not-a-token" });
    assert.equal(r.code, 401);
  });
});
