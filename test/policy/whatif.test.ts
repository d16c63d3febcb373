import assert from "node:assert/strict";
import { test } from "node:test";
import type { AuditEvent } from "../../src/audit/types.ts";
import { whatIfText } from "../../src/cli/policy.ts";
import type { Identity } from "../../src/identity/types.ts";
import { whatIf } from "../../src/policy/whatif.ts";
import { engineOf, policy } from "./support.ts";

function event(over: Partial<AuditEvent>): AuditEvent {
  return {
    id: over.id ?? "e",
    time: "2026-03-01T10:00:00.000Z",
    identityId: "id-1",
    identityName: "bot",
    identityKind: "agent",
    credentialId: "c",
    sourceAddress: "127.0.0.1",
    userAgent: "kubectl",
    kubectlCommand: null,
    kubectlSession: null,
    cluster: "sim",
    method: "GET",
    path: "/api/v1/namespaces/prod/pods",
    verb: "list",
    apiGroup: "",
    apiVersion: "v1",
    namespace: "prod",
    resource: "pods",
    subresource: "",
    name: "",
    execCommand: null,
    decision: "allow",
    policy: "old",
    rule: "read",
    reason: null,
    status: 200,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 1,
    completedAt: null,
    ...over,
  };
}

const identities: Identity[] = [
  {
    id: "id-1",
    name: "bot",
    kind: "agent",
    groups: ["agents"],
    labels: {},
    createdAt: "",
    revokedAt: null,
    lastUsedAt: null,
    owner: null,
    description: "",
    expiresAt: null,
    disabledAt: null,
    state: "active",
  } as Identity,
];

test("what-if reports requests the candidate policies would decide differently, and those it cannot replay", () => {
  const candidate = engineOf(
    policy(
      "new",
      "[{ group: agents }]",
      [
        "    - { name: read, verbs: [get, list, watch], effect: allow }",
        "    - { name: no-exec-rm, verbs: [exec], exec: { commandMatches: [rm] }, effect: deny, message: no }",
        "    - { name: exec, verbs: [exec], effect: allow }",
        "    - { name: no-zero, verbs: [patch], when: 'object.spec.replicas == 0', effect: deny }",
        "    - { name: patch, verbs: [patch], effect: allow }",
      ].join("\n"),
    ),
  );
  const events = [
    event({ id: "list" }),
    event({
      id: "rm",
      method: "GET",
      path: "/api/v1/namespaces/prod/pods/web-1/exec",
      verb: "exec",
      subresource: "exec",
      name: "web-1",
      execCommand: ["sh", "-c", "rm -rf /"],
      rule: "exec",
    }),
    event({
      id: "delete",
      method: "DELETE",
      path: "/api/v1/namespaces/prod/pods/web-1",
      verb: "delete",
      name: "web-1",
      rule: "writes",
    }),
    event({
      id: "patch",
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/deployments/web/scale",
      verb: "patch",
      rule: "writes",
    }),
    event({ id: "unauth", identityName: null, policy: null, rule: null, decision: "deny", status: 401 }),
    event({ id: "limited", decision: "deny", status: 429 }),
  ];
  const report = whatIf(events, identities, candidate);
  assert.equal(report.total, 6);
  assert.deepEqual(
    report.changed.map(
      (r) => `${r.id}: ${r.before.effect} -> ${r.after.effect} ${r.after.policy}/${r.after.rule}`,
    ),
    ["rm: allow -> deny new/no-exec-rm", "delete: allow -> deny default/default-deny"],
  );
  assert.deepEqual(
    report.undecidable.map((r) => `${r.id}: ${r.because}`),
    ["patch: rule new/no-zero reads the body or query, which the audit log does not keep"],
  );
  assert.equal(report.unchanged, 1);
  assert.deepEqual(report.notReplayed, { beforePolicy: 1, rateLimited: 1, unparseable: 0 });
  const text = whatIfText(report);
  assert.match(text, /6 recorded requests: 3 replayed, 2 decided differently, 1 cannot be replayed/);
  assert.match(
    text,
    /bot\s+exec pods\/exec "web-1" in namespace "prod" -- sh -c rm -rf \/\s+allow old\/exec\s+deny new\/no-exec-rm/,
  );
});

test("what-if lists the recorded requests a justification requirement would refuse: none given, or not in the form", () => {
  const candidate = engineOf(
    policy(
      "new",
      "[{ group: agents }]",
      `    - name: prod-deletes
      verbs: [delete]
      namespaces: [prod]
      effect: allow
      justification: { required: true, pattern: "INC-[0-9]+: .{5,}" }`,
    ),
  );
  const del = {
    method: "DELETE",
    path: "/api/v1/namespaces/prod/configmaps/x",
    verb: "delete",
    resource: "configmaps",
    name: "x",
    rule: "deletes",
  };
  const report = whatIf(
    [
      event({ id: "none", ...del }),
      event({ id: "wrong", ...del, justification: "cleanup" }),
      event({ id: "good", ...del, justification: "INC-7: stale config" }),
    ],
    identities,
    candidate,
  );
  assert.deepEqual(
    report.unjustified.map((r) => [r.id, r.rule, r.justification]),
    [
      ["none", "new/prod-deletes", null],
      ["wrong", "new/prod-deletes", "cleanup"],
    ],
  );
  assert.match(report.unjustified[0]?.because ?? "", /a justification is required and none was given/);
  assert.match(report.unjustified[1]?.because ?? "", /does not match the form the rule requires/);
  const text = whatIfText(report);
  assert.match(text, /2 lacked a justification the policies require/);
  assert.match(text, /Lacked a justification the policies require \(refused before any review\):/);
  assert.match(text, /new\/prod-deletes\s+cleanup/);
});
