// Ending a live stream with a Status instead of cutting it (shutdown, issue 16 §8): a watch gets a last ERROR event
// carrying the Status, as kube-apiserver ends a watch it gives up; an exec or attach gets the Status on its error
// channel (channel 3), as the kubelet reports how a command ended, then a normal WebSocket close.
import type WebSocket from "ws";
import type { Status } from "../../kube/status.ts";
import { type AnyResponse, clientGone, writeHead } from "../respond.ts";

/** The watch event that ends a JSON watch stream. */
export function watchErrorEvent(status: Status): Buffer {
  return Buffer.from(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
}

export interface EndableResponse {
  /**
   * Ends the response with `status`: before its head, as the answer (a Status); after it, as `last` written
   * between two events (after a newline). False when neither is possible (then it is cut).
   */
  endWith(status: Status, last: Buffer): boolean;
}

/**
 * Watches what is written to `res` (by the plain pipe or the masking relay, which own it) so that the response can
 * be ended cleanly between two watch events: once ended this way, later writes, ends and destroys from those owners
 * (who see their upstream go away) are ignored.
 */
export function endableResponse(res: AnyResponse): EndableResponse {
  const r = res as unknown as {
    write: (chunk: unknown, ...rest: unknown[]) => boolean;
    end: (...args: unknown[]) => unknown;
    destroy?: (...args: unknown[]) => unknown;
  };
  const write = r.write.bind(r);
  const end = r.end.bind(r);
  const destroy = r.destroy?.bind(r);
  let lastByte = 0x0a;
  let ended = false;
  const note = (chunk: unknown) => {
    if (typeof chunk === "string" && chunk.length) lastByte = chunk.charCodeAt(chunk.length - 1);
    else if (chunk instanceof Uint8Array && chunk.length) lastByte = chunk[chunk.length - 1] as number;
  };
  r.write = (chunk, ...rest) => {
    if (ended) return true;
    note(chunk);
    return write(chunk, ...rest);
  };
  r.end = (...args) => {
    if (ended) return r;
    if (typeof args[0] !== "function") note(args[0]);
    return end(...args);
  };
  if (destroy) r.destroy = (...args) => (ended ? r : destroy(...args));
  return {
    endWith(status, last) {
      if (ended || res.writableEnded || clientGone(res)) return false;
      if (!res.headersSent) {
        const body = Buffer.from(JSON.stringify(status));
        writeHead(res, status.code, {
          "content-type": "application/json",
          "content-length": String(body.length),
          "cache-control": "no-store",
        });
        write(body);
        ended = true;
        end();
        return true;
      }
      if (lastByte !== 0x0a) return false;
      write(last);
      ended = true;
      end();
      return true;
    },
  };
}

/**
 * Sends `status` on an exec/attach stream's error channel, then closes the WebSocket normally. Binary channel
 * protocols (v4, v5.channel.k8s.io, channel.k8s.io) prefix the channel byte; base64 ones the channel digit.
 */
export function endExecWith(ws: WebSocket, protocol: string, status: Status, reason: string): void {
  const json = Buffer.from(JSON.stringify(status));
  if (protocol.includes("base64")) ws.send(`3${json.toString("base64")}`);
  else ws.send(Buffer.concat([Buffer.from([3]), json]));
  ws.close(1000, Buffer.from(reason).subarray(0, 120).toString());
}
