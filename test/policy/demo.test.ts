import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { AGENT, decide, engineOf, type Req, verdict } from "./support.ts";

const demo = engineOf(readFileSync(new URL("../../examples/policies/demo.yaml", import.meta.url), "utf8"));
const ALICE = { name: "alice", kind: "human" as const, groups: ["sre"], labels: {} };

test("the demo policy decides the scenario's requests as documented", () => {
  const cases: [Req, string, typeof AGENT | typeof ALICE][] = [
    [{ verb: "list", resource: "pods", namespace: "prod" }, "allow demo/read-everything", AGENT],
    [
      { verb: "get", resource: "secrets", namespace: "prod", name: "db" },
      "allow demo/read-everything",
      AGENT,
    ],
    [{ verb: "get", path: "/apis" }, "allow demo/read-everything", AGENT],
    [
      { verb: "exec", resource: "pods", namespace: "dev", name: "web-1", exec: { command: ["ls", "/"] } },
      "allow demo/exec-allowlist",
      AGENT,
    ],
    [
      {
        verb: "exec",
        resource: "pods",
        namespace: "dev",
        name: "web-1",
        exec: { command: ["rm", "-rf", "/"] },
      },
      "deny demo/no-destructive-commands",
      AGENT,
    ],
    [
      {
        verb: "exec",
        resource: "pods",
        namespace: "dev",
        name: "web-1",
        exec: { command: ["sh", "-c", "rm -rf /"] },
      },
      "deny demo/no-destructive-commands",
      AGENT,
    ],
    [
      {
        verb: "exec",
        resource: "pods",
        namespace: "dev",
        name: "web-1",
        exec: { command: ["/bin/bash", "-lc", "cd /tmp && dd if=/dev/zero of=x"] },
      },
      "deny demo/no-destructive-commands",
      AGENT,
    ],
    [{ verb: "delete", resource: "namespaces", name: "dev" }, "deny demo/no-namespace-deletes", AGENT],
    [
      {
        verb: "patch",
        apiGroup: "apps",
        resource: "deployments",
        subresource: "scale",
        namespace: "dev",
        name: "web",
        object: { spec: { replicas: 0 } },
      },
      "deny demo/no-scale-to-zero",
      AGENT,
    ],
    [
      // `kubectl replace --force` with replicas 0: a delete, then a create of the scaled-down workload.
      {
        verb: "create",
        apiGroup: "apps",
        resource: "deployments",
        namespace: "dev",
        object: { metadata: { name: "web" }, spec: { replicas: 0 } },
      },
      "deny demo/no-scale-to-zero",
      AGENT,
    ],
    [
      {
        verb: "create",
        apiGroup: "apps",
        resource: "deployments",
        namespace: "dev",
        object: { metadata: { name: "web" }, spec: { replicas: 1 } },
      },
      "allow demo/writes-outside-prod",
      AGENT,
    ],
    [
      {
        verb: "patch",
        apiGroup: "apps",
        resource: "deployments",
        subresource: "scale",
        namespace: "dev",
        name: "web",
        object: { spec: { replicas: 2 } },
      },
      "allow demo/writes-outside-prod",
      AGENT,
    ],
    [
      {
        verb: "patch",
        apiGroup: "apps",
        resource: "deployments",
        namespace: "dev",
        name: "web",
        object: { spec: { template: {} } },
      },
      "allow demo/writes-outside-prod",
      AGENT,
    ],
    [
      { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod", name: "web" },
      "deny demo/prod-writes-need-review",
      AGENT,
    ],
    [
      { verb: "create", resource: "configmaps", namespace: "dev", object: { metadata: { name: "x" } } },
      "allow demo/writes-outside-prod",
      AGENT,
    ],
    [
      { verb: "create", resource: "namespaces", object: { metadata: { name: "x" } } },
      "deny default/default-deny",
      AGENT,
    ],
    [
      { verb: "portforward", resource: "pods", namespace: "dev", name: "api-1" },
      "deny default/default-deny",
      AGENT,
    ],
    [
      { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod", name: "web" },
      "allow sre/everything",
      ALICE,
    ],
    [{ verb: "delete", resource: "namespaces", name: "dev" }, "allow sre/everything", ALICE],
    [
      { verb: "get", resource: "pods", namespace: "prod", name: "x" },
      "deny default/default-deny",
      { ...ALICE, kind: "agent" as const } as unknown as typeof ALICE,
    ],
  ];
  for (const [request, expected, identity] of cases) {
    assert.equal(verdict(decide(demo, request, identity)), expected, JSON.stringify(request));
  }
});

test("agents' prod writes need a justification naming an incident or change; humans' and other writes do not", () => {
  const del = { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod", name: "web" };
  const none = decide(demo, del);
  assert.equal(none.effect === "deny" && none.justification, true);
  assert.match(none.effect === "deny" ? none.message : "", /a justification is required and none was given/);
  const why = "INC-42: web is crash-looping after the release";
  assert.equal(verdict(decide(demo, del, AGENT, why)), "review demo/prod-writes-need-review");
  assert.equal(
    verdict(decide(demo, del, AGENT, "CHG-7: planned removal of web")),
    "review demo/prod-writes-need-review",
  );
  for (const bad of ["INC-42: short", "because I said so, it is broken", "xINC-42: web is crash-looping"])
    assert.equal(verdict(decide(demo, del, AGENT, bad)), "deny demo/prod-writes-need-review", bad);
  assert.equal(verdict(decide(demo, { ...del, namespace: "staging" })), "allow demo/writes-outside-prod");
  assert.equal(verdict(decide(demo, del, ALICE)), "allow sre/everything");
});

test("the demo's prod review asks group sre for one approval, waiting up to 10 minutes", () => {
  const d = decide(
    demo,
    { verb: "delete", apiGroup: "apps", resource: "deployments", namespace: "prod", name: "web" },
    AGENT,
    "INC-42: web is crash-looping after the release",
  );
  assert.equal(d.effect, "review");
  assert.deepEqual(d.effect === "review" && d.review, {
    approvers: { identities: [], groups: ["sre"] },
    approvals: 1,
    mode: "wait",
    timeoutSeconds: 600,
  });
});

test("reads carry the demo's masking profile", () => {
  const d = decide(demo, { verb: "get", resource: "secrets", namespace: "prod", name: "db" });
  assert.equal(d.effect === "allow" && d.mask, "default");
});
