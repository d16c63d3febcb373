import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAuthorizer } from "@airlock/sim/auth/authorizer.ts";
import { impersonate } from "@airlock/sim/auth/impersonate.ts";
import { StatusError } from "@airlock/sim/status.ts";
import { fakeCluster, grantCluster, grantNamespace, user } from "./auth-fixtures.ts";

const c = fakeCluster();
// The gateway's upstream identity may impersonate anyone; "limited" may impersonate only user bob and group team-a.
grantCluster(
  c,
  "impersonator",
  [
    { verbs: ["impersonate"], apiGroups: [""], resources: ["users", "groups", "serviceaccounts"] },
    {
      verbs: ["impersonate"],
      apiGroups: ["authentication.k8s.io"],
      resources: ["uids", "userextras/*", "userextras/reason", "userextras/scopes.example.com/ticket"],
    },
  ],
  [{ kind: "User", name: "gateway" }],
);
grantCluster(
  c,
  "limited-impersonator",
  [
    { verbs: ["impersonate"], apiGroups: [""], resources: ["users"], resourceNames: ["bob"] },
    { verbs: ["impersonate"], apiGroups: [""], resources: ["groups"], resourceNames: ["team-a"] },
  ],
  [{ kind: "User", name: "limited" }],
);
grantNamespace(
  c,
  "prod",
  "sa-impersonator",
  [
    {
      verbs: ["impersonate"],
      apiGroups: [""],
      resources: ["serviceaccounts"],
      resourceNames: ["mcp-server"],
    },
  ],
  [{ kind: "User", name: "limited" }],
);
const authz = createAuthorizer(c.store, c.registry);
const gateway = user("gateway", "system:authenticated");
const limited = user("limited", "system:authenticated");
const nobody = user("nobody", "system:authenticated");

