// decide: policy (src/policy; default deny). The decision is counted in the caller's session; a denial is refused
// here (a rate limit as 429 with Retry-After; a missing or malformed justification with how to give one).
import {
  deniedByPolicy,
  justificationRequired,
  rateLimited,
  rateLimitUnavailable,
} from "../../kube/refusals.ts";
import { HOW_TO_JUSTIFY } from "../../shared/justification.ts";
import { countDecision } from "../recording.ts";
import { admitted, type Stage } from "./types.ts";

export const decide: Stage = async (flow) => {
  const { gw, ctx } = flow;
  const { kube, principal } = admitted(flow);
  const decision = await gw.decider.decide(principal, kube);
  ctx.decision = decision;
  countDecision(gw, ctx);
  if (decision.effect !== "deny") return undefined;
  if (decision.justification) return justificationRequired(kube, decision, HOW_TO_JUSTIFY);
  if (decision.retryAfterSeconds === undefined) return deniedByPolicy(kube, decision);
  return decision.unavailable
    ? rateLimitUnavailable(kube.action, decision, decision.retryAfterSeconds)
    : rateLimited(kube.action, decision, decision.retryAfterSeconds);
};
