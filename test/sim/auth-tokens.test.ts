import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createAuth } from "@airlock/sim/auth/index.ts";
import type { KubeObject, SimRequest } from "@airlock/sim/contracts.ts";
import { StatusError } from "@airlock/sim/status.ts";
import { fakeCluster, user } from "./auth-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-auth-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const c = fakeCluster();
const sa = c.add("serviceaccounts", { metadata: { name: "mcp-server", namespace: "prod" } });
const pod = c.add("pods", { metadata: { name: "web-1", namespace: "prod" } });
let clock = Date.parse("2026-11-26T12:00:00Z");
const auth = createAuth({
  adminToken: "admin-secret",
  store: c.store,
  registry: c.registry,
  dir,
  now: () => clock,
});

const req = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
const tokenRoute = (namespace: string, name: string): SimRequest => ({
  method: "POST",
  path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
  query: new URLSearchParams(),
  verb: "create",
  resourceRequest: true,
  apiGroup: "",
  apiVersion: "v1",
  namespace,
  resource: "serviceaccounts",
  subresource: "token",
  name,
});
const tokenRequest = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "authentication.k8s.io/v1",
  kind: "TokenRequest",
  metadata: {},
  spec,
});
function issue(
  spec: Record<string, unknown> = {},
  name = "mcp-server",
): { token: string; response: KubeObject } {
  const response = auth.handle(
    tokenRoute("prod", name),
    user("sim:admin", "system:masters"),
    tokenRequest(spec),
  );
  return { token: (response.status as { token: string }).token, response };
}
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}
function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError);
    return e.status.code;
  }
  return 0;
}

describe("bearer authentication", () => {
  test("the admin token authenticates sim:admin in system:masters", () => {
    assert.deepEqual(auth.authenticate(req("Bearer admin-secret")), {
      username: "sim:admin",
      groups: ["system:masters", "system:authenticated"],
      extra: {},
    });
  });

  test("an unknown token, a missing header, another scheme or an empty token authenticate nobody", () => {
    assert.equal(auth.authenticate(req("Bearer admin-secreT")), undefined);
    assert.equal(auth.authenticate(req()), undefined);
    assert.equal(auth.authenticate(req("Basic YWRtaW46YWRtaW4=")), undefined);
    assert.equal(auth.authenticate(req("Bearer ")), undefined);
  });

  test("the scheme is case-insensitive, as kube's bearer authenticator reads it", () => {
    assert.equal(auth.authenticate(req("bearer admin-secret"))?.username, "sim:admin");
  });

  test("static users come from tokens.csv, and the file is re-read when it changes", () => {
    assert.equal(auth.authenticate(req("Bearer alice-token")), undefined);
    writeFileSync(
      join(dir, "tokens.csv"),
      '# users\nalice-token,alice,uid-a,"dev,ops"\nbob-token,bob,uid-b\n',
    );
    assert.deepEqual(auth.authenticate(req("Bearer alice-token")), {
      username: "alice",
      uid: "uid-a",
      groups: ["dev", "ops", "system:authenticated"],
      extra: {},
    });
    assert.deepEqual(auth.authenticate(req("Bearer bob-token"))?.groups, ["system:authenticated"]);
    writeFileSync(join(dir, "tokens.csv"), "carol-token,carol,uid-c,\n");
    assert.equal(auth.authenticate(req("Bearer alice-token")), undefined);
    assert.equal(auth.authenticate(req("Bearer carol-token"))?.username, "carol");
  });
});

