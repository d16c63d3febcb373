// Helpers for policy tests: compile YAML text into an engine, and describe requests the way `policy test` does.
import assert from "node:assert/strict";
import type { Decision } from "../../src/policy/decision.ts";
import { engineForSet, type PolicyEngine } from "../../src/policy/engine.ts";
import { compileSources } from "../../src/policy/load.ts";
import { type DescribedRequest, describeToRequest } from "../../src/policy/request.ts";

export function engineOf(yaml: string, now: () => number = Date.now): PolicyEngine {
  const loaded = compileSources([{ file: "test.yaml", text: yaml, managed: false }]);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  return engineForSet(loaded.set, now);
}

export function errorsOf(yaml: string, file = "test.yaml"): string[] {
  const loaded = compileSources([{ file, text: yaml, managed: false }]);
  assert.equal(loaded.ok, false, "expected the policy to be refused");
  return loaded.ok ? [] : loaded.errors;
}

export type Req = DescribedRequest["request"];

export const AGENT = {
  name: "demo-agent",
  kind: "agent" as const,
  groups: ["agents"],
  labels: { team: "web" },
};

export function decide(
  engine: PolicyEngine,
  request: Req,
  identity: DescribedRequest["identity"] = AGENT,
  /** The request's justification (header, MCP argument or credential reason), when it has one. */
  justification?: string,
): Decision {
  const d = describeToRequest({ identity, request });
  if (!d.ok) throw new Error(d.errors.join("; "));
  return engine.decide(justification === undefined ? d.principal : { ...d.principal, justification }, d.kube);
}

/** "allow demo/read-everything" style summary of a decision. */
export function verdict(d: Decision): string {
  return `${d.effect} ${d.policy}/${d.rule}`;
}

export const policy = (name: string, subjects: string, rules: string) => `apiVersion: airlock.dev/v1alpha1
kind: Policy
metadata: { name: ${name} }
spec:
  subjects: ${subjects}
  rules:
${rules}
`;
