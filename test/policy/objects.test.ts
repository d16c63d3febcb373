// Issue 13 §2/§4/§5 and rate limits, at the engine: per-object decisions for lists and deletecollection, Namespace
// objects as cluster-scoped for allow rules, non-resource URLs only when named, subresources, and rate limits that
// count effects (deletecollection objects, evictions).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Decision } from "../../src/policy/decision.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { AGENT, decide, engineOf, policy, type Req, verdict } from "./support.ts";

function described(request: Req) {
  const d = describeToRequest({ identity: AGENT, request });
  if (!d.ok) throw new Error(d.errors.join("; "));
  return d;
}

const SUBJECTS = "[{ group: agents }]";

test("allow namespaces: ['*'] does not match Namespace objects (incl. status, finalize); a rule naming namespaces does", () => {
  const engine = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: writes, verbs: [update, patch], namespaces: ['*'], effect: allow }",
        "    - { name: dev-namespace, verbs: [patch], resources: [namespaces], names: [dev], effect: allow }",
      ].join("\n"),
    ),
  );
  for (const sub of [undefined, "status", "finalize"]) {
    const req: Req = {
      verb: "update",
      resource: "namespaces",
      name: "default",
      ...(sub ? { subresource: sub } : {}),
    };
    assert.equal(verdict(decide(engine, req)), "deny default/default-deny", `namespaces/${sub ?? ""}`);
  }
  assert.equal(
    verdict(decide(engine, { verb: "update", resource: "configmaps", namespace: "default", name: "x" })),
    "allow p/writes",
  );
  assert.equal(
    verdict(decide(engine, { verb: "patch", resource: "namespaces", name: "dev" })),
    "allow p/dev-namespace",
  );
});

test("deny and review rules limited to a namespace still cover that Namespace object itself", () => {
  const engine = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: everything, verbs: ['*'], effect: allow }",
        "    - { name: not-prod, verbs: [patch, delete], namespaces: [prod], effect: deny }",
      ].join("\n"),
    ),
  );
  assert.equal(
    verdict(decide(engine, { verb: "patch", resource: "namespaces", name: "prod" })),
    "deny p/not-prod",
  );
  assert.equal(
    verdict(decide(engine, { verb: "patch", resource: "namespaces", name: "dev" })),
    "allow p/everything",
  );
});

test("an allow rule without nonResourceURLs matches discovery only; /logs, /debug/pprof, /metrics need nonResourceURLs", () => {
  const engine = engineOf(
    policy("p", SUBJECTS, "    - { name: read-everything, verbs: [get, list, watch], effect: allow }"),
  );
  for (const path of [
    "/api",
    "/api/v1",
    "/apis",
    "/apis/apps/v1",
    "/version",
    "/openapi/v3",
    "/openapi/v3/apis/apps/v1",
    "/openapi/v2",
    "/healthz",
    "/readyz",
    "/livez",
  ]) {
    assert.equal(decide(engine, { verb: "get", path }).effect, "allow", path);
  }
  for (const path of [
    "/logs",
    "/logs/kube-apiserver.log",
    "/debug/pprof",
    "/debug/pprof/profile",
    "/metrics",
    "/healthz/etcd",
    "/versionx",
  ]) {
    assert.equal(verdict(decide(engine, { verb: "get", path })), "deny default/default-deny", path);
  }
  const named = engineOf(
    policy(
      "p",
      SUBJECTS,
      "    - { name: logs, verbs: [get], nonResourceURLs: ['/logs', '/logs/*'], effect: allow }",
    ),
  );
  assert.equal(verdict(decide(named, { verb: "get", path: "/logs/x.log" })), "allow p/logs");
});

test("subresources: an allow on pods is the pod only (exec when the verb names it); a deny on pods covers every subresource", () => {
  const allow = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: pods-any-verb, verbs: ['*'], resources: [pods], effect: allow }",
        "    - { name: exec, verbs: [exec], resources: [pods], effect: allow }",
      ].join("\n"),
    ),
  );
  const pod = { resource: "pods", namespace: "dev", name: "w" };
  assert.equal(verdict(decide(allow, { verb: "patch", ...pod })), "allow p/pods-any-verb");
  assert.equal(verdict(decide(allow, { verb: "exec", ...pod, exec: { command: ["ls"] } })), "allow p/exec");
  assert.equal(verdict(decide(allow, { verb: "attach", ...pod })), "deny default/default-deny");
  for (const [verb, sub] of [
    ["patch", "ephemeralcontainers"],
    ["create", "eviction"],
    ["patch", "status"],
  ] as const) {
    assert.equal(
      verdict(decide(allow, { verb, ...pod, subresource: sub })),
      "deny default/default-deny",
      sub,
    );
  }
  const deny = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: everything, verbs: ['*'], effect: allow }",
        "    - { name: no-pod-writes, verbs: [create, patch, update], resources: [pods], effect: deny }",
      ].join("\n"),
    ),
  );
  for (const [verb, sub] of [
    ["patch", "ephemeralcontainers"],
    ["create", "eviction"],
    ["update", "status"],
  ] as const) {
    assert.equal(verdict(decide(deny, { verb, ...pod, subresource: sub })), "deny p/no-pod-writes", sub);
  }
});

