// A rule's `justification: { required, pattern }`: required when ANY matching allow or review rule requires it (so a
// second allow rule cannot get around it, as with rate limits), matched against the whole text, refused before a
// review; and patterns whose matching cost has no bound (ReDoS shapes) are refused when the policy loads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Decision } from "../../src/policy/decision.ts";
import type { PolicyEngine } from "../../src/policy/engine.ts";
import { compileJustificationPattern } from "../../src/policy/justification.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import { AGENT, engineOf, errorsOf, policy, type Req } from "./support.ts";

function decideWith(engine: PolicyEngine, request: Req, justification?: string): Decision {
  const d = describeToRequest({ identity: AGENT, request });
  if (!d.ok) throw new Error(d.errors.join("; "));
  const principal = justification === undefined ? d.principal : { ...d.principal, justification };
  return engine.decide(principal, d.kube);
}

const RULES = `    - name: prod-writes
      verbs: [create, update, patch, delete]
      namespaces: [prod]
      effect: review
      review: { approvers: { groups: [sre] } }
      justification: { required: true, pattern: "^(INC|CHG)-[0-9]+: .{10,}" }
    - name: writes-anywhere
      verbs: [create, update, patch, delete]
      namespaces: ["*"]
      effect: allow
    - name: scale-freely
      verbs: [patch]
      resources: [deployments/scale]
      namespaces: ["*"]
      effect: allow
      justification: { required: true }
    - name: reads
      verbs: [get, list]
      effect: allow`;

const engine = engineOf(policy("p", "[{ group: agents }]", RULES));
const del = { verb: "delete", resource: "deployments", apiGroup: "apps", namespace: "prod", name: "web" };

describe("justification requirements", () => {
  test("a required justification that is missing refuses the request, naming the rule, before any review", () => {
    const d = decideWith(engine, del);
    assert.equal(d.effect, "deny");
    assert.equal(d.effect === "deny" && d.justification, true);
    assert.equal(`${d.policy}/${d.rule}`, "p/prod-writes");
    assert.match(
      d.effect === "deny" ? d.message : "",
      /a justification is required and none was given \(with one, it is held for a review by policy p rule prod-writes\)/,
    );
  });

  test("a justification in the rule's form lets the request go on to its review", () => {
    const d = decideWith(engine, del, "INC-42: roll back web after the bad release");
    assert.equal(`${d.effect} ${d.policy}/${d.rule}`, "review p/prod-writes");
  });

  test("the pattern must match the WHOLE text: a prefix or a suffix that matches is not enough", () => {
    for (const bad of [
      "roll back INC-42: web after the release",
      "INC-42: short",
      "inc-42: roll back web please",
    ]) {
      const d = decideWith(engine, del, bad);
      assert.equal(d.effect, "deny", bad);
      assert.match(d.effect === "deny" ? d.message : "", /does not match the form the rule requires/);
    }
    // A pattern that anchors only its start is still matched whole (compiled as ^(?:…)$).
    const start = engineOf(
      policy(
        "q",
        "[{ group: agents }]",
        `    - name: w\n      verbs: [delete]\n      effect: allow\n      justification: { required: true, pattern: "INC-[0-9]+" }`,
      ),
    );
    assert.equal(decideWith(start, { ...del, namespace: "x" }, "INC-1").effect, "allow");
    assert.equal(decideWith(start, { ...del, namespace: "x" }, "INC-1 and more").effect, "deny");
  });

  test("another matching allow rule cannot get around a requirement: every matching rule's applies", () => {
    // writes-anywhere allows a staging scale without a justification; scale-freely (also matching) requires one.
    const scale = {
      verb: "patch",
      resource: "deployments",
      subresource: "scale",
      apiGroup: "apps",
      namespace: "staging",
      name: "web",
    };
    const d = decideWith(engine, scale);
    assert.equal(`${d.effect} ${d.policy}/${d.rule}`, "deny p/scale-freely");
    assert.match(
      d.effect === "deny" ? d.message : "",
      /\(with one, it is allowed by policy p rule writes-anywhere\)/,
    );
    assert.equal(decideWith(engine, scale, "load test").effect, "allow");
    // In prod, both requirements apply: the prod pattern too.
    const prod = { ...scale, namespace: "prod" };
    assert.equal(`${decideWith(engine, prod, "load test").rule}`, "prod-writes");
    assert.equal(decideWith(engine, prod, "CHG-7: scale up for the launch").effect, "review");
  });

  test("requests no requiring rule matches need none", () => {
    assert.equal(decideWith(engine, { ...del, namespace: "staging" }).effect, "allow");
    assert.equal(decideWith(engine, { verb: "list", resource: "pods", namespace: "prod" }).effect, "allow");
  });

  test("pattern only (required: false): a justification given must match; none at all is fine", () => {
    const e = engineOf(
      policy(
        "q",
        "[{ group: agents }]",
        `    - name: w\n      verbs: [delete]\n      effect: allow\n      justification: { pattern: "[A-Z]+-[0-9]+: .+" }`,
      ),
    );
    assert.equal(decideWith(e, del).effect, "allow");
    assert.equal(decideWith(e, del, "because").effect, "deny");
    assert.equal(decideWith(e, del, "OPS-1: because").effect, "allow");
  });
});

