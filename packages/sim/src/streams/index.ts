// The simulator's streaming subresources: pods/log (plain HTTP) and the upgrades for pods/exec, pods/attach and
// pods/portforward. The spine authenticates and authorises; these handlers validate the request the way
// kube-apiserver does *before* upgrading, so a refusal is a Status on a plain HTTP answer and kubectl shows it.
//
// WebSocket only: a SPDY/3.1 POST (kubectl's fallback) gets the same validation and then a 400 Status explaining
// that the simulator speaks WebSocket (so the user sees the real reason when there is one, since kubectl reports
// the SPDY answer after a failed WebSocket attempt, §0.5). A refused upgrade always closes the connection.
import type { IncomingMessage } from "node:http";
import { WebSocketServer } from "ws";
import type { StreamContext, UpgradeRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { planAttach, runAttach } from "./attach.ts";
import {
  chooseProtocol,
  EXEC_PROTOCOLS,
  PORTFORWARD_CHANNEL_PROTOCOLS,
  PORTFORWARD_SPDY_PROTOCOL,
} from "./channel.ts";
import { ChannelSocket } from "./channel-socket.ts";
import { planExec, runExec } from "./exec.ts";
import { planPortForward, runChannelPortForward, runSpdyPortForward } from "./portforward.ts";
import { asStatus, refuseUpgrade } from "./respond.ts";

export { handlePodLog } from "./logs.ts";
export { handlePodProxy } from "./proxy.ts";
export { closeSessions } from "./sessions.ts";

const chosenProtocol = new WeakMap<IncomingMessage, string>();
const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 16 << 20,
  perMessageDeflate: false,
  handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
});

function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function spdyRefusal(subresource: string): StatusError {
  const killSwitch =
    subresource === "portforward"
      ? "KUBECTL_PORT_FORWARD_WEBSOCKETS=false"
      : "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false";
  return StatusError.of(
    "BadRequest",
    `unable to upgrade connection: the Airlock simulator speaks only WebSocket for pods/${subresource} ` +
      `(SPDY/3.1 is not supported); use kubectl 1.30 or newer without ${killSwitch}`,
  );
}

function upgradeToWebSocket(u: UpgradeRequest, protocol: string, run: (socket: ChannelSocket) => void): void {
  chosenProtocol.set(u.req, protocol);
  // ws refuses "SPDY/3.1+portforward.k8s.io" as a subprotocol ('/' is not an RFC 7230 token character), yet it is
  // what kubectl offers and must get back. The choice is already made, so ws is shown a token-safe stand-in and
  // handleProtocols answers with the real name.
  u.req.headers["sec-websocket-protocol"] = "airlock-chosen";
  wss.handleUpgrade(u.req, u.socket, u.head, (ws) => {
    ws.on("error", () => ws.terminate());
    run(new ChannelSocket(ws));
  });
}

export function handleStreamUpgrade(ctx: StreamContext, u: UpgradeRequest): void {
  try {
    const upgrade = String(u.req.headers.upgrade ?? "").toLowerCase();
    const sub = u.route.subresource;
    if (sub !== "exec" && sub !== "attach" && sub !== "portforward") {
      throw StatusError.of("BadRequest", `pods/${sub} cannot be upgraded`);
    }
    const isWebSocket = upgrade === "websocket";
    if (!isWebSocket && !upgrade.startsWith("spdy/")) {
      throw StatusError.of("BadRequest", "unable to upgrade: missing upgrade headers in request");
    }
    const offered = offeredProtocols(u.req);

    if (sub === "portforward") {
      const plan = planPortForward(ctx, u);
      if (!isWebSocket) throw spdyRefusal(sub);
      if (offered.includes(PORTFORWARD_SPDY_PROTOCOL)) {
        upgradeToWebSocket(u, PORTFORWARD_SPDY_PROTOCOL, (socket) =>
          runSpdyPortForward(ctx, plan, socket.ws),
        );
        return;
      }
      const protocol = chooseProtocol(offered, PORTFORWARD_CHANNEL_PROTOCOLS);
      if (!protocol) throw noProtocol(offered, [PORTFORWARD_SPDY_PROTOCOL, ...PORTFORWARD_CHANNEL_PROTOCOLS]);
      upgradeToWebSocket(u, protocol, (socket) => runChannelPortForward(ctx, plan, u.route.query, socket));
      return;
    }

    const run: (socket: ChannelSocket) => void =
      sub === "exec"
        ? (
            (plan) => (socket) =>
              runExec(ctx, plan, socket)
          )(planExec(ctx, u))
        : (
            (plan) => (socket) =>
              runAttach(ctx, plan, socket)
          )(planAttach(ctx, u));
    if (!isWebSocket) throw spdyRefusal(sub);
    const protocol = chooseProtocol(offered, EXEC_PROTOCOLS);
    if (!protocol) throw noProtocol(offered, EXEC_PROTOCOLS);
    upgradeToWebSocket(u, protocol, run);
  } catch (err) {
    refuseUpgrade(u.socket, asStatus(err));
  }
}

function noProtocol(offered: string[], supported: readonly string[]): StatusError {
  return StatusError.of(
    "BadRequest",
    `unable to upgrade: none of the offered subprotocols [${offered.join(", ")}] is supported; ` +
      `this server speaks ${supported.join(", ")}`,
  );
}
