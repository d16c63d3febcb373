// Why each rule did or did not match one request, for `airlock policy test`. Pure; runs the same compiled matchers
// the evaluator runs (so the explanation cannot drift from the decision), in the evaluator's order, and reports the
// first field that failed: subject, verb, then the rule's fields (cluster, resource, namespace, name, label, exec),
// then the condition.
import { celBindings } from "./evaluate.ts";
import type { RuleSpec } from "./schema.ts";
import type { CompiledRule, EvalInput, EvalScratch, LoadedSet } from "./types.ts";

export interface RuleExplanation {
  policy: string;
  rule: string;
  effect: string;
  matched: boolean;
  /** For a rule that did not match: the first reason, e.g. `namespace: "prod" is not in [dev]`. */
  reason?: string;
}

const list = (values: readonly string[] | undefined) => `[${(values ?? []).join(", ")}]`;

function fieldReason(field: string | undefined, spec: RuleSpec, input: EvalInput): string {
  const { kube } = input;
  const { info } = kube;
  switch (field) {
    case "cluster":
      return `cluster: "${kube.cluster}" is not in ${list(spec.clusters)}`;
    case "resource": {
      if (!info.isResourceRequest) return `resource: ${info.path} is not a resource request`;
      const target = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
      const extra =
        info.subresource && spec.effect === "allow"
          ? " (an allow rule covers a subresource only when it names it, e.g. pods/exec or */scale)"
          : "";
      return `resource: "${target}${info.apiGroup ? ` (group ${info.apiGroup})` : ""}" is not in ${list(spec.resources)}${extra}`;
    }
    case "nonResourceURL":
      return spec.nonResourceURLs
        ? `nonResourceURL: "${info.path}" is not in ${list(spec.nonResourceURLs)}`
        : `nonResourceURL: "${info.path}" is not a discovery path; an allow rule matches other non-resource URLs only when its nonResourceURLs names them`;
    case "apiGroup":
      return `apiGroup: "${info.apiGroup}" is not in ${list(spec.apiGroups)}`;
    case "namespace": {
      const ns = info.namespace ? `"${info.namespace}"` : "cluster-scoped";
      const note =
        info.resource === "namespaces" && info.name && spec.effect === "allow"
          ? " (a Namespace object is cluster-scoped for an allow rule unless its resources name namespaces)"
          : "";
      return `namespace: ${ns} is not in ${list(spec.namespaces)}${note}`;
    }
    case "name":
      return info.name
        ? `name: "${info.name}" is not in ${list(spec.names)}`
        : `name: a ${kube.action} has no name in its path (lists are filtered item by item; a create's name is in object.metadata.name)`;
    case "label":
      return "label: the object's labels do not match the rule's labelSelector";
    case "exec":
      return kube.exec
        ? "exec: the command, container or flags do not match"
        : "exec: not an exec or attach request";
    default:
      return "a rule field does not match";
  }
}

function explainRule(
  rule: CompiledRule,
  spec: RuleSpec,
  input: EvalInput,
  policySubject: boolean,
): RuleExplanation {
  const head = { policy: rule.policy, rule: rule.name, effect: rule.effect };
  const no = (reason: string) => ({ ...head, matched: false, reason });
  const { principal, kube } = input;
  if (!policySubject) return no(`subject: ${principal.name} is not a subject of policy ${rule.policy}`);
  if (rule.subjects && !rule.subjects(principal))
    return no(`subject: ${principal.name} is not among the rule's subjects`);
  if (!rule.verbs.includes("*") && !rule.verbs.includes(kube.action)) {
    return no(`verb: ${kube.action} is not in ${list(rule.verbs)}`);
  }
  const scratch: EvalScratch = {};
  for (const m of [...rule.matchers, ...rule.dataMatchers]) {
    if (!m(input, scratch)) return no(fieldReason(m.field, spec, input));
  }
  if (rule.when) {
    const result = rule.when.evaluate(celBindings(input));
    if (result === "error") {
      if (rule.effect === "allow")
        return no("condition: `when` failed to evaluate (counts as no match for allow)");
    } else if (!result) return no("condition: `when` is false");
  }
  return { ...head, matched: true };
}

/** Every rule of the set, in order, with whether it matched and, if not, the first reason. */
export function explain(set: LoadedSet, input: EvalInput): RuleExplanation[] {
  const out: RuleExplanation[] = [];
  for (const policy of set.policies) {
    const subject = policy.subjects(input.principal);
    policy.rules.forEach((rule, i) => {
      const spec = policy.document.spec.rules[i] as RuleSpec;
      out.push(explainRule(rule, spec, input, subject));
    });
  }
  return out;
}
