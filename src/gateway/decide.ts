// decide: the policy stage. Default deny (invariant 1): with no policy configured every request is refused. Until
// the policy engine lands, configuration may select the built-in `allow-authenticated` policy, which allows any
// request from an authenticated identity (the gateway still impersonates the caller, so the cluster's own RBAC
// applies to `airlock:<name>`).
import type { Decision, KubeRequest, Principal } from "./contracts.ts";

export type BuiltinPolicy = "deny-all" | "allow-authenticated";

export interface Decider {
  decide(principal: Principal, kube: KubeRequest): Decision;
}

export function builtinDecider(policy: BuiltinPolicy): Decider {
  if (policy === "allow-authenticated") {
    return {
      decide: () => ({ effect: "allow", policy: "builtin:allow-authenticated", rule: "authenticated" }),
    };
  }
  return {
    decide: (_principal, kube) => ({
      effect: "deny",
      policy: "builtin:deny-all",
      rule: "default-deny",
      message: `no policy allows ${kube.action} ${describeTarget(kube)}`,
    }),
  };
}

export function describeTarget(kube: KubeRequest): string {
  const { info } = kube;
  if (!info.isResourceRequest) return `path ${info.path}`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const group = info.apiGroup ? `.${info.apiGroup}` : "";
  const name = info.name ? ` "${info.name}"` : "";
  const where = info.namespace ? ` in namespace "${info.namespace}"` : "";
  return `${resource}${group}${name}${where}`;
}
