// Port-forward accounting: which ports were forwarded, how many connections each carried, and the bytes each way.
// The gateway relays the tunnel as bytes (src/gateway/forward/tunnel.ts); this reads a copy of them: WebSocket
// frames, then either SPDY/3.1 inside them (kubectl 1.31+: `SPDY/3.1+portforward.k8s.io`, one data and one error
// stream per connection, port and requestid in the SYN_STREAM headers) or the channel protocol (client libraries:
// two channels per port, the port in the first two bytes of each).
//
// Read-only and best effort: it never alters or delays the relay; what it cannot read is noted as `unreadable`.
// Connection events go to an append-only JSON-lines file as they happen; totals are in the recording's detail.

import { FLAG_FIN, SpdyFrameReader } from "../shared/spdy/frames.ts";
import { decodeHeaderBlock, HeaderInflater } from "../shared/spdy/headers.ts";
import type { StreamTap } from "./exec-recorder.ts";
import type { AppendFile } from "./file.ts";
import { WsFrameReader } from "./ws-frames.ts";

export interface PortTotals {
  connections: number;
  bytesToPod: number;
  bytesFromPod: number;
}

export interface PortForwardSummary {
  protocol: string;
  ports: Record<string, PortTotals>;
  unreadable: string | null;
}

interface StreamInfo {
  port: string;
  type: string;
  requestId: string;
}

export class PortForwardRecorder implements StreamTap {
  readonly #file: AppendFile;
  readonly #startedAt: number;
  readonly #spdy: boolean;
  readonly #protocol: string;
  readonly #fromClientWs = new WsFrameReader();
  readonly #toClientWs = new WsFrameReader();
  readonly #fromClientSpdy = new SpdyFrameReader();
  readonly #toClientSpdy = new SpdyFrameReader();
  readonly #inflater = new HeaderInflater();
  readonly #streams = new Map<number, StreamInfo>();
  readonly #ports = new Map<string, PortTotals>();
  /** Channel protocol: the port each channel carries, learnt from its first message. */
  readonly #channelPorts = new Map<number, string>();
  #unreadable: string | null = null;
  #ended = false;

  constructor(opts: { file: AppendFile; startedAt: number; protocol: string }) {
    this.#file = opts.file;
    this.#startedAt = opts.startedAt;
    this.#protocol = opts.protocol;
    this.#spdy = opts.protocol.startsWith("SPDY/3.1+");
  }

  #totals(port: string): PortTotals {
    let t = this.#ports.get(port);
    if (!t) {
      t = { connections: 0, bytesToPod: 0, bytesFromPod: 0 };
      this.#ports.set(port, t);
    }
    return t;
  }

  #log(entry: Record<string, unknown>): void {
    const t = Number(((performance.now() - this.#startedAt) / 1000).toFixed(6));
    this.#file.append(`${JSON.stringify({ t, ...entry })}\n`);
  }

  #fail(why: string): void {
    if (this.#unreadable) return;
    this.#unreadable = why;
    this.#log({ event: "unreadable", reason: why });
  }

  fromClient(data: Buffer): void {
    this.#read(data, true);
  }

  toClient(data: Buffer | string): void {
    this.#read(typeof data === "string" ? Buffer.from(data) : data, false);
  }

  #read(bytes: Buffer, fromClient: boolean): void {
    if (this.#unreadable || this.#ended) return;
    const ws = fromClient ? this.#fromClientWs : this.#toClientWs;
    const messages = ws.push(bytes);
    if (ws.failed) {
      this.#fail(ws.failed);
      return;
    }
    for (const m of messages) {
      if (this.#spdy) this.#spdyMessage(m, fromClient);
      else this.#channelMessage(m, fromClient);
    }
  }

  #spdyMessage(m: Buffer, fromClient: boolean): void {
    const reader = fromClient ? this.#fromClientSpdy : this.#toClientSpdy;
    const { frames, error } = reader.push(m);
    for (const f of frames) {
      if (f.type === "syn_stream" && fromClient) {
        const inflated = this.#inflater.inflate(f.headerBlock);
        if (!inflated.ok) {
          this.#fail(inflated.error);
          return;
        }
        const decoded = decodeHeaderBlock(inflated.block);
        if (!decoded.ok) {
          this.#fail(decoded.error);
          return;
        }
        const get = (name: string) => decoded.headers.get(name)?.[0] ?? "";
        const info = { port: get("port"), type: get("streamtype"), requestId: get("requestid") };
        this.#streams.set(f.streamId, info);
        if (info.type === "data") {
          this.#totals(info.port).connections++;
          this.#log({ event: "connection", port: Number(info.port), requestId: info.requestId });
        }
      } else if (f.type === "headers" && fromClient) {
        // Every client header block advances the shared zlib context, so it is inflated even though unused.
        const inflated = this.#inflater.inflate(f.headerBlock);
        if (!inflated.ok) {
          this.#fail(inflated.error);
          return;
        }
      } else if (f.type === "data") {
        const info = this.#streams.get(f.streamId);
        if (info?.type !== "data") continue;
        const t = this.#totals(info.port);
        if (fromClient) t.bytesToPod += f.data.length;
        else t.bytesFromPod += f.data.length;
        if (f.flags & FLAG_FIN && !fromClient) this.#closed(info);
      } else if (f.type === "rst_stream") {
        const info = this.#streams.get(f.streamId);
        if (info?.type === "data") this.#closed(info);
      }
    }
    if (error) this.#fail(error);
  }

  #closed(info: StreamInfo): void {
    const t = this.#totals(info.port);
    this.#log({ event: "closed", port: Number(info.port), requestId: info.requestId, totals: { ...t } });
  }

  #channelMessage(m: Buffer, fromClient: boolean): void {
    if (m.length === 0) return;
    const channel = m[0] as number;
    let payload = m.subarray(1);
    if (!this.#channelPorts.has(channel)) {
      if (payload.length < 2) return;
      const port = String(payload.readUInt16LE(0));
      this.#channelPorts.set(channel, port);
      payload = payload.subarray(2);
      if (channel % 2 === 0) {
        this.#totals(port).connections++;
        this.#log({ event: "connection", port: Number(port), channel });
      }
    }
    const port = this.#channelPorts.get(channel) as string;
    if (channel % 2 !== 0) return; // error channel
    const t = this.#totals(port);
    if (fromClient) t.bytesToPod += payload.length;
    else t.bytesFromPod += payload.length;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#log({ event: "end", ...this.summary() });
    void this.#file.close();
  }

  summary(): PortForwardSummary {
    return {
      protocol: this.#protocol,
      ports: Object.fromEntries([...this.#ports].map(([p, t]) => [p, { ...t }])),
      unreadable: this.#unreadable,
    };
  }
}