describe("service-account tokens", () => {
  test("a TokenRequest issues a token that authenticates as the service account", () => {
    const { token, response } = issue();
    assert.equal(response.kind, "TokenRequest");
    assert.deepEqual(response.spec, {
      audiences: ["https://kubernetes.default.svc.cluster.local"],
      expirationSeconds: 3600,
    });
    assert.equal(
      (response.status as { expirationTimestamp: string }).expirationTimestamp,
      "2026-11-26T13:00:00Z",
    );
    assert.deepEqual(auth.authenticate(req(`Bearer ${token}`)), {
      username: "system:serviceaccount:prod:mcp-server",
      uid: sa.metadata.uid,
      groups: ["system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"],
      extra: {},
    });
  });

  test("the token carries the claims a real service-account token has", () => {
    const { token } = issue({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web-1" } });
    const claims = claimsOf(token);
    const now = Math.floor(clock / 1000);
    assert.equal(claims.iss, "https://kubernetes.default.svc.cluster.local");
    assert.equal(claims.sub, "system:serviceaccount:prod:mcp-server");
    assert.deepEqual(claims.aud, ["https://kubernetes.default.svc.cluster.local"]);
    assert.equal(claims.iat, now);
    assert.equal(claims.nbf, now);
    assert.equal(claims.exp, now + 3600);
    assert.equal(typeof claims.jti, "string");
    assert.deepEqual(claims["kubernetes.io"], {
      namespace: "prod",
      serviceaccount: { name: "mcp-server", uid: sa.metadata.uid },
      pod: { name: "web-1", uid: pod.metadata.uid },
    });
    assert.deepEqual(JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).alg, "ES256");
  });

  test("a token stops authenticating when it expires", () => {
    const { token } = issue({ expirationSeconds: 600 });
    clock += 599_000;
    assert.ok(auth.authenticate(req(`Bearer ${token}`)));
    clock += 1_000;
    assert.equal(auth.authenticate(req(`Bearer ${token}`)), undefined);
  });

  test("a tampered token or one signed by another key authenticates nobody", () => {
    const { token } = issue();
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = claimsOf(token);
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "system:serviceaccount:kube-system:admin" })).toString("base64url")}.${s}`;
    assert.equal(auth.authenticate(req(`Bearer ${forged}`)), undefined);
    assert.equal(auth.authenticate(req(`Bearer ${h}.${p}.`)), undefined);
    const otherDir = mkdtempSync(join(tmpdir(), "airlock-auth-other-"));
    try {
      const other = createAuth({
        adminToken: "x",
        store: c.store,
        registry: c.registry,
        dir: otherDir,
        now: () => clock,
      });
      assert.equal(other.authenticate(req(`Bearer ${token}`)), undefined);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test("the signing key persists in the data directory, private to its owner", () => {
    const { token } = issue();
    const again = createAuth({
      adminToken: "x",
      store: c.store,
      registry: c.registry,
      dir,
      now: () => clock,
    });
    assert.equal(
      again.authenticate(req(`Bearer ${token}`))?.username,
      "system:serviceaccount:prod:mcp-server",
    );
    assert.equal(statSync(join(dir, "sa-signing-key.pem")).mode & 0o077, 0);
  });

  test("a token for another audience does not authenticate to the API, but a TokenReview for it does", () => {
    const { token } = issue({ audiences: ["vault"] });
    assert.equal(auth.authenticate(req(`Bearer ${token}`)), undefined);
    const route = {
      ...tokenRoute("", ""),
      path: "/apis/authentication.k8s.io/v1/tokenreviews",
      apiGroup: "authentication.k8s.io",
      resource: "tokenreviews",
      subresource: "",
      name: "",
    };
    assert.equal(auth.handles(route), true);
    const review = auth.handle(route, user("sim:admin", "system:masters"), {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      metadata: {},
      spec: { token, audiences: ["vault"] },
    });
    assert.deepEqual(review.status, {
      authenticated: true,
      user: {
        username: "system:serviceaccount:prod:mcp-server",
        uid: sa.metadata.uid,
        groups: ["system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"],
      },
      audiences: ["vault"],
    });
    assert.ok(!JSON.stringify(review).includes(token), "the review does not echo the token");
  });

  test("deleting the service account, or its bound pod, revokes its tokens", () => {
    const bound = issue({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web-1" } }).token;
    const plain = issue().token;
    c.remove("pods", "prod", "web-1");
    assert.equal(auth.authenticate(req(`Bearer ${bound}`)), undefined);
    assert.ok(auth.authenticate(req(`Bearer ${plain}`)));
    c.remove("serviceaccounts", "prod", "mcp-server");
    c.add("serviceaccounts", { metadata: { name: "mcp-server", namespace: "prod" } });
    assert.equal(auth.authenticate(req(`Bearer ${plain}`)), undefined, "a recreated account has a new uid");
  });

  test("a TokenRequest for an unknown service account is 404 with kube's message", () => {
    try {
      issue({}, "ghost");
      assert.fail("expected 404");
    } catch (e) {
      assert.ok(e instanceof StatusError);
      assert.equal(e.status.code, 404);
      assert.equal(e.status.message, 'serviceaccounts "ghost" not found');
    }
  });

  test("a lifetime under ten minutes is 422 Invalid; a missing bound pod is 404", () => {
    assert.equal(
      statusOf(() => issue({ expirationSeconds: 599 })),
      422,
    );
    assert.equal(
      statusOf(() => issue({ boundObjectRef: { kind: "Pod", name: "nope" } })),
      404,
    );
    assert.equal(
      statusOf(() => issue({ boundObjectRef: { kind: "Node", name: "n" } })),
      422,
    );
  });

  test("handles() claims create on serviceaccounts/token and not other subresources or verbs", () => {
    assert.equal(auth.handles(tokenRoute("prod", "x")), true);
    assert.equal(auth.handles({ ...tokenRoute("prod", "x"), verb: "get" }), false);
    assert.equal(auth.handles({ ...tokenRoute("prod", "x"), subresource: "" }), false);
  });
});