test("the demo's scale rule covers replicationcontrollers/scale", async () => {
  const { readFile } = await import("node:fs/promises");
  const demo = await readFile(new URL("../../examples/policies/demo.yaml", import.meta.url), "utf8");
  const engine = engineOf(demo);
  for (const [group, resource] of [
    ["", "replicationcontrollers"],
    ["apps", "deployments"],
    ["apps", "statefulsets"],
  ] as const) {
    const d = decide(engine, {
      verb: "patch",
      apiGroup: group,
      resource,
      subresource: "scale",
      namespace: "staging",
      name: "x",
      object: { spec: { replicas: 0 } },
    });
    assert.equal(verdict(d), "deny demo/no-scale-to-zero", resource);
  }
  const ns = decide(engine, { verb: "patch", resource: "namespaces", name: "default" });
  assert.equal(
    verdict(ns),
    "deny default/default-deny",
    "writes-outside-prod does not cover namespace default",
  );
  for (const path of ["/logs", "/debug/pprof"]) {
    assert.equal(verdict(decide(engine, { verb: "get", path })), "deny default/default-deny", path);
  }
});

const LIST_POLICY = policy(
  "p",
  SUBJECTS,
  [
    "    - { name: read, verbs: [get, list, watch], effect: allow }",
    "    - { name: no-prod-secrets, verbs: [list, watch], resources: [secrets], namespaces: [prod], effect: deny }",
    "    - { name: hide-x, verbs: [list], resources: [secrets], names: [x], effect: deny }",
    "    - name: hide-labelled",
    "      verbs: [list]",
    "      resources: [secrets]",
    "      labelSelector: { matchLabels: { hidden: 'yes' } }",
    "      effect: deny",
    "    - { name: masked-team, verbs: [list], resources: [secrets], namespaces: [team], effect: allow, mask: default }",
  ].join("\n"),
);

const secret = (namespace: string, name: string, labels: Record<string, string> = {}) => ({
  kind: "Secret",
  metadata: { namespace, name, labels },
});

test("the item filter decides each list item as the same request on that object", () => {
  const engine = engineOf(LIST_POLICY);
  const { principal, kube } = described({ verb: "list", resource: "secrets" });
  const decision = engine.decide(principal, kube);
  assert.equal(verdict(decision), "allow p/read");
  const keep = engine.itemFilter(principal, kube, decision);
  assert.ok(keep, "rules tell items apart, so there is a filter");
  assert.deepEqual(keep(secret("dev", "a")), { keep: true });
  assert.equal(keep(secret("prod", "a")).keep, false, "namespace");
  assert.equal(keep(secret("dev", "x")).keep, false, "name");
  assert.equal(keep(secret("dev", "b", { hidden: "yes" })).keep, false, "stored labels");
  assert.equal(keep(secret("team", "c")).keep, false, "an item needing another masking profile is not shown");
  assert.equal(keep({ kind: "Secret" }).keep, false, "no metadata: not kept");
  assert.equal(
    keep({ metadata: { name: "a", namespace: "dev", labels: { l: 1 } } }).keep,
    false,
    "bad labels",
  );
});

test("listing an object reads it: a deny on get (by name, namespace or label) hides the item from list and watch", () => {
  const engine = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: read, verbs: [list, watch], effect: allow }",
        "    - { name: no-get-x, verbs: [get], resources: [secrets], names: [x], effect: deny }",
        "    - { name: get-held, verbs: [get], resources: [secrets], namespaces: [held], effect: review, review: { approvers: { groups: [sre] } } }",
      ].join("\n"),
    ),
  );
  for (const verb of ["list", "watch"] as const) {
    const { principal, kube } = described({ verb, resource: "secrets" });
    const keep = engine.itemFilter(principal, kube, engine.decide(principal, kube));
    assert.ok(keep, verb);
    assert.equal(keep(secret("dev", "x")).keep, false, `${verb}: get denied`);
    assert.equal(keep(secret("held", "y")).keep, false, `${verb}: get needs review`);
    assert.equal(keep(secret("dev", "y")).keep, true, `${verb}: no allow for get is needed`);
  }
});

