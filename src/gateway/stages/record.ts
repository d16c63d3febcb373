// record (write-ahead): the audit event is committed before anything is forwarded — no record, no request
// (invariant 3). A failed write answers 503 itself: there is no record to refuse into.
import { auditUnavailable } from "../../kube/refusals.ts";
import { beginAudit } from "../record.ts";
import { sendStatus, sendStatusOnSocket } from "../respond.ts";
import { admitted, DONE, type Stage } from "./types.ts";

export const record: Stage = async (flow) => {
  const { gw, ctx, answer } = flow;
  const { kube } = admitted(flow);
  const recorded = await beginAudit(gw, ctx, flow.gateNote);
  if (recorded.ok) {
    flow.recorded = true;
    return undefined;
  }
  const status = auditUnavailable(recorded.fault);
  ctx.bytesOut =
    answer.kind === "http" ? sendStatus(answer.res, status) : sendStatusOnSocket(answer.socket, status);
  gw.log.error({ requestId: ctx.id, err: recorded.error }, "audit write failed; request refused");
  gw.metrics.requests.inc({ verb: kube.action, code: "503", decision: "error", cluster: ctx.cluster });
  return DONE;
};
