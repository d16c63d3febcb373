// Effective verbs (issue 12 §4, issue 13 §3): a write whose effect is a deletion is decided (and rate-limited) as a
// delete too; an eviction is a delete of its pod; ephemeral containers are an update of the pod on its resulting spec.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { effectNeedsObjects } from "../../src/policy/effects.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { AGENT, engineOf, policy, type Req, verdict } from "./support.ts";

// The demo policy, plus a rule that lets agents label Namespace objects (the demo alone does not).
const demo = engineOf(
  `${readFileSync(new URL("../../examples/policies/demo.yaml", import.meta.url), "utf8")}\n---\n${policy(
    "ns-labels",
    "[{ group: agents }]",
    "    - { name: label-namespaces, verbs: [patch], resources: [namespaces], effect: allow }",
  )}`,
);

function decideOn(engine: ReturnType<typeof engineOf>, request: Req) {
  const d = describeToRequest({ identity: AGENT, request });
  if (!d.ok) throw new Error(d.errors.join("; "));
  return engine.decide(d.principal, d.kube);
}

const bogusOwner = [
  { apiVersion: "v1", kind: "ConfigMap", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" },
];

test("adding an ownerReference to namespace staging counts as deleting it: no-namespace-deletes refuses it", () => {
  const d = decideOn(demo, {
    verb: "patch",
    resource: "namespaces",
    name: "staging",
    namespace: "staging",
    oldObject: { metadata: { name: "staging" } },
    object: { metadata: { name: "staging", ownerReferences: bogusOwner } },
  });
  assert.equal(verdict(d), "deny demo/no-namespace-deletes");
  assert.match(
    d.effect === "deny" ? d.message : "",
    /counts as delete of namespaces "staging" because it sets metadata.ownerReferences/,
  );
  // The same patch with the owners unchanged (a label edit of an owned object) is just a patch.
  const same = decideOn(demo, {
    verb: "patch",
    resource: "configmaps",
    name: "x",
    namespace: "staging",
    oldObject: { metadata: { name: "x", ownerReferences: bogusOwner } },
    object: { metadata: { name: "x", ownerReferences: bogusOwner, labels: { a: "b" } } },
  });
  assert.equal(verdict(same), "allow demo/writes-outside-prod");
  const label = decideOn(demo, {
    verb: "patch",
    resource: "namespaces",
    name: "staging",
    namespace: "staging",
    oldObject: { metadata: { name: "staging" } },
    object: { metadata: { name: "staging", labels: { team: "web" } } },
  });
  assert.equal(verdict(label), "allow ns-labels/label-namespaces");
});

test("setting deletionTimestamp, or dropping finalizers of an object being deleted, counts as a delete", () => {
  const engine = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      [
        "    - { name: writes, verbs: [patch, update], namespaces: ['*'], effect: allow }",
        "    - { name: no-deletes, verbs: [delete], resources: [configmaps], effect: deny }",
      ].join("\n"),
    ),
  );
  const base = { verb: "patch", resource: "configmaps", name: "x", namespace: "dev" } as const;
  assert.equal(
    verdict(
      decideOn(engine, {
        ...base,
        oldObject: { metadata: { name: "x" } },
        object: { metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z" } },
      }),
    ),
    "deny p/no-deletes",
  );
  assert.equal(
    verdict(
      decideOn(engine, {
        ...base,
        oldObject: {
          metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["keep"] },
        },
        object: { metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [] } },
      }),
    ),
    "deny p/no-deletes",
  );
  // Adding a finalizer to a live object deletes nothing.
  assert.equal(
    verdict(
      decideOn(engine, {
        ...base,
        oldObject: { metadata: { name: "x" } },
        object: { metadata: { name: "x", finalizers: ["keep"] } },
      }),
    ),
    "allow p/writes",
  );
});

test("ConfigMaps given ownerReferences count against the delete rate limit", () => {
  let now = 1_000_000;
  const engine = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      [
        "    - { name: writes, verbs: [create, patch], namespaces: ['*'], effect: allow }",
        "    - { name: few-deletes, verbs: [delete], resources: [configmaps], namespaces: ['*'], effect: allow, rateLimit: { requests: 2, per: 1m } }",
      ].join("\n"),
    ),
    () => now,
  );
  const owned = (name: string): Req => ({
    verb: "create",
    resource: "configmaps",
    namespace: "dev",
    object: { metadata: { name, ownerReferences: bogusOwner } },
  });
  assert.equal(verdict(decideOn(engine, owned("a"))), "allow p/writes");
  assert.equal(verdict(decideOn(engine, owned("b"))), "allow p/writes");
  const third = decideOn(engine, owned("c"));
  assert.equal(third.effect === "deny" && third.rule, "few-deletes");
  assert.ok(third.effect === "deny" && third.retryAfterSeconds);
  // A create without owners is not a delete.
  assert.equal(
    verdict(
      decideOn(engine, {
        verb: "create",
        resource: "configmaps",
        namespace: "dev",
        object: { metadata: { name: "d" } },
      }),
    ),
    "allow p/writes",
  );
  now += 61_000;
  assert.equal(verdict(decideOn(engine, owned("e"))), "allow p/writes");
});

