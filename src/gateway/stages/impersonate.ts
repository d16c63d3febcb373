// impersonate: the cluster sees the real caller (Impersonate-User/Group/Extra, src/upstream/impersonation.ts). The
// client's own Impersonate-* headers were refused by classify, so a client never chooses whom it acts as.
import { impersonationHeaders } from "../../upstream/impersonation.ts";
import { admitted, type Stage } from "./types.ts";

export const impersonate: Stage = async (flow) => {
  const { principal, upstream } = admitted(flow);
  if (upstream.impersonate !== false)
    flow.forward = [...flow.forward, ...impersonationHeaders(principal, flow.ctx.id)];
  return undefined;
};
