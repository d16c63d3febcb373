// forward (port-forward): a verified WebSocket tunnel for `SPDY/3.1+portforward.k8s.io` and the channel protocols
// port-forward uses.
//
// Port-forward frames are opaque to the gateway (SPDY inside WebSocket), and the `ws` library refuses that
// subprotocol name ('/' is not a token character), so the gateway performs both handshakes itself and then relays
// bytes. Invariant 6 holds the same way as for exec: the upstream handshake comes first, the client is answered 101
// only after the cluster answered 101 with a valid Sec-WebSocket-Accept and one of the client's subprotocols, and a
// refusal is relayed and the client connection closed.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import {
  badRequest,
  CATALOGUE,
  upstreamBadAnswer,
  upstreamNoCredential,
  upstreamUnreachable,
} from "../../kube/refusals.ts";
import { NoAgentError } from "../../upstream/tunnel.ts";
import { sendStatusOnSocket } from "../respond.ts";
import type { UpgradeOptions, UpgradeResult } from "./upgrade.ts";
import { CLIENT_LEFT, clientWatch, offeredProtocols, STREAM_SUBPROTOCOLS } from "./upgrade.ts";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + WS_GUID)
    .digest("base64");
}

/** A server-to-client WebSocket close frame (unmasked) with a status code and a reason cut to the 123-byte limit. */
export function closeFrame(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, "utf8");
  if (text.length > 123)
    text = Buffer.from(
      text
        .subarray(0, 120)
        .toString("utf8")
        .replace(/\uFFFD$/, ""),
      "utf8",
    );
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