test("an eviction is decided as a delete of its pod (deny rules and label selectors on the stored pod)", () => {
  const engine = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      [
        "    - { name: writes, verbs: [create, delete], namespaces: ['*'], effect: allow }",
        "    - name: keep-db",
        "      verbs: [delete]",
        "      resources: [pods]",
        "      labelSelector: { matchLabels: { app: db } }",
        "      effect: deny",
      ].join("\n"),
    ),
  );
  const evict = (labels: Record<string, string>): Req => ({
    verb: "create",
    resource: "pods",
    subresource: "eviction",
    namespace: "dev",
    name: "p",
    oldObject: { metadata: { name: "p", labels } },
    object: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p" } },
  });
  assert.equal(verdict(decideOn(engine, evict({ app: "db" }))), "deny p/keep-db");
  assert.equal(verdict(decideOn(engine, evict({ app: "web" }))), "allow p/writes");
});

test("ephemeral containers are checked against the pod rules on the resulting pod spec", () => {
  const engine = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      [
        // Ephemeral containers are in the built-in credentials category: the allow names them.
        "    - { name: writes, verbs: [update, patch], namespaces: ['*'], credentials: [ephemeral-containers], effect: allow }",
        "    - name: no-privileged",
        "      verbs: [create, update, patch]",
        "      resources: [pods]",
        "      when: has(object.spec) && has(object.spec.ephemeralContainers) && object.spec.ephemeralContainers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)",
        "      effect: deny",
      ].join("\n"),
    ),
  );
  const pod = (privileged: boolean) => ({
    metadata: { name: "p" },
    spec: {
      containers: [{ name: "c" }],
      ephemeralContainers: [{ name: "debug", securityContext: { privileged } }],
    },
  });
  const req = (privileged: boolean): Req => ({
    verb: "patch",
    resource: "pods",
    subresource: "ephemeralcontainers",
    namespace: "dev",
    name: "p",
    oldObject: { metadata: { name: "p" }, spec: { containers: [{ name: "c" }] } },
    object: pod(privileged),
  });
  assert.equal(verdict(decideOn(engine, req(true))), "deny p/no-privileged");
  assert.equal(verdict(decideOn(engine, req(false))), "allow p/writes");
});

test("names on a create match the name the body gives the object (a deny cannot be walked around by create)", () => {
  const engine = engineOf(
    policy(
      "p",
      "[{ group: agents }]",
      [
        "    - { name: writes, verbs: [create], resources: [configmaps], namespaces: ['*'], effect: allow }",
        "    - { name: keep-names, verbs: [create], resources: [configmaps], names: [keep-me], effect: deny }",
        "    - { name: only-mine, verbs: [create], resources: [secrets], names: ['mine-*'], effect: allow }",
      ].join("\n"),
    ),
  );
  const create = (resource: string, name: string): Req => ({
    verb: "create",
    resource,
    namespace: "dev",
    object: { metadata: { name } },
  });
  assert.equal(verdict(decideOn(engine, create("configmaps", "keep-me"))), "deny p/keep-names");
  assert.equal(verdict(decideOn(engine, create("configmaps", "other"))), "allow p/writes");
  assert.equal(verdict(decideOn(engine, create("secrets", "mine-1"))), "allow p/only-mine");
  assert.equal(verdict(decideOn(engine, create("secrets", "theirs"))), "deny default/default-deny");
});

test("a write on an object being deleted is compared even when its body names no finalizer (apply/PUT can drop them)", () => {
  const d = describeToRequest({
    identity: AGENT,
    request: {
      verb: "patch",
      resource: "configmaps",
      name: "x",
      namespace: "dev",
      object: { data: { a: "1" } },
    },
  });
  if (!d.ok) throw new Error(d.errors.join("; "));
  d.kube.oldObject = { metadata: { name: "x" } };
  assert.equal(effectNeedsObjects(d.kube), false);
  d.kube.oldObject = {
    metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["f"] },
  };
  assert.equal(effectNeedsObjects(d.kube), true);
});
