// Pure parts of identities and credentials: scopes, session credential signing, the exec plugin's input and output,
// and the store's usability rule.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { execCredential, gatewayBase, parseExecInfo } from "../../src/cli/credential.ts";
import { checkScopes } from "../../src/identity/scopes.ts";
import { SessionSigner } from "../../src/identity/session.ts";
import type { Credential, Identity, Principal } from "../../src/identity/types.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import { usable } from "../../src/store/identities.ts";

const principal = (scopes?: Principal["scopes"]): Principal => ({
  identityId: "i",
  kind: "agent",
  name: "bot",
  groups: [],
  labels: {},
  credentialId: "c",
  ...(scopes ? { scopes } : {}),
});

function kube(action: string, resource = "pods", cluster = "prod", isResourceRequest = true): KubeRequest {
  return {
    info: {
      isResourceRequest,
      path: "/",
      verb: action,
      apiPrefix: "api",
      apiGroup: "",
      apiVersion: "v1",
      namespace: "default",
      resource,
      subresource: "",
      name: "",
      parts: [],
      fieldSelector: "",
      labelSelector: "",
    },
    action,
    cluster,
    query: new URLSearchParams(),
  };
}

describe("credential scopes", () => {
  const cases: [string, Principal["scopes"] | undefined, KubeRequest, string, boolean][] = [
    ["no scopes allow a write", undefined, kube("create"), "POST", true],
    ["read-only allows get", { readOnly: true }, kube("get"), "GET", true],
    ["read-only allows list", { readOnly: true }, kube("list"), "GET", true],
    ["read-only allows watch", { readOnly: true }, kube("watch"), "GET", true],
    ["read-only refuses create", { readOnly: true }, kube("create"), "POST", false],
    ["read-only refuses patch", { readOnly: true }, kube("patch"), "PATCH", false],
    ["read-only refuses deletecollection", { readOnly: true }, kube("deletecollection"), "DELETE", false],
    ["read-only refuses exec (a GET upgrade)", { readOnly: true }, kube("exec"), "GET", false],
    ["read-only refuses port-forward", { readOnly: true }, kube("portforward"), "GET", false],
    ["read-only allows discovery GET", { readOnly: true }, kube("get", "", "prod", false), "GET", true],
    [
      "read-only refuses a non-resource POST",
      { readOnly: true },
      kube("post", "", "prod", false),
      "POST",
      false,
    ],
    ["a listed cluster is allowed", { clusters: ["prod"] }, kube("get"), "GET", true],
    ["another cluster is refused", { clusters: ["staging"] }, kube("get"), "GET", false],
    ["an empty cluster list allows none", { clusters: [] }, kube("get"), "GET", false],
  ];
  for (const [name, scopes, request, method, ok] of cases) {
    test(name, () => {
      const result = checkScopes(principal(scopes), request, method);
      assert.equal(result.ok, ok);
      if (!result.ok) {
        assert.equal(result.status.code, 403);
        assert.match(result.status.message ?? "", /scope "/);
      }
    });
  }
});

describe("session credentials", () => {
  const signer = new SessionSigner(randomBytes(32));
  const now = Date.parse("2026-03-01T10:00:00Z");
  const issue = () =>
    signer.issue({
      identityId: "id-1",
      credentialId: "cred-1",
      ttlSeconds: 600,
      nowMs: now,
      reason: "INC-1",
      onBehalfOf: "alice",
    });

  test("a fresh session verifies and carries its claims", () => {
    const { token } = issue();
    const v = signer.verify(token, now + 1000);
    assert.ok(v.ok);
    assert.equal(v.claims.cred, "cred-1");
    assert.equal(v.claims.reason, "INC-1");
    assert.equal(v.claims.obo, "alice");
  });

  test("an expired session is refused as expired", () => {
    assert.deepEqual(signer.verify(issue().token, now + 600_000), { ok: false, error: "expired" });
  });

  test("a session signed with another key, or with altered claims, is refused", () => {
    const other = new SessionSigner(randomBytes(32));
    const { token } = issue();
    assert.deepEqual(other.verify(token, now), { ok: false, error: "signature" });
    const [prefix, payload, mac] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
    claims.cred = "someone-else";
    const forged = `${prefix}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${mac}`;
    assert.deepEqual(signer.verify(forged, now), { ok: false, error: "signature" });
  });

  test("malformed tokens are refused, never half-trusted", () => {
    for (const t of [
      "",
      "airlock-session.",
      "airlock-session.a",
      "airlock-session.a.b.c",
      "airlock_xyz",
      "airlock-session.%%.x",
    ]) {
      assert.equal(signer.verify(t, now).ok, false, t);
    }
  });
});

describe("the exec plugin's input and output", () => {
  test("the ExecCredential has the apiVersion kubectl asked for, v1beta1 when it did not say", () => {
    assert.equal(parseExecInfo(undefined).apiVersion, "client.authentication.k8s.io/v1beta1");
    const info = parseExecInfo(
      JSON.stringify({
        kind: "ExecCredential",
        apiVersion: "client.authentication.k8s.io/v1",
        spec: {
          cluster: {
            server: "https://127.0.0.1:8443/k8s/prod",
            "certificate-authority-data": Buffer.from("PEM").toString("base64"),
          },
        },
      }),
    );
    assert.equal(info.apiVersion, "client.authentication.k8s.io/v1");
    assert.equal(info.caPem, "PEM");
    assert.equal(gatewayBase(info.server ?? ""), "https://127.0.0.1:8443");
    assert.deepEqual(JSON.parse(execCredential(info.apiVersion, "tok", "2026-03-01T10:15:00.000Z")), {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "tok", expirationTimestamp: "2026-03-01T10:15:00.000Z" },
    });
    assert.throws(() =>
      parseExecInfo(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1alpha1" })),
    );
  });
});

describe("who may authenticate", () => {
  const identity = (over: Partial<Identity> = {}): Identity => ({
    id: "i",
    name: "n",
    kind: "agent",
    groups: [],
    labels: {},
    createdAt: "2026-01-01T00:00:00Z",
    revokedAt: null,
    lastUsedAt: null,
    owner: null,
    description: "",
    expiresAt: null,
    disabledAt: null,
    state: "active",
    defaultNamespace: null,
    ...over,
  });
  const credential = (over: Partial<Credential> = {}): Credential => ({
    id: "c",
    identityId: "i",
    kind: "token",
    tokenHash: "0".repeat(64),
    name: "",
    createdAt: "2026-01-01T00:00:00Z",
    revokedAt: null,
    expiresAt: null,
    lastUsedAt: null,
    scopes: {},
    serial: null,
    ...over,
  });
  const now = Date.parse("2026-03-01T10:00:00Z");
  const cases: [string, Identity, Credential, boolean][] = [
    ["active, no expiry", identity(), credential(), true],
    ["identity disabled", identity({ state: "disabled", disabledAt: "x" }), credential(), false],
    ["identity revoked", identity({ state: "revoked", revokedAt: "x" }), credential(), false],
    ["credential revoked", identity(), credential({ revokedAt: "2026-02-01T00:00:00Z" }), false],
    ["identity expired", identity({ expiresAt: "2026-03-01T09:59:59Z" }), credential(), false],
    [
      "credential expired at exactly now",
      identity(),
      credential({ expiresAt: "2026-03-01T10:00:00Z" }),
      false,
    ],
    ["credential expires later", identity(), credential({ expiresAt: "2026-03-01T10:00:01Z" }), true],
  ];
  for (const [name, i, c, ok] of cases) test(name, () => assert.equal(usable(i, c, now), ok));
});
