import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createAuth } from "@airlock/sim/auth/index.ts";
import type { KubeObject, SimRequest } from "@airlock/sim/contracts.ts";
import { StatusError } from "@airlock/sim/status.ts";
import { fakeCluster, grantCluster, grantNamespace, user } from "./auth-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-reviews-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const c = fakeCluster();
grantCluster(
  c,
  "pod-reader",
  [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
  [{ kind: "User", name: "alice" }],
);
grantNamespace(
  c,
  "prod",
  "cm-writer",
  [{ verbs: ["update"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"] }],
  [{ kind: "User", name: "alice" }],
);
const auth = createAuth({ adminToken: "admin", store: c.store, registry: c.registry, dir });
const alice = user("alice", "system:authenticated");
const admin = user("sim:admin", "system:masters", "system:authenticated");

function route(group: string, resource: string, namespace = ""): SimRequest {
  return {
    method: "POST",
    path: `/apis/${group}/v1/${resource}`,
    query: new URLSearchParams(),
    verb: "create",
    resourceRequest: true,
    apiGroup: group,
    apiVersion: "v1",
    namespace,
    resource,
    subresource: "",
    name: "",
  };
}
const AUTHZ = "authorization.k8s.io";
const body = (kind: string, spec: Record<string, unknown>, group = AUTHZ): KubeObject => ({
  apiVersion: `${group}/v1`,
  kind,
  metadata: {},
  spec,
});
const ssar = (u = alice, spec: Record<string, unknown>) =>
  auth.handle(route(AUTHZ, "selfsubjectaccessreviews"), u, body("SelfSubjectAccessReview", spec));

describe("review endpoints", () => {
  test("handles() claims exactly the review kinds on create", () => {
    for (const [g, r] of [
      ["authentication.k8s.io", "selfsubjectreviews"],
      ["authentication.k8s.io", "tokenreviews"],
      [AUTHZ, "selfsubjectaccessreviews"],
      [AUTHZ, "subjectaccessreviews"],
      [AUTHZ, "selfsubjectrulesreviews"],
    ] as const) {
      assert.equal(auth.handles(route(g, r)), true, r);
      assert.equal(auth.handles({ ...route(g, r), verb: "list" }), false, `${r} list`);
    }
    assert.equal(auth.handles(route(AUTHZ, "localsubjectaccessreviews", "prod")), true);
    assert.equal(auth.handles(route("", "pods", "prod")), false);
    assert.equal(auth.handles(route("rbac.authorization.k8s.io", "clusterroles")), false);
  });

  test("a SelfSubjectAccessReview answers allowed with the RBAC reason", () => {
    const out = ssar(alice, { resourceAttributes: { namespace: "default", verb: "get", resource: "pods" } });
    assert.equal(out.kind, "SelfSubjectAccessReview");
    assert.equal(out.apiVersion, "authorization.k8s.io/v1");
    assert.deepEqual(out.status, {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "pod-reader" of ClusterRole "pod-reader" to User "alice"',
    });
  });

  test("a SelfSubjectAccessReview for something not granted answers not allowed", () => {
    assert.deepEqual(
      ssar(alice, { resourceAttributes: { namespace: "default", verb: "delete", resource: "pods" } }).status,
      {
        allowed: false,
      },
    );
  });

  test("a SelfSubjectAccessReview honours resource names and namespaces", () => {
    const cm = (ns: string, name: string) =>
      ssar(alice, { resourceAttributes: { namespace: ns, verb: "update", resource: "configmaps", name } })
        .status;
    assert.equal((cm("prod", "settings") as { allowed: boolean }).allowed, true);
    assert.equal((cm("prod", "other") as { allowed: boolean }).allowed, false);
    assert.equal((cm("dev", "settings") as { allowed: boolean }).allowed, false);
  });

  test("a non-resource SelfSubjectAccessReview checks the path", () => {
    assert.equal(
      (
        ssar(alice, { nonResourceAttributes: { verb: "get", path: "/version" } }).status as {
          allowed: boolean;
        }
      ).allowed,
      true,
    );
    assert.equal(
      (
        ssar(alice, { nonResourceAttributes: { verb: "get", path: "/metrics" } }).status as {
          allowed: boolean;
        }
      ).allowed,
      false,
    );
  });

  test("a review with both or neither attribute sets is 422 Invalid", () => {
    for (const spec of [
      {},
      { resourceAttributes: { verb: "get" }, nonResourceAttributes: { verb: "get" } },
    ]) {
      try {
        ssar(alice, spec);
        assert.fail("expected 422");
      } catch (e) {
        assert.ok(e instanceof StatusError);
        assert.equal(e.status.code, 422);
        assert.equal(e.status.reason, "Invalid");
      }
    }
  });

  test("a SubjectAccessReview asks about the user in the spec, not the caller", () => {
    const out = auth.handle(
      route(AUTHZ, "subjectaccessreviews"),
      admin,
      body("SubjectAccessReview", { user: "alice", resourceAttributes: { verb: "list", resource: "pods" } }),
    );
    assert.equal((out.status as { allowed: boolean }).allowed, true);
    const bob = auth.handle(
      route(AUTHZ, "subjectaccessreviews"),
      admin,
      body("SubjectAccessReview", { user: "bob", resourceAttributes: { verb: "list", resource: "pods" } }),
    );
    assert.equal((bob.status as { allowed: boolean }).allowed, false);
  });

  test("a LocalSubjectAccessReview must name its own namespace", () => {
    const r = route(AUTHZ, "localsubjectaccessreviews", "prod");
    const ok = auth.handle(
      r,
      admin,
      body("LocalSubjectAccessReview", {
        user: "alice",
        resourceAttributes: { namespace: "prod", verb: "update", resource: "configmaps", name: "settings" },
      }),
    );
    assert.equal((ok.status as { allowed: boolean }).allowed, true);
    assert.throws(
      () =>
        auth.handle(
          r,
          admin,
          body("LocalSubjectAccessReview", {
            user: "alice",
            resourceAttributes: { namespace: "dev", verb: "get", resource: "pods" },
          }),
        ),
      (e: unknown) => e instanceof StatusError && e.status.code === 400,
    );
  });

  test("a SelfSubjectRulesReview lists the caller's rules in the namespace", () => {
    const out = auth.handle(
      route(AUTHZ, "selfsubjectrulesreviews"),
      alice,
      body("SelfSubjectRulesReview", { namespace: "prod" }),
    );
    const status = out.status as {
      resourceRules: { resources: string[]; resourceNames?: string[] }[];
      nonResourceRules: unknown[];
      incomplete: boolean;
    };
    assert.ok(status.resourceRules.some((r) => r.resources.includes("pods")));
    assert.ok(
      status.resourceRules.some(
        (r) => r.resources.includes("configmaps") && r.resourceNames?.includes("settings"),
      ),
    );
    assert.ok(status.nonResourceRules.length > 0);
    assert.equal(status.incomplete, false);
    const dev = auth.handle(
      route(AUTHZ, "selfsubjectrulesreviews"),
      alice,
      body("SelfSubjectRulesReview", { namespace: "dev" }),
    );
    assert.ok(!(dev.status as typeof status).resourceRules.some((r) => r.resources.includes("configmaps")));
  });

  test("a SelfSubjectReview reports the (impersonated) user", () => {
    const impersonated = auth.impersonate(admin, {
      "impersonate-user": "bob",
      "impersonate-group": "team-a",
      "impersonate-extra-reason": "on-call",
    });
    const out = auth.handle(
      route("authentication.k8s.io", "selfsubjectreviews"),
      impersonated,
      body("SelfSubjectReview", {}, "authentication.k8s.io"),
    );
    assert.deepEqual(out.status, {
      userInfo: {
        username: "bob",
        groups: ["team-a", "system:authenticated"],
        extra: { reason: ["on-call"] },
      },
    });
  });

  test("a TokenReview of the admin token names sim:admin; an unknown token is not authenticated", () => {
    const review = (token: string) =>
      auth.handle(
        route("authentication.k8s.io", "tokenreviews"),
        admin,
        body("TokenReview", { token }, "authentication.k8s.io"),
      ).status;
    assert.deepEqual(review("admin"), {
      authenticated: true,
      user: { username: "sim:admin", groups: ["system:masters", "system:authenticated"] },
      audiences: ["https://kubernetes.default.svc.cluster.local"],
    });
    assert.deepEqual(review("nope"), { authenticated: false, user: {}, error: "invalid bearer token" });
  });
});
