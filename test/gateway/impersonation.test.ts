import assert from "node:assert/strict";
import { test } from "node:test";
import type { Principal } from "../../src/identity/types.ts";
import { impersonationHeaders } from "../../src/upstream/impersonation.ts";

const agent: Principal = {
  identityId: "id-123",
  kind: "agent",
  name: "demo-agent",
  groups: ["agents", "system:masters"],
  labels: {},
  credentialId: "cred-1",
};

test("the caller is impersonated as airlock:<name> with its kind group, its groups, and id extras", () => {
  const headers = impersonationHeaders(agent, "req-9");
  assert.deepEqual(headers, [
    ["Impersonate-User", "airlock:demo-agent"],
    ["Impersonate-Group", "airlock:agents"],
    ["Impersonate-Group", "agents"],
    ["Impersonate-Extra-airlock.dev%2Fidentity-id", "id-123"],
    ["Impersonate-Extra-airlock.dev%2Frequest-id", "req-9"],
  ]);
});

test("an identity never acts in a system: group, whatever its record says", () => {
  const groups = impersonationHeaders(agent, "r")
    .filter(([name]) => name === "Impersonate-Group")
    .map(([, value]) => value);
  assert.ok(!groups.includes("system:masters"));
});

test("humans are impersonated in airlock:humans", () => {
  const headers = impersonationHeaders({ ...agent, kind: "human", groups: ["sre"] }, "r");
  assert.deepEqual(
    headers.filter(([n]) => n === "Impersonate-Group").map(([, v]) => v),
    ["airlock:humans", "sre"],
  );
});
