// self-review: `kubectl auth can-i` is answered with the cluster's RBAC answer combined with what policy would
// decide (../self-review.ts), not forwarded as is.
import { completeAudit } from "../record.ts";
import { answerSelfReview, isAnsweredSelfReview } from "../self-review.ts";
import { admitted, DONE, type Stage } from "./types.ts";

export const selfReview: Stage = async (flow) => {
  const { gw, ctx, answer } = flow;
  const { kube, upstream } = admitted(flow);
  if (answer.kind !== "http" || !isAnsweredSelfReview(kube)) return undefined;
  const answered = await answerSelfReview({ decider: gw.decider, upstream }, ctx, answer.res, {
    pathAndQuery: flow.pathAndQuery,
    body: flow.body,
    headers: flow.forward,
  });
  ctx.bytesOut = answered.bytesOut;
  await completeAudit(gw, ctx, answered.status, answered.error);
  return DONE;
};
