// kubectl port-forward over SPDY/3.1 tunnelled in WebSocket binary messages (§2.10): the simulator is the SPDY
// server the kubelet would be. Each forwarded connection arrives as an `error` stream and a `data` stream sharing a
// `requestid` and `port`; both get a SYN_REPLY, data is relayed to the pod's in-process responder, and a refused port
// is reported on the error stream with the kubelet's words. PINGs are answered; GOAWAY or a protocol error ends the
// session.
//
// Stance: a malformed frame or header block ends the whole session with GOAWAY (fail closed, no guessing); the
// socket backlog is bounded by pausing the pod-side connections while it is high.
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import {
  FLAG_FIN,
  GOAWAY_STATUS,
  RST_STATUS,
  type SpdyFrame,
  SpdyFrameReader,
  writeDataFrame,
  writeGoaway,
  writePing,
  writeRstStream,
  writeSynReply,
} from "../../../../src/shared/spdy/frames.ts";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderDeflater,
  HeaderInflater,
} from "../../../../src/shared/spdy/headers.ts";
import type { PodView } from "./pod.ts";
import { connectToPort } from "./responder.ts";

const HIGH_WATER = 1 << 20;
const MAX_DATA_FRAME = 32 * 1024;

interface Pair {
  port: string;
  error?: number;
  data?: number;
  conn?: Duplex;
}

export function runSpdyPortForward(view: PodView, ws: WebSocket): void {
  const reader = new SpdyFrameReader();
  const inflater = new HeaderInflater();
  const deflater = new HeaderDeflater();
  const pairs = new Map<string, Pair>();
  const streamToPair = new Map<number, Pair>();
  let lastStreamId = 0;
  let closed = false;

  const write = (bytes: Buffer) => {
    if (!closed && ws.readyState === ws.OPEN) ws.send(bytes, { binary: true });
  };
  const congested = () => ws.bufferedAmount > HIGH_WATER;
  const shutdown = (status: number) => {
    if (closed) return;
    write(writeGoaway(lastStreamId, status));
    closed = true;
    for (const p of pairs.values()) p.conn?.destroy();
    pairs.clear();
    ws.close(1000);
  };
  const sendData = (streamId: number, data: Buffer, fin: boolean) => {
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME) {
      const last = at + MAX_DATA_FRAME >= data.length;
      write(writeDataFrame(streamId, data.subarray(at, at + MAX_DATA_FRAME), fin && last ? FLAG_FIN : 0));
    }
    if (data.length === 0) write(writeDataFrame(streamId, data, fin ? FLAG_FIN : 0));
  };

  const start = (pair: Pair) => {
    const { error, data } = pair as Required<Pick<Pair, "error" | "data">>;
    const port = Number(pair.port);
    const conn = Number.isInteger(port) && port > 0 && port < 65536 ? connectToPort(view, port) : undefined;
    if (!conn?.ok) {
      const message = conn ? conn.message : `unable to parse "${pair.port}" as a port: invalid syntax`;
      sendData(error, Buffer.from(message, "utf8"), true);
      sendData(data, Buffer.alloc(0), true);
      return;
    }
    pair.conn = conn.socket;
    conn.socket.on("data", (chunk: Buffer) => {
      sendData(data, chunk, false);
      if (congested()) {
        conn.socket.pause();
        const resume = setInterval(() => {
          if (closed || !congested()) {
            clearInterval(resume);
            conn.socket.resume();
          }
        }, 10);
      }
    });
    conn.socket.on("end", () => {
      sendData(data, Buffer.alloc(0), true);
      sendData(error, Buffer.alloc(0), true);
    });
    conn.socket.on("error", () => write(writeRstStream(data, RST_STATUS.internalError)));
  };

  const onSynStream = (frame: Extract<SpdyFrame, { type: "syn_stream" }>) => {
    const inflated = inflater.inflate(frame.headerBlock);
    const decoded = inflated.ok ? decodeHeaderBlock(inflated.block) : inflated;
    if (!decoded.ok) return shutdown(GOAWAY_STATUS.protocolError);
    if (frame.streamId % 2 !== 1 || frame.streamId <= lastStreamId) {
      write(writeRstStream(frame.streamId, RST_STATUS.protocolError));
      return;
    }
    lastStreamId = frame.streamId;
    write(writeSynReply(frame.streamId, deflater.deflate(encodeHeaderBlock([]))));
    const type = decoded.headers.get("streamtype")?.[0];
    const port = decoded.headers.get("port")?.[0] ?? "";
    const requestId = decoded.headers.get("requestid")?.[0] ?? String(frame.streamId);
    if (type !== "error" && type !== "data") {
      write(writeRstStream(frame.streamId, RST_STATUS.protocolError));
      return;
    }
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = { port };
      pairs.set(requestId, pair);
    }
    pair[type] = frame.streamId;
    streamToPair.set(frame.streamId, pair);
    if (pair.error !== undefined && pair.data !== undefined) start(pair);
  };

  const onFrame = (frame: SpdyFrame) => {
    switch (frame.type) {
      case "syn_stream":
        return onSynStream(frame);
      case "data": {
        const pair = streamToPair.get(frame.streamId);
        if (!pair || frame.streamId !== pair.data || !pair.conn) return;
        if (frame.data.length > 0) pair.conn.write(frame.data);
        if (frame.flags & FLAG_FIN) pair.conn.end();
        return;
      }
      case "rst_stream": {
        const pair = streamToPair.get(frame.streamId);
        pair?.conn?.destroy();
        return;
      }
      case "ping":
        if (frame.id % 2 === 1) write(writePing(frame.id)); // odd ids are the client's: echo them
        return;
      case "goaway":
        return shutdown(GOAWAY_STATUS.ok);
      default:
        return; // SETTINGS, WINDOW_UPDATE, HEADERS: nothing for a port-forward server to do
    }
  };

  ws.on("message", (msg, isBinary) => {
    if (!isBinary || closed) return;
    const buf = Array.isArray(msg) ? Buffer.concat(msg) : Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
    const { frames, error } = reader.push(buf);
    for (const f of frames) onFrame(f);
    if (error) shutdown(GOAWAY_STATUS.protocolError);
  });
  ws.on("close", () => {
    closed = true;
    for (const p of pairs.values()) p.conn?.destroy();
    pairs.clear();
  });
}
