// gate: a request a `review` rule matched waits for a human (or is answered "approval required" at once); the note
// names the grant or approval that released it, for the audit event (../gate.ts, src/review).
import { gateReview } from "../gate.ts";
import { type Answer, admitted, type Stage } from "./types.ts";

export const gate: Stage = async (flow) => {
  const { gw, ctx, entry } = flow;
  const { kube, principal } = admitted(flow);
  const decision = ctx.decision;
  if (decision?.effect !== "review") return undefined;
  const gated = await gateReview(gw, {
    ctx,
    principal,
    kube,
    // MCP clients drop calls that block for minutes: their wait-mode reviews answer at once, as retry-mode ones do.
    decision: entry?.reviewsAnswerAtOnce
      ? { ...decision, review: { ...decision.review, mode: "retry" } }
      : decision,
    pathAndQuery: flow.pathAndQuery,
    body: flow.body,
    signal: closedSignal(flow.answer),
  });
  if (!gated.ok) return gated.status;
  flow.gateNote = gated.note;
  return undefined;
};

/** Aborts when the client's connection closes before we answer (a held request whose client gave up). */
function closedSignal(answer: Answer): AbortSignal {
  const controller = new AbortController();
  const target = answer.kind === "http" ? answer.res : answer.socket;
  target.once("close", () => controller.abort());
  return controller.signal;
}
