// decide: the policy stage. Default deny (invariant 1): with no policy configured every request is refused.
//
// Two kinds of decider: a built-in one (`policy.builtin`: deny-all, or allow-authenticated for tests and quick
// starts — the gateway still impersonates the caller, so the cluster's own RBAC applies to `airlock:<name>`), and the
// policy engine over YAML files (`policy.files`, plus the managed directory <dataDir>/policies the admin API writes).
// Fail closed: policy files that do not load stop the gateway from starting; later bad edits keep the last good set.
import { join } from "node:path";
import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { CollectionVerdict, ItemVerdict, ObjectFacts } from "../policy/collections.ts";
import type { Decision } from "../policy/decision.ts";
import type { LoadedDocuments, PolicyEngine, PolicyLog } from "../policy/engine.ts";
import { openPolicyEngine } from "../policy/engine.ts";
import type { LineVerdict } from "../policy/inspect.ts";
import type { ObjectNeeds } from "../policy/objects.ts";
import type { GatewayConfig } from "./config.ts";

export type BuiltinPolicy = "deny-all" | "allow-authenticated";

export interface Decider {
  /** A promise when rate limits are counted in the database several replicas share (src/policy/shared-limiter.ts). */
  decide(principal: Principal, kube: KubeRequest): Decision | Promise<Decision>;
  /** The same decision without using rate-limit budget (a question such as `kubectl auth can-i`). */
  evaluate?(principal: Principal, kube: KubeRequest): { decision: Decision };
  /** The objects the rules that could match read; the pipeline loads them (object-context.ts) before `decide`. A
   *  decider without it needs none. */
  objectNeeds?(principal: Principal, kube: KubeRequest): ObjectNeeds;
  /** Lists and watches: the per-item filter when items may be decided differently (src/policy/collections.ts). */
  itemFilter?(
    principal: Principal,
    kube: KubeRequest,
    decision: Decision,
  ): ((obj: unknown) => ItemVerdict) | undefined;
  /** deletecollection: every object it would remove decided (and counted for rate limits). */
  decideCollection?(
    principal: Principal,
    kube: KubeRequest,
    decision: Decision,
    objects: readonly ObjectFacts[],
  ): CollectionVerdict | Promise<CollectionVerdict>;
  /** An allowed exec whose shell reads stdin: the per-line checker of `exec.stdin: inspect` rules, if any apply. */
  stdinInspector?(principal: Principal, kube: KubeRequest): ((line: string) => LineVerdict) | undefined;
  /** What the policy engine loaded (MaskingProfile documents included); undefined for the built-in policies. */
  loadedDocuments?(): LoadedDocuments;
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

/** The managed policy directory the admin API writes to and the engine watches. */
export function managedPolicyDir(dataDir: string): string {
  return join(dataDir, "policies");
}

/**
 * The decider a gateway runs with. For `policy.files` it opens the policy engine (watching the files and the managed
 * directory); a load error is thrown with every problem listed, so the gateway refuses to start.
 */
export async function openDecider(
  config: Pick<GatewayConfig, "policy" | "dataDir">,
  log?: PolicyLog,
): Promise<{ decider: Decider; engine?: PolicyEngine }> {
  const files = config.policy.files;
  if (!files) return { decider: builtinDecider(config.policy.builtin ?? "deny-all") };
  const opened = await openPolicyEngine({
    paths: files,
    managedDir: managedPolicyDir(config.dataDir),
    ...(log ? { log } : {}),
  });
  if (!opened.ok) {
    throw new Error(`the policies do not load:\n  ${opened.errors.join("\n  ")}`);
  }
  return { decider: opened.engine, engine: opened.engine };
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
