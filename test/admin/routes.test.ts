import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN_PRINCIPAL, authorize } from "../../src/admin/auth.ts";
import { matchRoute } from "../../src/admin/routes.ts";
import type { Principal } from "../../src/identity/types.ts";

test("routes match exactly, with identity names checked against their alphabet", () => {
  const cases: [string, string, string][] = [
    ["GET", "/airlock/v1/identities", "found:listIdentities"],
    ["POST", "/airlock/v1/identities", "found:createIdentity"],
    ["GET", "/airlock/v1/identities/mcp-agent", "found:getIdentity"],
    ["GET", "/airlock/v1/identities/jane@example.com", "found:getIdentity"],
    ["POST", "/airlock/v1/identities/a.b_c/revoke", "found:revokeIdentity"],
    ["GET", "/airlock/v1/audit", "found:listAudit"],
    ["GET", "/airlock/v1/openapi.json", "found:openapi"],
    ["PUT", "/airlock/v1/identities", "methodNotAllowed:GET,POST"],
    ["GET", "/airlock/v1/identities/x/revoke", "methodNotAllowed:POST"],
    ["GET", "/airlock/v1/identities/", "notFound"],
    ["GET", "/airlock/v1/identities/..", "notFound"],
    ["GET", "/airlock/v1/identities/.hidden", "notFound"],
    ["GET", "/airlock/v1/identities/Upper", "notFound"],
    ["GET", "/airlock/v1/identities/a%2Fb", "notFound"],
    ["GET", "/airlock/v1/identities/a/b", "notFound"],
    ["GET", "/airlock/v1//identities", "notFound"],
    ["GET", "/airlock/v1/audit/", "notFound"],
    ["GET", "/airlock/v2/audit", "notFound"],
  ];
  for (const [method, path, expected] of cases) {
    const m = matchRoute(method, path);
    const got =
      m.kind === "found"
        ? `found:${m.route.id}`
        : m.kind === "methodNotAllowed"
          ? `${m.kind}:${m.allow}`
          : m.kind;
    assert.equal(got, expected, `${method} ${path}`);
  }
  const found = matchRoute("POST", "/airlock/v1/identities/bot-7/revoke");
  assert.deepEqual(found.kind === "found" && found.params, { name: "bot-7" });
});

test("the admin may do anything, humans read (and write only in airlock:admins), agents nothing", () => {
  const human = (groups: string[]): Principal => ({
    identityId: "h",
    kind: "human",
    name: "hana",
    groups,
    labels: {},
    credentialId: "c",
  });
  const agent: Principal = { ...human([]), kind: "agent", name: "bot", groups: ["airlock:admins"] };
  const cases: [Principal, "read" | "write", boolean][] = [
    [ADMIN_PRINCIPAL, "read", true],
    [ADMIN_PRINCIPAL, "write", true],
    [human([]), "read", true],
    [human(["sre"]), "write", false],
    [human(["sre", "airlock:admins"]), "write", true],
    [agent, "read", false],
    [agent, "write", false],
  ];
  for (const [principal, access, ok] of cases) {
    const result = authorize(principal, access, "doing it");
    assert.equal(result.ok, ok, `${principal.kind} ${principal.groups} ${access}`);
    if (!result.ok) {
      assert.equal(result.status.code, 403);
      assert.match(result.status.message ?? "", /^doing it is forbidden: /);
    }
  }
});
