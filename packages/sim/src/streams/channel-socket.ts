// A remote-command WebSocket seen as channels: sends framed messages with bounded buffering (the caller pauses its
// producer when `congested` and resumes on `onDrained`), decodes what the client sends, and ends the session with
// the error-channel Status followed by a normal close.
import type { WebSocket } from "ws";
import {
  CHANNEL,
  type ChannelStatus,
  decodeFrame,
  encodeFrame,
  encodeStatusPayload,
  type InboundFrame,
  type ProtocolFeatures,
  protocolFeatures,
} from "./channel.ts";

/** Above this many unsent bytes producers are paused; below LOW they resume. Bounds memory per session. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 16;

export class ChannelSocket {
  readonly ws: WebSocket;
  readonly features: ProtocolFeatures;
  #pending = 0;
  #drainWaiters: (() => void)[] = [];
  #finished = false;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.features = protocolFeatures(ws.protocol);
  }

  get open(): boolean {
    return !this.#finished && this.ws.readyState === this.ws.OPEN;
  }

  get congested(): boolean {
    return this.#pending > HIGH_WATER;
  }

  /** Calls `fn` once the backlog has fallen below the low-water mark. */
  onDrained(fn: () => void): void {
    if (this.#pending < LOW_WATER) fn();
    else this.#drainWaiters.push(fn);
  }

  send(channel: number, payload: Uint8Array | string): void {
    if (!this.open) return;
    const frame = encodeFrame(channel, payload);
    this.#pending += frame.length;
    this.ws.send(frame, { binary: true }, () => {
      this.#pending -= frame.length;
      if (this.#pending < LOW_WATER && this.#drainWaiters.length > 0) {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Client messages, decoded; text messages are not part of the binary protocols and are ignored. */
  onFrame(fn: (frame: InboundFrame) => void): void {
    this.ws.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      fn(decodeFrame(buf, this.features));
    });
  }

  /** Sends the final Status (if the protocol carries one) and closes normally. Idempotent. */
  finish(status: ChannelStatus): void {
    if (!this.open) return;
    const payload = encodeStatusPayload(status, this.features);
    if (payload) this.send(CHANNEL.error, payload);
    this.#finished = true;
    this.ws.close(1000);
  }
}
