// mask: the decision's masking obligation is resolved before anything is forwarded (an unknown profile refuses:
// fail closed). Upgrades resolve it before their protocol checks, so a refusal answers the WebSocket GET and
// kubectl's SPDY fallback alike.
import { prepareMasking } from "../transform/stage.ts";
import { admitted, type Stage } from "./types.ts";

export const mask: Stage = async (flow) => {
  const { kube, principal } = admitted(flow);
  const prepared = await prepareMasking(flow.gw, flow.ctx.decision, kube, principal);
  if (!prepared.ok) return prepared.status;
  flow.masking = prepared.masking;
  return undefined;
};
