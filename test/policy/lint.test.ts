// `policy lint` warns about each statically visible trap (issue 13 §6), one warning id per trap, and `policy test`
// explains which rule matched and, for every other rule, the first reason it did not.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { explain } from "../../src/policy/explain.ts";
import { LINT_IDS, lintSet } from "../../src/policy/lint.ts";
import { compileSources } from "../../src/policy/load.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { airlock } from "../helpers/cli.ts";
import { AGENT, policy } from "./support.ts";

function setOf(rules: string, subjects = "[{ group: agents }]") {
  const loaded = compileSources([{ file: "t.yaml", text: policy("p", subjects, rules), managed: false }]);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  return loaded.set;
}

const idsOf = (rules: string, subjects?: string) => lintSet(setOf(rules, subjects)).map((w) => w.id);

const CASES: [string, string, string][] = [
  [
    "read-verbs-split",
    "    - { name: r, verbs: [list], resources: [secrets], namespaces: [prod], effect: deny }",
    "add get, watch",
  ],
  [
    "label-selector-on-write",
    "    - { name: r, verbs: [patch], resources: [deployments], labelSelector: { matchLabels: { owner: agent } }, effect: allow }",
    "stored object",
  ],
  [
    "names-without-name",
    "    - { name: r, verbs: [create], resources: [configmaps], names: [x], effect: deny }",
    "object.metadata.name",
  ],
  [
    "names-without-name",
    "    - { name: r, verbs: [deletecollection], resources: [configmaps], names: [x], effect: deny }",
    "each item",
  ],
  [
    "namespace-deny-on-list",
    "    - { name: r, verbs: [list, watch], resources: [secrets], namespaces: [prod], effect: deny }",
    "left out, item by item",
  ],
  [
    "pods-subresources",
    "    - { name: r, verbs: ['*'], resources: [pods], namespaces: [dev], effect: allow }",
    "pods/ephemeralcontainers",
  ],
  [
    "pods-subresources",
    "    - { name: r, verbs: [create], resources: [pods], effect: deny }",
    "pods/ephemeralcontainers is changed with patch/update",
  ],
  [
    "scale-without-wildcard",
    "    - { name: r, verbs: [patch], resources: [deployments/scale], when: 'object.spec.replicas == 0', effect: deny }",
    "replicationcontrollers/scale",
  ],
  [
    "wildcard-namespaces-on-write",
    "    - { name: r, verbs: [patch], namespaces: ['*'], effect: allow }",
    "Namespace objects",
  ],
  ["no-resources", "    - { name: r, verbs: [get], effect: allow, mask: default }", "only discovery"],
  [
    "unmasked-secret-reads",
    "    - { name: r, verbs: [get, list], resources: [secrets], effect: allow }",
    "mask: default",
  ],
  [
    "exec-argv-only",
    "    - { name: r, verbs: [exec], exec: { commandMatches: [rm] }, effect: deny }",
    "stdin: true",
  ],
];

test("each trap has a warning with its id and a message saying what to change", () => {
  for (const [id, rules, says] of CASES) {
    const warnings = lintSet(setOf(rules)).filter((w) => w.id === id);
    assert.equal(warnings.length, 1, `${id}: ${rules}`);
    const w = warnings[0];
    assert.ok(w);
    assert.equal(w.policy, "p");
    assert.equal(w.rule, "r");
    assert.ok(w.message.includes(says), `${id}: "${w.message}" should say "${says}"`);
  }
  assert.deepEqual(new Set(CASES.map(([id]) => id)), new Set(LINT_IDS), "every id has a case");
});

test("rules that say what they mean get no warning", () => {
  assert.deepEqual(
    idsOf(
      [
        "    - { name: a, verbs: [get, list, watch], resources: [pods, deployments], effect: allow, mask: default }",
        "    - { name: b, verbs: [patch], resources: [deployments, '*/scale'], when: 'object.spec.replicas == 0', effect: deny }",
        "    - { name: c, verbs: [get], nonResourceURLs: ['/version'], effect: allow }",
        "    - { name: d, verbs: [delete], resources: [configmaps], names: [keep-me], effect: deny }",
        "    - { name: e, verbs: [exec], resources: [pods/exec], exec: { stdin: true }, effect: deny }",
        "    - { name: f, verbs: ['*'], resources: [pods, pods/*], namespaces: [dev], effect: allow }",
      ].join("\n"),
    ),
    [],
  );
  // Unmasked reads are a choice in a policy about humans only.
  assert.deepEqual(
    idsOf(
      "    - { name: r, verbs: [get], resources: [secrets], effect: allow }",
      "[{ group: sre, kind: human }]",
    ),
    [],
  );
});

