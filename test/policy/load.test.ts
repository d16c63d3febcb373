import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadPolicies } from "../../src/policy/load.ts";
import { errorsOf, policy } from "./support.ts";

test("every error is reported at once, naming file, document and field", () => {
  const bad = `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: ok }
spec:
  subjects: [{ group: agents }]
  rules: [{ name: fine, verbs: [get], effect: allow }]
---
apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: broken }
spec:
  subjects: [{ group: agents }]
  colour: red
  rules:
    - name: a
      verbs: [get, delet]
      effect: allow
    - name: b
      verbs: [get]
      effect: permit
    - name: c
      verbs: [get]
      when: "request.verb =="
      effect: deny
    - name: d
      verbs: [get]
      when: "requests.verb == 'get'"
      effect: deny
    - name: e
      verbs: [exec]
      exec: { commandRegex: "(" }
      effect: deny
    - name: f
      verbs: [delete]
      effect: review
    - name: a
      verbs: [get]
      effect: deny
      rateLimit: { requests: 1, per: soon }
`;
  const errors = errorsOf(bad, "policies/agents.yaml");
  const at = 'policies/agents.yaml: document 2 (Policy "broken"): ';
  const expect = [
    `${at}spec: Unrecognized key: "colour"`,
    `${at}spec.rules[0].verbs[1]: unknown verb "delet"`,
    `${at}spec.rules[1].effect: unknown effect "permit"`,
    `${at}spec.rules[5].review: a review rule needs review`,
    `${at}spec.rules[6].rateLimit.per: must be a duration`,
  ];
  for (const e of expect)
    assert.ok(
      errors.some((x) => x.startsWith(e)),
      `missing ${e} in\n${errors.join("\n")}`,
    );
  assert.ok(
    errors.every((e) => e.startsWith(at)),
    "document 1 is fine and not blamed",
  );
  // CEL and regex errors are only found once the document's shape is valid: fix the shape, see them all.
  const shaped = bad
    .replace("  colour: red\n", "")
    .replace("delet]", "delete]")
    .replace("effect: permit", "effect: allow")
    .replace("      effect: review\n", "      effect: deny\n")
    .replace(
      "    - name: a\n      verbs: [get]\n      effect: deny\n      rateLimit: { requests: 1, per: soon }\n",
      "",
    );
  const second = errorsOf(shaped, "policies/agents.yaml");
  assert.equal(second.length, 3, second.join("\n"));
  assert.match(second[0] ?? "", /spec\.rules\[2\]\.when: CEL does not parse/);
  assert.match(
    second[1] ?? "",
    /spec\.rules\[3\]\.when: CEL names unknown variable requests; available: request, object, oldObject, identity, time/,
  );
  assert.match(second[2] ?? "", /spec\.rules\[4\]\.exec\.commandRegex: not a regular expression/);
});

test("YAML syntax errors, unknown kinds and duplicate names are errors with positions", () => {
  assert.match(errorsOf("a: [\n")[0] ?? "", /^test\.yaml: document 1: line \d+, column \d+: /);
  assert.match(
    errorsOf("apiVersion: airlock.dev/v1alpha1\nkind: Role\n")[0] ?? "",
    /document 1 \(Role\): kind: unknown kind "Role"/,
  );
  const dup = policy(
    "d",
    "[{ group: a }]",
    "    - { name: r, verbs: [get], effect: allow }\n    - { name: r, verbs: [list], effect: allow }",
  );
  assert.match(errorsOf(dup)[0] ?? "", /spec\.rules\[1\]\.name: duplicate rule name "r" \(also rules\[0\]\)/);
  const p = policy("twice", "[{ group: a }]", "    - { name: r, verbs: [get], effect: allow }");
  assert.match(
    errorsOf(`${p}---\n${p}`)[0] ?? "",
    /document 2 \(Policy "twice"\): metadata\.name: policy already defined in test\.yaml document 1/,
  );
});

test("directories load their YAML files in name order, multi-document, with MaskingProfiles passed through", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-policy-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, "b.yaml"),
    policy("bee", "[{ group: a }]", "    - { name: r, verbs: [get], effect: allow }"),
  );
  await writeFile(
    join(dir, "a.yml"),
    `${policy("ay", "[{ group: a }]", "    - { name: r, verbs: [get], effect: allow, mask: strict }")}---\napiVersion: airlock.dev/v1alpha1\nkind: MaskingProfile\nmetadata: { name: strict }\nspec: { anything: [1, 2] }\n---\n`,
  );
  await writeFile(join(dir, ".hidden.yaml"), "not: [valid");
  await writeFile(join(dir, "notes.txt"), "ignored");
  const loaded = await loadPolicies({ paths: [dir] });
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("\n"));
  assert.deepEqual(
    loaded.set.policies.map((p) => `${p.name}@${p.source.file.slice(dir.length + 1)}#${p.source.index}`),
    ["ay@a.yml#1", "bee@b.yaml#1"],
  );
  assert.deepEqual(
    loaded.set.maskingProfiles.map((m) => [m.kind, m.metadata.name, m.spec, m.source.index]),
    [["MaskingProfile", "strict", { anything: [1, 2] }, 2]],
  );
  const missing = await loadPolicies({ paths: [join(dir, "nope.yaml")] });
  assert.ok(!missing.ok && /nope\.yaml: cannot read \(ENOENT\)/.test(missing.errors[0] ?? ""));
});