export function tunnelWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: UpgradeOptions,
): Promise<UpgradeResult> {
  return new Promise((resolve) => {
    let bytesIn = 0;
    let bytesOut = 0;
    let settled = false;
    let refused: string | undefined;
    let unregister = () => {};
    const finish = (status: number, upstreamError?: string) => {
      if (settled) return;
      settled = true;
      unregister();
      resolve({
        status,
        bytesIn,
        bytesOut,
        ...(upstreamError ? { upstreamError } : {}),
        ...(refused ? { refused } : {}),
      });
    };
    const clientKey = req.headers["sec-websocket-key"];
    const offered = offeredProtocols(req).filter((p) => STREAM_SUBPROTOCOLS.has(p));
    if (typeof clientKey !== "string" || !/^[A-Za-z0-9+/]{22}==$/.test(clientKey) || offered.length === 0) {
      bytesOut = sendStatusOnSocket(
        socket,
        badRequest(
          "airlock: a WebSocket upgrade needs a valid Sec-WebSocket-Key and a Kubernetes subprotocol",
        ),
      );
      return finish(400);
    }
    const client = clientWatch(socket);
    const leftEarly = () => {
      refused = CLIENT_LEFT;
      finish(499);
    };
    if (client.left()) return leftEarly();
    const upstreamKey = randomBytes(16).toString("base64");
    opts.upstream
      .requestOptions(
        "GET",
        opts.pathAndQuery,
        [
          ...opts.headers.filter(([name]) => !/^sec-websocket-/i.test(name)),
          ["Connection", "Upgrade"],
          ["Upgrade", "websocket"],
          ["Sec-WebSocket-Version", "13"],
          ["Sec-WebSocket-Key", upstreamKey],
          ["Sec-WebSocket-Protocol", offered.join(", ")],
        ],
        opts.actor,
      )
      .then((options) => {
        if (client.left()) return leftEarly();
        const upstreamReq = https.request({ ...options, timeout: 30_000 });
        unregister = opts.onOpen((reason) => {
          upstreamReq.destroy(new Error(reason));
          socket.destroy();
        });
        upstreamReq.on("timeout", () => upstreamReq.destroy(new Error("upstream handshake timed out")));
        upstreamReq.on("response", (res) => {
          // The cluster refused the upgrade: relay its answer, then close the client connection.
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const body = Buffer.concat(chunks);
            const status = res.statusCode ?? 502;
            const headLines = [
              `HTTP/1.1 ${status} ${res.statusMessage ?? ""}`,
              `Content-Type: ${res.headers["content-type"] ?? "application/json"}`,
              `Content-Length: ${body.length}`,
              "Connection: close",
              "",
              "",
            ];
            bytesOut = body.length;
            socket.end(Buffer.concat([Buffer.from(headLines.join("\r\n"), "latin1"), body]));
            finish(status);
          });
        });
        upstreamReq.on("upgrade", (res, upstreamSocket, upstreamHead) => {
          const protocol = res.headers["sec-websocket-protocol"];
          const valid =
            res.headers["sec-websocket-accept"] === acceptKey(upstreamKey) &&
            typeof protocol === "string" &&
            offered.includes(protocol);
          if (!valid) {
            upstreamSocket.destroy();
            bytesOut = sendStatusOnSocket(
              socket,
              upstreamBadAnswer("airlock: the cluster answered the upgrade with an invalid handshake"),
            );
            return finish(CATALOGUE.upstreamBadAnswer.code, "invalid upstream handshake");
          }
          if (client.left()) {
            upstreamSocket.destroy();
            return leftEarly();
          }
          socket.write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              `Sec-WebSocket-Accept: ${acceptKey(clientKey)}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
          );
          // The recorder (port-forward accounting) reads a copy of the bytes; `abort` ends a required recording.
          const tap = opts.tap?.(protocol, () => {
            socket.destroy();
            upstreamSocket.destroy();
          });
          if (upstreamHead.length) {
            tap?.toClient(upstreamHead, true);
            socket.write(upstreamHead);
          }
          // The port guard sees the client's bytes before the cluster does; a refused stream ends the tunnel with a
          // WebSocket close (1008, policy violation) naming the reason, and the audit records it.
          const guard = opts.guard?.(protocol);
          const refuse = (reason: string) => {
            if (refused) return;
            refused = `airlock refused a port-forward connection: ${reason}`;
            upstreamSocket.unpipe(socket);
            upstreamSocket.destroy();
            socket.end(closeFrame(1008, refused));
            // The close frame is flushed by end(); a client that never closes its side is cut after a second.
            setTimeout(() => socket.destroy(), 1000).unref();
          };
          const toUpstream = (c: Buffer) => {
            if (!guard) return upstreamSocket.write(c);
            const checked = guard.check(c);
            if (!checked.ok) {
              refuse(checked.reason);
              return true;
            }
            return checked.forward.length ? upstreamSocket.write(checked.forward) : true;
          };
          if (head.length) {
            tap?.fromClient(head, true);
            toUpstream(head);
          }
          socket.on("data", (c: Buffer) => {
            bytesIn += c.length;
            tap?.fromClient(c, true);
            if (guard && !refused && !toUpstream(c)) socket.pause();
          });
          upstreamSocket.on("data", (c: Buffer) => {
            bytesOut += c.length;
            tap?.toClient(c, true);
          });
          // pipe() gives backpressure both ways; either side closing tears down the other.
          if (guard) {
            upstreamSocket.on("drain", () => socket.resume());
            socket.on("end", () => upstreamSocket.end());
          } else socket.pipe(upstreamSocket);
          upstreamSocket.pipe(socket);
          const teardown = () => {
            tap?.end();
            if (!refused) socket.destroy();
            upstreamSocket.destroy();
            finish(101);
          };
          socket.on("close", teardown);
          upstreamSocket.on("close", teardown);
          socket.on("error", teardown);
          upstreamSocket.on("error", teardown);
        });
        upstreamReq.on("error", (err) => {
          const answer = upstreamUnreachable(undefined, err.message);
          if (!settled) bytesOut = sendStatusOnSocket(socket, answer);
          finish(answer.code, err.message);
        });
        upstreamReq.end();
      })
      .catch((err: Error) => {
        const answer =
          err instanceof NoAgentError ? err.status : upstreamNoCredential(undefined, err.message);
        bytesOut = sendStatusOnSocket(socket, answer);
        finish(answer.code, err.message);
      });
  });
}
