// The rule index (src/policy/evaluate.ts RuleIndex) only ever skips rules that could not match: for generated
// policies and requests, evaluating through the index decides exactly as evaluating every rule of the set in order
// (a linear scan over the rules of the request's verb). Property-based (fast-check) with a fixed seed, so a failure replays with its shrunk example.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { evaluate, RuleIndex } from "../../src/policy/evaluate.ts";
import { compileSources } from "../../src/policy/load.ts";
import { describeToRequest } from "../../src/policy/request.ts";
import type { CompiledRule, LoadedSet } from "../../src/policy/types.ts";

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "exec"];
const RESOURCES = [
  "pods",
  "configmaps",
  "secrets",
  "deployments",
  "namespaces",
  "*",
  "*/scale",
  "*/status",
  "pods/exec",
  "pods/log",
  "deployments/scale",
];
const GROUPS = ["", "apps"];
const NAMESPACES = ["prod", "staging", "*"];
const NAMES = ["web-*", "api", "*"];

const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;

const rule = fc.record(
  {
    verbs: fc.uniqueArray(fc.constantFrom("*", ...VERBS), { minLength: 1, maxLength: 3 }),
    resources: fc.option(fc.uniqueArray(fc.constantFrom(...RESOURCES), { minLength: 1, maxLength: 3 })),
    apiGroups: fc.option(fc.uniqueArray(fc.constantFrom(...GROUPS), { minLength: 1, maxLength: 2 })),
    namespaces: fc.option(fc.uniqueArray(fc.constantFrom(...NAMESPACES), { minLength: 1, maxLength: 2 })),
    names: fc.option(fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 2 })),
    effect: fc.constantFrom("allow", "deny", "review"),
  },
  { requiredKeys: ["verbs", "effect"] },
);

const policySet = fc.array(
  fc.record({
    group: fc.constantFrom("agents", "sre"),
    rules: fc.array(rule, { minLength: 1, maxLength: 6 }),
  }),
  { minLength: 1, maxLength: 3 },
);

type Policies = typeof policySet extends fc.Arbitrary<infer T> ? T : never;
function yamlOf(policies: Policies): string {
  return policies
    .map(
      (p, i) => `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: p${i} }
spec:
  subjects: [{ group: ${p.group} }]
  rules:
${p.rules
  .map(
    (r, j) => `    - name: r${j}
      verbs: ${list(r.verbs)}
${r.resources ? `      resources: ${list(r.resources)}\n` : ""}${r.apiGroups ? `      apiGroups: ${list(r.apiGroups)}\n` : ""}${r.namespaces ? `      namespaces: ${list(r.namespaces)}\n` : ""}${r.names ? `      names: ${list(r.names)}\n` : ""}      effect: ${r.effect}
${r.effect === "review" ? "      review: { approvers: { groups: [sre] } }\n" : ""}`,
  )
  .join("")}`,
    )
    .join("---\n");
}

const request = fc.record({
  verb: fc.constantFrom(...VERBS),
  resource: fc.constantFrom("pods", "configmaps", "secrets", "deployments", "namespaces"),
  subresource: fc.constantFrom("", "", "status", "scale", "log"),
  namespace: fc.constantFrom("prod", "staging", "default"),
  name: fc.constantFrom("web-1", "api", "db"),
});

/**
 * The same set without the resource index: every rule whose verbs name the action (or `*`), in set order. (A rule's
 * verbs are checked only here, by the index's first level; resources, groups, namespaces and names are checked by
 * the rule's own matchers, which the resource buckets must never skip.)
 */
function linearScan(set: LoadedSet): RuleIndex {
  const all: CompiledRule[] = set.policies.flatMap((p) => [...p.rules]).sort((a, b) => a.order - b.order);
  return {
    set,
    candidates: (action: string) => all.filter((r) => r.verbs.includes(action) || r.verbs.includes("*")),
  } as unknown as RuleIndex;
}

test("the rule index decides every generated request exactly as a linear scan of the rules", () => {
  let compared = 0;
  let matchedSomething = 0;
  fc.assert(
    fc.property(policySet, fc.array(request, { minLength: 1, maxLength: 12 }), (policies, requests) => {
      const loaded = compileSources([{ file: "gen.yaml", text: yamlOf(policies), managed: false }]);
      if (!loaded.ok)
        throw new Error(`generated policy refused: ${loaded.errors.join("; ")}\n${yamlOf(policies)}`);
      const indexed = new RuleIndex(loaded.set);
      const linear = linearScan(loaded.set);
      for (const r of requests) {
        const isGroup = r.resource === "deployments";
        const sub = r.verb === "exec" ? "" : r.subresource;
        const described = describeToRequest({
          identity: { name: "a", kind: "agent", groups: ["agents"] },
          request: {
            verb: r.verb,
            resource: r.verb === "exec" ? "pods" : r.resource,
            ...(isGroup && r.verb !== "exec" ? { apiGroup: "apps" } : {}),
            ...(sub ? { subresource: sub } : {}),
            ...(r.resource === "namespaces" ? {} : { namespace: r.namespace }),
            ...(r.verb === "exec" ? { query: { command: "ls" } } : {}),
            name: r.name,
          },
        });
        if (!described.ok) continue;
        const input = { principal: described.principal, kube: described.kube, now: 0 };
        const a = evaluate(indexed, input).decision;
        const b = evaluate(linear, input).decision;
        assert.deepEqual(a, b, `${JSON.stringify(r)}\n${yamlOf(policies)}`);
        compared++;
        if (a.policy !== "default") matchedSomething++;
      }
    }),
    { numRuns: 150, seed: 18 },
  );
  // The property is only worth something if it compared many requests and rules did match.
  assert.ok(compared > 500, `compared ${compared}`);
  assert.ok(matchedSomething > compared / 5, `${matchedSomething} of ${compared} matched a rule`);
});
