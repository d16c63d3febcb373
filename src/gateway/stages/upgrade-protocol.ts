// upgrade protocol: exec, attach and port-forward are relayed over WebSocket only (not SPDY).
import { badRequest } from "../../kube/refusals.ts";
import { header } from "../context.ts";
import { admitted, type Stage } from "./types.ts";

export const upgradeProtocol: Stage = async (flow) => {
  if (flow.answer.kind !== "socket") return undefined;
  const { kube } = admitted(flow);
  const upgrade = (header(flow.ctx.headers, "upgrade") ?? "").toLowerCase();
  if (upgrade.startsWith("spdy/")) {
    return badRequest(
      `airlock: ${kube.action} over SPDY is not supported; Airlock relays exec, attach and port-forward over WebSocket. ` +
        "Use kubectl 1.30 or newer and unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS / KUBECTL_PORT_FORWARD_WEBSOCKETS.",
    );
  }
  if (upgrade !== "websocket" || flow.ctx.method !== "GET") {
    return badRequest(`airlock: unsupported protocol upgrade "${upgrade}"`);
  }
  return undefined;
};