test("policy test's explanation names the matching rule and each other rule's first failing field", () => {
  const set = setOf(
    [
      "    - { name: read, verbs: [get, list], resources: [pods], effect: allow }",
      "    - { name: other-verb, verbs: [delete], resources: [pods], effect: deny }",
      "    - { name: other-ns, verbs: [get], resources: [pods], namespaces: [dev], effect: deny }",
      "    - { name: other-name, verbs: [get], resources: [pods], names: [db-*], effect: deny }",
      "    - { name: other-res, verbs: [get], resources: [secrets], effect: deny }",
      "    - { name: labelled, verbs: [get], resources: [pods], labelSelector: { matchLabels: { x: y } }, effect: deny }",
      "    - { name: cond, verbs: [get], resources: [pods], when: 'request.name == \"nope\"', effect: deny }",
      "    - { name: someone, subjects: [{ identity: bob }], verbs: [get], effect: deny }",
      "    - { name: ns-object, verbs: [patch], namespaces: ['*'], effect: allow }",
    ].join("\n"),
  );
  const d = describeToRequest({
    identity: AGENT,
    request: { verb: "get", resource: "pods", namespace: "prod", name: "web-1" },
  });
  assert.ok(d.ok);
  const by = new Map(
    explain(set, { principal: d.principal, kube: d.kube, now: Date.now() }).map((r) => [r.rule, r]),
  );
  assert.equal(by.get("read")?.matched, true);
  assert.equal(by.get("other-verb")?.reason, "verb: get is not in [delete]");
  assert.equal(by.get("other-ns")?.reason, 'namespace: "prod" is not in [dev]');
  assert.equal(by.get("other-name")?.reason, 'name: "web-1" is not in [db-*]');
  assert.match(by.get("other-res")?.reason ?? "", /^resource: "pods" is not in \[secrets\]/);
  assert.match(by.get("labelled")?.reason ?? "", /^label:/);
  assert.equal(by.get("cond")?.reason, "condition: `when` is false");
  assert.match(by.get("someone")?.reason ?? "", /^subject:/);
  const ns = describeToRequest({
    identity: AGENT,
    request: { verb: "patch", resource: "namespaces", name: "default" },
  });
  assert.ok(ns.ok);
  const nsWhy = explain(set, { principal: ns.principal, kube: ns.kube, now: Date.now() }).find(
    (r) => r.rule === "ns-object",
  );
  assert.match(nsWhy?.reason ?? "", /cluster-scoped for an allow rule/);
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-lint-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("airlock policy lint prints each warning with its id and exits 0; policy test prints why each rule did not match", async () => {
  const file = join(dir, "p.yaml");
  await writeFile(
    file,
    policy(
      "p",
      "[{ group: agents }]",
      CASES.map(([, r], i) => r.replace("name: r,", `name: r${i},`)).join("\n"),
    ),
  );
  const lint = await airlock(["policy", "lint", file], { HOME: dir });
  assert.equal(lint.code, 0, lint.stderr);
  assert.match(lint.stdout, /^ok: 1 policies, 12 rules, .*; \d+ warning\(s\):$/m);
  for (const id of LINT_IDS)
    assert.match(lint.stdout, new RegExp(`^warning \\[${id}\\] .*p\\.yaml: policy p rule r\\d+: `, "m"));

  const req = join(dir, "req.yaml");
  await writeFile(
    req,
    "identity: { name: demo-agent, groups: [agents] }\nrequest: { verb: get, resource: secrets, namespace: prod, name: db }\n",
  );
  const t = await airlock(["policy", "test", file, "--request", req], { HOME: dir });
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^decision: allow$/m);
  assert.match(t.stdout, /^ {2}p\/r0 \(deny\): no match — verb: get is not in \[list\]$/m);
  assert.match(t.stdout, /^ {2}p\/r10 \(allow\): matched$/m);
  assert.match(t.stdout, /^ {2}p\/r1 \(allow\): no match — verb: get is not in \[patch\]$/m);
});