describe("justification patterns are checked when the policy loads", () => {
  const rule = (pattern: string) =>
    policy(
      "q",
      "[{ group: agents }]",
      `    - name: w\n      verbs: [delete]\n      effect: allow\n      justification: { required: true, pattern: ${JSON.stringify(pattern)} }`,
    );

  test("exponential shapes (nested quantifiers, quantified alternations), backreferences and lookaround are refused", () => {
    for (const [p, why] of [
      ["(a+)+$", /quantified group contains a quantifier or an alternation/],
      ["(a|ab)*c", /quantified group contains a quantifier or an alternation/],
      ["(\\w+\\s?)*$", /quantified group/],
      ["(?:x*)*", /quantified group/],
      ["(a)\\1", /backreferences/],
      ["(?<n>a)\\k<n>", /backreferences/],
      ["(?=a).*", /lookahead and lookbehind/],
      ["(?<!a)b", /lookahead and lookbehind/],
    ] as const) {
      const errors = errorsOf(rule(p)).join("\n");
      assert.match(errors, why, p);
      assert.match(errors, /justification/, p);
    }
  });

  test("polynomial shapes past the bound are refused: three unbounded quantifiers, many wide ranges", () => {
    assert.match(errorsOf(rule(".*.*.*x")).join("\n"), /more than 1,000,000 ways/);
    assert.match(errorsOf(rule("\\w+\\s?\\w+\\s?\\w+x")).join("\n"), /more than 1,000,000 ways/);
    assert.match(
      errorsOf(rule("[a-z]{0,200}[a-z]{0,200}[a-z]{0,200}")).join("\n"),
      /more than 1,000,000 ways/,
    );
  });

  test("an invalid expression, a deny rule with a justification, and an empty requirement are refused", () => {
    assert.match(errorsOf(rule("([a-z]")).join("\n"), /not a valid regular expression/);
    assert.match(
      errorsOf(
        policy(
          "q",
          "[{ group: agents }]",
          `    - name: w\n      verbs: [delete]\n      effect: deny\n      justification: { required: true }`,
        ),
      ).join("\n"),
      /a deny rule refuses whatever the reason/,
    );
    assert.match(
      errorsOf(
        policy(
          "q",
          "[{ group: agents }]",
          `    - name: w\n      verbs: [delete]\n      effect: allow\n      justification: { required: false }`,
        ),
      ).join("\n"),
      /say required: true, or give a pattern/,
    );
  });

  test("the patterns people write pass, and every accepted one matches 500 hostile characters quickly", () => {
    const accepted = [
      "^(INC|CHG)-[0-9]+: .{10,}",
      "[A-Z]+-[0-9]+: .+",
      "(?:INC|CHG|SR)-\\d{1,8}: \\p{L}.{9,}",
      "[a-z]{0,20}[a-z]{0,20}[a-z]{0,20}x",
      ".*.*x",
      "[a-z]*[a-z]*-",
      "[A-Z]+-[0-9]+: [a-z]+ .+",
    ];
    for (const p of accepted) {
      const c = compileJustificationPattern(p);
      assert.equal(c.ok, true, `${p}: ${c.ok ? "" : c.why}`);
      if (!c.ok) continue;
      for (const text of [
        "a".repeat(500),
        "INC-1: ".padEnd(500, "a"),
        "a ".repeat(250),
        "1".repeat(499) + "!",
      ]) {
        const t = performance.now();
        c.regex.test(text);
        assert.ok(
          performance.now() - t < 100,
          `${p} on ${text.slice(0, 10)}… took ${performance.now() - t} ms`,
        );
      }
    }
  });
});
