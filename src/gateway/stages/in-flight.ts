// limits: ordinary requests in flight, in total and per identity (streams are bounded by the stream-slot stage).
import { admitInFlight } from "../request-limits.ts";
import { admitted, isLongRunning, type Stage } from "./types.ts";

export const inFlight: Stage = async (flow) => {
  const { kube, principal } = admitted(flow);
  if (flow.answer.kind !== "http" || isLongRunning(kube)) return undefined;
  return admitInFlight(flow.gw, principal, flow.answer.res);
};
