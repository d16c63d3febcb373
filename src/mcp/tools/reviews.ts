// airlock_review_status and airlock_review_wait: the state of a review this identity's own call opened. Waiting is
// bounded (≤ 50 s per call, below the 60–120 s at which MCP clients drop a call); the model calls again while it is
// still pending. Nothing here approves anything: approval comes from a human reviewer, authenticated as a human.
//
// Stance: a caller sees only reviews of its own requests; any other id answers "not found", as an unknown one does.
import { z } from "zod";
import type { Review } from "../../review/types.ts";
import { type CallContext, text, toolError } from "../call.ts";
import { outputShape } from "./define.ts";

const MAX_WAIT_SECONDS = 50;

async function ownReview(c: CallContext, id: string): Promise<Review | string> {
  const reviews = c.gw.reviews;
  if (!reviews) return "reviews are not enabled on this gateway";
  const review = await reviews.get(id).catch(() => undefined);
  if (!review || review.requester.identityId !== c.principal.identityId) return `review ${id} not found`;
  return review;
}

export function describeReview(r: Review): string {
  const q = r.request;
  const lines = [
    `review ${r.id}: ${r.state.toUpperCase()}`,
    `  request: ${q.action} ${q.resource}${q.subresource ? `/${q.subresource}` : ""}${q.name ? ` ${q.name}` : ""}${q.namespace ? ` in ${q.namespace}` : ""}`,
    `  policy: ${r.policy} rule ${r.rule}`,
    `  justification: ${r.justification ?? "(none given)"}`,
  ];
  if (r.approvals.length)
    lines.push(
      `  approved by: ${r.approvals.map((v) => `${v.by}${v.reason ? ` (${v.reason})` : ""}`).join(", ")}`,
    );
  if (r.denial) lines.push(`  denied by ${r.denial.by}: ${r.denial.reason}`);
  if (r.state === "pending") lines.push(`  expires: ${r.expiresAt}`);
  if (r.state === "approved")
    lines.push(
      "  Repeat the original call with exactly the same arguments to run it (the approval is single-use).",
    );
  if (r.state === "pending")
    lines.push(
      `  Still pending: call airlock_review_wait {"id":"${r.id}"} again, or tell your user who can approve.`,
    );
  return lines.join("\n");
}

const idArg = z
  .string()
  .regex(/^[0-9a-f-]{36}$/)
  .describe("The review id a tool result named");

const REVIEW_OUTPUT = outputShape({ state: z.string(), approverGroups: z.array(z.string()) });

function structured(r: Review) {
  return { state: r.state, approverGroups: [...r.requirement.approvers.groups] };
}

export const reviewStatusTool = {
  name: "airlock_review_status",
  title: "Review status",
  description:
    "The state of a review opened by one of your calls: pending, approved, denied, expired or withdrawn.",
  input: { id: idArg },
  output: REVIEW_OUTPUT,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c: CallContext, a: Record<string, unknown>) {
    const review = await ownReview(c, String(a.id));
    if (typeof review === "string") return toolError(review);
    return text(describeReview(review), structured(review));
  },
};

export const reviewWaitTool = {
  name: "airlock_review_wait",
  title: "Wait for a review decision",
  description:
    "Wait until a human decides a review opened by one of your calls, for at most timeoutSeconds (default and " +
    "maximum 50). Returns the state; if still pending, call again. Once approved, repeat the original call.",
  input: { id: idArg, timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS).optional() },
  output: REVIEW_OUTPUT,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c: CallContext, a: Record<string, unknown>) {
    const id = String(a.id);
    const review = await ownReview(c, id);
    if (typeof review === "string") return toolError(review);
    const reviews = c.gw.reviews;
    if (review.state === "pending" && reviews) {
      const seconds = typeof a.timeoutSeconds === "number" ? a.timeoutSeconds : MAX_WAIT_SECONDS;
      const timeout = AbortSignal.timeout(seconds * 1000);
      await reviews.waitForDecision(id, c.signal ? AbortSignal.any([c.signal, timeout]) : timeout);
    }
    const now = await ownReview(c, id);
    if (typeof now === "string") return toolError(now);
    return text(describeReview(now), structured(now));
  },
};

export const reviewWithdrawTool = {
  name: "airlock_review_withdraw",
  title: "Withdraw a pending review",
  description:
    "Withdraw a review one of your own calls opened, while it is pending (or approved and unused): nobody can " +
    "approve or use it afterwards. Recorded in the audit log. Only your own reviews; others answer not found.",
  input: {
    id: idArg,
    reason: z.string().max(200).optional().describe("Why (shown to reviewers and in the audit log)"),
  },
  output: REVIEW_OUTPUT,
  // Changes Airlock's state (not the cluster's); repeating it changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c: CallContext, a: Record<string, unknown>) {
    const id = String(a.id);
    const review = await ownReview(c, id);
    if (typeof review === "string") return toolError(review);
    if (review.state !== "pending" && review.state !== "approved")
      return toolError(
        `review ${id} is ${review.state}; only a pending or approved-unused review can be withdrawn`,
      );
    const reason = `withdrawn by the requester ${c.principal.name}${typeof a.reason === "string" && a.reason ? `: ${a.reason.replace(/[^\x20-\x7e]/g, "?")}` : ""}`;
    const done = await c.gw.reviews?.withdraw(id, reason, c.principal.name);
    if (!done) return toolError(`review ${id} not found`);
    return text(describeReview(done), structured(done));
  },
};
