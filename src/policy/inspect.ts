// `exec.stdin: inspect`: each line an agent pipes into a shell (`kubectl exec -i … -- sh`, no tty) is checked
// against the rules that say so, before the gateway sends it on (src/gateway/stdin-inspect.ts). Pure apart from the
// clock it is handed.
//
// Semantics (docs/policy.md "Interactive shells"): the rules that apply are the `inspect` rules among the exec's
// candidates whose subjects and other matchers (cluster, namespace, names, containers…) match the exec itself. A line
// is refused when a deny or review rule's commandMatches matches it (a program listed, or unresolved), or when some
// allow rule inspects and none of them covers every program of the line. Review cannot hold one line: it refuses.

import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import { celBindings, type RuleIndex } from "./evaluate.ts";
import { analyzeCommand, analyzeScript } from "./shell.ts";
import type { CompiledRule, EvalInput, EvalScratch } from "./types.ts";

export type LineVerdict = { ok: true } | { ok: false; policy: string; rule: string; message: string };

function passes(rule: CompiledRule, input: EvalInput, scratch: EvalScratch): boolean {
  for (const m of rule.matchers) if (!m(input, scratch)) return false;
  for (const m of rule.dataMatchers) if (!m(input, scratch)) return false;
  if (!rule.when) return true;
  const result = rule.when.evaluate(celBindings(input, scratch));
  if (result === "error") return rule.effect !== "allow";
  return result;
}

/**
 * The line checker for an exec, or undefined when nothing is to be inspected: no stdin, a tty (decided at the exec as
 * unresolved), an argv whose program does not read shell commands from stdin, or no `inspect` rule that applies.
 */
export function stdinInspector(
  index: RuleIndex,
  principal: Principal,
  kube: KubeRequest,
  now: () => number,
): ((line: string) => LineVerdict) | undefined {
  const exec = kube.exec;
  if (!exec?.stdin || exec.tty) return undefined;
  if (!analyzeCommand(exec.command).stdinCommands) return undefined;
  const input: EvalInput = { principal, kube, now: now() };
  const rules = index.candidates(kube.action, kube.info.resource).filter((rule) => {
    if (!rule.inspectStdin) return false;
    if (!index.set.policies[rule.policyIndex]?.subjects(principal)) return false;
    if (rule.subjects && !rule.subjects(principal)) return false;
    const scratch: EvalScratch = { skipCommand: true };
    for (const m of rule.matchers) if (!m(input, scratch)) return false;
    for (const m of rule.dataMatchers) if (!m(input, scratch)) return false;
    return true;
  });
  if (rules.length === 0) return undefined;
  const allowRules = rules.filter((r) => r.effect === "allow");
  return (line) => {
    const lineInput: EvalInput = { principal, kube, now: now() };
    const scratch: EvalScratch = { analysis: analyzeScript(line), inspectingLine: true };
    let covered = false;
    for (const rule of rules) {
      scratch.commandNote = undefined;
      const match = passes(rule, lineInput, scratch);
      if (rule.effect === "allow") {
        covered ||= match;
        continue;
      }
      if (match) {
        const note = scratch.commandNote ? ` (${scratch.commandNote})` : "";
        return { ok: false, policy: rule.policy, rule: rule.name, message: `${rule.message}${note}` };
      }
    }
    const first = allowRules[0];
    if (first && !covered) {
      return {
        ok: false,
        policy: first.policy,
        rule: first.name,
        message: scratch.commandMiss ?? `rule ${first.policy}/${first.name} does not cover this line`,
      };
    }
    return { ok: true };
  };
}