function refusal(fn: () => unknown): {
  code: number;
  reason: string | undefined;
  message: string | undefined;
  details: unknown;
} {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${e}`);
    return {
      code: e.status.code,
      reason: e.status.reason,
      message: e.status.message,
      details: e.status.details,
    };
  }
  assert.fail("expected a refusal");
}

describe("impersonation", () => {
  test("without Impersonate-* headers the requester is returned unchanged", () => {
    assert.equal(impersonate(gateway, { accept: "application/json" }, authz), gateway);
  });

  test("an allowed user impersonation yields that user with system:authenticated", () => {
    assert.deepEqual(impersonate(gateway, { "impersonate-user": "bob" }, authz), {
      username: "bob",
      groups: ["system:authenticated"],
      extra: {},
    });
  });

  test("groups, uid and extras are carried over; repeated header lines are separate values", () => {
    const headers = {
      "impersonate-user": ["bob"],
      "impersonate-group": ["team-a", "team-b"],
      "impersonate-uid": ["uid-42"],
      "impersonate-extra-reason": ["on-call", "ticket 7"],
      "impersonate-extra-scopes.example.com%2fticket": ["x"],
    };
    assert.deepEqual(impersonate(gateway, headers, authz), {
      username: "bob",
      uid: "uid-42",
      groups: ["team-a", "team-b", "system:authenticated"],
      extra: { reason: ["on-call", "ticket 7"], "scopes.example.com/ticket": ["x"] },
    });
  });

  test("a joined header value (Node's req.headers) is split into its values", () => {
    const u = impersonate(
      gateway,
      { "impersonate-user": "bob", "impersonate-group": "team-a, team-b" },
      authz,
    );
    assert.deepEqual(u.groups, ["team-a", "team-b", "system:authenticated"]);
  });

  test("system:authenticated is not added when system:unauthenticated is requested", () => {
    const u = impersonate(
      gateway,
      { "impersonate-user": "bob", "impersonate-group": "system:unauthenticated" },
      authz,
    );
    assert.deepEqual(u.groups, ["system:unauthenticated"]);
  });

  test("impersonating system:anonymous adds system:unauthenticated instead", () => {
    assert.deepEqual(impersonate(gateway, { "impersonate-user": "system:anonymous" }, authz).groups, [
      "system:unauthenticated",
    ]);
  });

  test("a service-account user gets its service-account groups", () => {
    assert.deepEqual(
      impersonate(gateway, { "impersonate-user": "system:serviceaccount:prod:mcp-server" }, authz),
      {
        username: "system:serviceaccount:prod:mcp-server",
        groups: ["system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"],
        extra: {},
      },
    );
  });

  test("a service-account user with explicit groups gets only those groups", () => {
    const u = impersonate(
      gateway,
      { "impersonate-user": "system:serviceaccount:prod:mcp-server", "impersonate-group": "x" },
      authz,
    );
    assert.deepEqual(u.groups, ["x", "system:authenticated"]);
  });

  test("a user without impersonate rights is refused with kube's message", () => {
    const r = refusal(() => impersonate(nobody, { "impersonate-user": "someone" }, authz));
    assert.equal(r.code, 403);
    assert.equal(r.reason, "Forbidden");
    assert.equal(
      r.message,
      'users "someone" is forbidden: User "nobody" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    assert.deepEqual(r.details, { kind: "users", name: "someone" });
  });

  test("resourceNames limit whom a user may impersonate", () => {
    assert.equal(impersonate(limited, { "impersonate-user": "bob" }, authz).username, "bob");
    assert.equal(refusal(() => impersonate(limited, { "impersonate-user": "carol" }, authz)).code, 403);
  });

  test("each requested group is checked", () => {
    assert.deepEqual(
      impersonate(limited, { "impersonate-user": "bob", "impersonate-group": "team-a" }, authz).groups,
      ["team-a", "system:authenticated"],
    );
    const r = refusal(() =>
      impersonate(limited, { "impersonate-user": "bob", "impersonate-group": ["team-a", "admins"] }, authz),
    );
    assert.equal(
      r.message,
      'groups "admins" is forbidden: User "limited" cannot impersonate resource "groups" in API group "" at the cluster scope',
    );
  });

  test("a uid is checked as uids in authentication.k8s.io", () => {
    const r = refusal(() =>
      impersonate(limited, { "impersonate-user": "bob", "impersonate-uid": "u-1" }, authz),
    );
    assert.equal(
      r.message,
      'uids.authentication.k8s.io "u-1" is forbidden: User "limited" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope',
    );
  });

  test("an extra is checked as userextras/<key> with the value as name", () => {
    const r = refusal(() =>
      impersonate(limited, { "impersonate-user": "bob", "impersonate-extra-reason": "on-call" }, authz),
    );
    assert.equal(
      r.message,
      'userextras.authentication.k8s.io "on-call" is forbidden: User "limited" cannot impersonate resource "userextras/reason" in API group "authentication.k8s.io" at the cluster scope',
    );
  });

  test("a service account is checked as serviceaccounts in its namespace", () => {
    assert.equal(
      impersonate(limited, { "impersonate-user": "system:serviceaccount:prod:mcp-server" }, authz).username,
      "system:serviceaccount:prod:mcp-server",
    );
    const r = refusal(() =>
      impersonate(limited, { "impersonate-user": "system:serviceaccount:prod:other" }, authz),
    );
    assert.equal(
      r.message,
      'serviceaccounts "other" is forbidden: User "limited" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "prod"',
    );
  });

  test("groups without a user are refused as kube refuses them", () => {
    const r = refusal(() => impersonate(gateway, { "impersonate-group": "team-a" }, authz));
    assert.equal(r.code, 500);
    assert.equal(r.reason, "InternalError");
    assert.equal(r.message, "requested [{Group  team-a    }] without impersonating a user");
  });

  test("extras or a uid without a user are refused", () => {
    assert.equal(refusal(() => impersonate(gateway, { "impersonate-extra-reason": "x" }, authz)).code, 500);
    assert.equal(refusal(() => impersonate(gateway, { "impersonate-uid": "u" }, authz)).code, 500);
  });

  test("system:masters may impersonate anyone without bindings", () => {
    assert.equal(
      impersonate(user("root", "system:masters"), { "impersonate-user": "x" }, authz).username,
      "x",
    );
  });
});