test("no filter when no rule can tell items apart; none for a denied request", () => {
  const plain = engineOf(
    policy("p", SUBJECTS, "    - { name: read, verbs: [list], resources: [secrets], effect: allow }"),
  );
  const { principal, kube } = described({ verb: "list", resource: "secrets" });
  assert.equal(plain.itemFilter(principal, kube, plain.decide(principal, kube)), undefined);
  const engine = engineOf(LIST_POLICY);
  const denied: Decision = { effect: "deny", policy: "p", rule: "r", message: "no" };
  assert.equal(engine.itemFilter(principal, kube, denied), undefined);
});

test("deletecollection: every object is decided (deletecollection and delete rules), one deny refuses all", () => {
  const engine = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: writes, verbs: [delete, deletecollection], namespaces: ['*'], effect: allow }",
        "    - { name: keep, verbs: [deletecollection], names: [keep-me], effect: deny }",
        "    - name: protected",
        "      verbs: [delete]",
        "      labelSelector: { matchLabels: { protected: 'true' } }",
        "      effect: deny",
        "    - { name: held, verbs: [delete], names: [held], effect: review, review: { approvers: { groups: [sre] } } }",
      ].join("\n"),
    ),
  );
  const { principal, kube } = described({
    verb: "deletecollection",
    resource: "configmaps",
    namespace: "dev",
  });
  const d = engine.decide(principal, kube);
  assert.equal(verdict(d), "allow p/writes");
  const facts = (name: string, labels: Record<string, string> = {}) => ({ namespace: "dev", name, labels });
  assert.equal(engine.decideCollection(principal, kube, d, [facts("a"), facts("b")]).ok, true);
  const keep = engine.decideCollection(principal, kube, d, [facts("a"), facts("keep-me")]);
  assert.equal(keep.ok, false);
  assert.match(
    keep.decision.effect === "deny" ? keep.decision.message : "",
    /object "keep-me" in namespace "dev"/,
  );
  const prot = engine.decideCollection(principal, kube, d, [facts("p", { protected: "true" })]);
  assert.equal(verdict(prot.decision), "deny p/protected");
  const held = engine.decideCollection(principal, kube, d, [facts("held")]);
  assert.equal(held.ok, false);
  assert.match(
    held.decision.effect === "deny" ? held.decision.message : "",
    /needs a review .*delete it on its own/,
  );
});

test("rate limits count a deletecollection's objects (all or nothing) and an eviction as a delete of its pod", () => {
  let now = 1_000_000;
  const engine = engineOf(
    policy(
      "p",
      SUBJECTS,
      [
        "    - { name: writes, verbs: [create, delete, deletecollection], namespaces: ['*'], effect: allow }",
        "    - { name: few-deletes, verbs: [delete], resources: [pods, configmaps], namespaces: ['*'], effect: allow, rateLimit: { requests: 3, per: 1m } }",
      ].join("\n"),
    ),
    () => now,
  );
  const { principal, kube } = described({
    verb: "deletecollection",
    resource: "configmaps",
    namespace: "dev",
  });
  const d = engine.decide(principal, kube);
  const objs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ namespace: "dev", name: `o${i}`, labels: {} }));
  assert.match(
    JSON.stringify(engine.decideCollection(principal, kube, d, objs(4)).decision),
    /counts 4 against a limit of 3/,
  );
  assert.equal(engine.decideCollection(principal, kube, d, objs(2)).ok, true);
  const over = engine.decideCollection(principal, kube, d, objs(2));
  assert.equal(over.ok, false);
  assert.ok(over.decision.effect === "deny" && over.decision.retryAfterSeconds, "429 with Retry-After");
  // One left: an eviction counts it (the pod delete rule limits evictions even though it names pods, not pods/eviction).
  const evict = described({
    verb: "create",
    resource: "pods",
    subresource: "eviction",
    namespace: "dev",
    name: "w",
  });
  assert.equal(verdict(engine.decide(evict.principal, evict.kube)), "allow p/writes");
  const again = engine.decide(evict.principal, evict.kube);
  assert.equal(again.effect === "deny" && again.rule, "few-deletes");
  now += 61_000;
  assert.equal(engine.decide(evict.principal, evict.kube).effect, "allow");
});
