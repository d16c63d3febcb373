// filter: a list or watch shows only the items policy lets the caller read, one by one (a GET of one object is
// decided on that object too); the audit event says how many were left out, never which.
import { filterItems } from "../transform/stage.ts";
import { admitted, maskingOf, type Stage } from "./types.ts";

export const filter: Stage = async (flow) => {
  if (flow.answer.kind !== "http") return undefined;
  const { kube, principal } = admitted(flow);
  const filtered = await filterItems(flow.gw, principal, kube, flow.ctx.decision, maskingOf(flow));
  if (!filtered.ok) return filtered.status;
  flow.hidden = filtered.hidden.count;
  return undefined;
};
