import assert from "node:assert/strict";
import { test } from "node:test";
import { AGENT, decide, engineOf, policy, type Req } from "./support.ts";

function effectOf(
  effect: string,
  when: string,
  request: Req,
  at = Date.parse("2026-03-02T10:30:00Z"),
): string {
  const extra = effect === "review" ? "\n      review: { approvers: { groups: [sre] } }" : "";
  const rules = `    - name: r\n      verbs: ["*"]\n      when: ${JSON.stringify(when)}\n      effect: ${effect}${extra}\n    - name: fallback\n      verbs: ["*"]\n      effect: allow`;
  const engine = engineOf(policy("p", "[{ identity: '*' }]", rules), () => at);
  const d = decide(engine, request);
  return d.rule === "r" ? effect : d.rule === "fallback" ? "fallback" : d.rule;
}

const scale0: Req = {
  verb: "patch",
  apiGroup: "apps",
  resource: "deployments",
  subresource: "scale",
  namespace: "d",
  name: "w",
  object: { spec: { replicas: 0 } },
};
const exec = (...command: string[]): Req => ({
  verb: "exec",
  resource: "pods",
  namespace: "d",
  name: "w",
  exec: { command },
});

test("CEL conditions see the body, argv, identity, query and time", () => {
  const cases: [string, Req, string][] = [
    ["object.spec.replicas == 0", scale0, "deny"],
    [
      "has(object.spec) && object.spec.replicas == 0",
      { ...scale0, object: { spec: { replicas: 3 } } },
      "fallback",
    ],
    ["object == null", { verb: "get", resource: "pods", namespace: "d", name: "w" }, "deny"],
    ["request.exec.command.exists(a, a.matches('^(rm|mkfs)$'))", exec("rm", "-rf", "/"), "deny"],
    ["request.exec.command.exists(a, a.matches('^(rm|mkfs)$'))", exec("sh", "-c", "rm -rf /"), "fallback"],
    ["request.exec.programs.exists(p, p == 'rm')", exec("sh", "-c", "rm -rf /"), "deny"],
    [
      "request.exec.command.size() == 0",
      { verb: "get", resource: "pods", namespace: "d", name: "w" },
      "deny",
    ],
    ["request.verb == 'exec' && request.namespace == 'd' && request.name == 'w'", exec("ls"), "deny"],
    [
      "request.resource == 'deployments' && request.subresource == 'scale' && request.apiGroup == 'apps'",
      scale0,
      "deny",
    ],
    [
      "identity.name == 'demo-agent' && 'agents' in identity.groups && identity.labels.team == 'web' && identity.kind == 'agent'",
      scale0,
      "deny",
    ],
    ["request.dryRun", { ...scale0, dryRun: true }, "deny"],
    [
      "request.query['pretty'] == 'true'",
      { verb: "list", resource: "pods", namespace: "d", query: { pretty: "true" } },
      "deny",
    ],
    [
      "request.labelSelector == 'app=web'",
      { verb: "list", resource: "pods", namespace: "d", labelSelector: "app=web" },
      "deny",
    ],
    ["time.getHours() == 10 && time.getDayOfWeek() == 1", scale0, "deny"],
    ["time.getHours('Europe/Paris') == 11", scale0, "deny"],
  ];
  for (const [when, request, expected] of cases)
    assert.equal(effectOf("deny", when, request), expected, when);
});

test("a CEL error fails closed: it matches deny and review rules and not allow rules", () => {
  const erroring = "object.spec.replicas == 0"; // no body: `object` is null, so selecting a field errors
  const get: Req = { verb: "get", resource: "pods", namespace: "d", name: "w" };
  assert.equal(effectOf("deny", erroring, get), "deny");
  assert.equal(effectOf("review", erroring, get), "review");
  const rules = `    - name: r\n      verbs: ["*"]\n      when: ${JSON.stringify(erroring)}\n      effect: allow`;
  assert.equal(decide(engineOf(policy("p", "[{ identity: '*' }]", rules)), get, AGENT).rule, "default-deny");
  assert.equal(effectOf("deny", "'not a bool'", get), "deny", "a non-boolean result is an error too");
});
