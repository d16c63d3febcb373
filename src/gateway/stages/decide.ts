// decide: policy (src/policy; default deny). The decision is counted in the caller's session; a denial is refused
// here (a rate limit as 429 with Retry-After; a missing or malformed justification with how to give one).

import {
  deniedByPolicy,
  internalError,
  justificationRequired,
  rateLimited,
  rateLimitUnavailable,
} from "../../kube/refusals.ts";
import type { KubeRequest } from "../../kube/request.ts";
import { HOW_TO_JUSTIFY } from "../../shared/justification.ts";
import { countDecision } from "../recording.ts";
import { admitted, type Stage } from "./types.ts";

export const decide: Stage = async (flow) => {
  const { gw, ctx } = flow;
  const { kube, principal } = admitted(flow);
  const asked = flow.entry?.gatewayDryRun ? asGet(kube, ctx.method) : kube;
  if (!asked) return internalError("airlock: a gateway dry run must be a dry-run create, update or patch");
  const decision = await gw.decider.decide(principal, asked);
  ctx.decision = decision;
  countDecision(gw, ctx);
  if (decision.effect !== "deny") return undefined;
  if (decision.justification) return justificationRequired(kube, decision, HOW_TO_JUSTIFY);
  if (decision.retryAfterSeconds === undefined) return deniedByPolicy(kube, decision);
  return decision.unavailable
    ? rateLimitUnavailable(kube.action, decision, decision.retryAfterSeconds)
    : rateLimited(kube.action, decision, decision.retryAfterSeconds);
};

const DRY_RUN_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * A gateway-issued dry run (InternalEntry.gatewayDryRun) as the `get` of the object it reads: same cluster, group,
 * resource, namespace and name; no body, no options. Undefined (refused) unless the request is a create, update or
 * patch whose options, as kube-apiserver resolves them, say dryRun=All and that names one object — so the flag can
 * never make a real write pass as a read.
 */
export function asGet(kube: KubeRequest, method: string): KubeRequest | undefined {
  if (!DRY_RUN_METHODS.has(method) || kube.options?.dryRun !== true || !kube.info.isResourceRequest)
    return undefined;
  if (!["create", "update", "patch"].includes(kube.action) || kube.info.subresource === "exec")
    return undefined;
  // A create's name is in its body: the dry run of a create reads as a get of the collection's object by that name.
  const name = kube.info.name || objectName(kube.body);
  if (!name) return undefined;
  return {
    info: { ...kube.info, verb: "get", name, fieldSelector: "", labelSelector: "" },
    action: "get",
    cluster: kube.cluster,
    query: new URLSearchParams(),
  };
}

function objectName(body: unknown): string {
  const meta = (body as { metadata?: { name?: unknown } } | undefined)?.metadata;
  return typeof meta?.name === "string" ? meta.name : "";
}
