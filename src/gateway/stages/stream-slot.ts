// stream slot: watches, follows and exec/attach/port-forward hold one of the identity's maxStreamsPerIdentity places
// (../request-limits.ts) until their response or socket closes.
import { reserveStream } from "../request-limits.ts";
import { admitted, isLongRunning, type Stage } from "./types.ts";

export const streamSlot: Stage = async (flow) => {
  const { kube, principal } = admitted(flow);
  const { answer } = flow;
  if (answer.kind === "socket") return reserveStream(flow.gw, principal, answer.socket);
  return isLongRunning(kube) ? reserveStream(flow.gw, principal, answer.res) : undefined;
};
