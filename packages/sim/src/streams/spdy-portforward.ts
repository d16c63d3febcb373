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
import type { PodView } from "./pod.ts";
import { connectToPort } from "./responder.ts";
import {
  dataFrame,
  type Frame,
  FrameSplitter,
  GOAWAY_CODE,
  goawayFrame,
  pingFrame,
  RST,
  rstStreamFrame,
  synReplyFrame,
} from "./spdy/frames.ts";
import { encodeNameValues, HeaderReader, HeaderWriter } from "./spdy/headers.ts";

const HIGH_WATER = 1 << 20;
const MAX_DATA_FRAME = 32 * 1024;

interface Pair {
  port: string;
  error?: number;
  data?: number;
  conn?: Duplex;
}

export function runSpdyPortForward(view: PodView, ws: WebSocket): void {
  const splitter = new FrameSplitter();
  const headerReader = new HeaderReader();
  const headerWriter = new HeaderWriter();
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
    write(goawayFrame(lastStreamId, status));
    closed = true;
    for (const p of pairs.values()) p.conn?.destroy();
    pairs.clear();
    ws.close(1000);
  };
  const sendData = (streamId: number, data: Buffer, fin: boolean) => {
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME) {
      const last = at + MAX_DATA_FRAME >= data.length;
      write(dataFrame(streamId, data.subarray(at, at + MAX_DATA_FRAME), fin && last));
    }
    if (data.length === 0) write(dataFrame(streamId, data, fin));
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
    conn.socket.on("error", () => write(rstStreamFrame(data, RST.internalError)));
  };

  const onSynStream = (frame: Extract<Frame, { kind: "syn_stream" }>) => {
    const headers = headerReader.read(frame.headerBlock);
    if (typeof headers === "string") return shutdown(GOAWAY_CODE.protocolError);
    if (frame.stream % 2 !== 1 || frame.stream <= lastStreamId) {
      write(rstStreamFrame(frame.stream, RST.protocolError));
      return;
    }
    lastStreamId = frame.stream;
    write(synReplyFrame(frame.stream, headerWriter.write(encodeNameValues([]))));
    const type = headers.get("streamtype")?.[0];
    const port = headers.get("port")?.[0] ?? "";
    const requestId = headers.get("requestid")?.[0] ?? String(frame.stream);
    if (type !== "error" && type !== "data") {
      write(rstStreamFrame(frame.stream, RST.protocolError));
      return;
    }
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = { port };
      pairs.set(requestId, pair);
    }
    pair[type] = frame.stream;
    streamToPair.set(frame.stream, pair);
    if (pair.error !== undefined && pair.data !== undefined) start(pair);
  };

  const onFrame = (frame: Frame) => {
    switch (frame.kind) {
      case "syn_stream":
        return onSynStream(frame);
      case "data": {
        const pair = streamToPair.get(frame.stream);
        if (!pair || frame.stream !== pair.data || !pair.conn) return;
        if (frame.payload.length > 0) pair.conn.write(frame.payload);
        if (frame.fin) pair.conn.end();
        return;
      }
      case "rst_stream": {
        const pair = streamToPair.get(frame.stream);
        pair?.conn?.destroy();
        return;
      }
      case "ping":
        if (frame.id % 2 === 1) write(pingFrame(frame.id)); // odd ids are the client's: echo them
        return;
      case "goaway":
        return shutdown(GOAWAY_CODE.ok);
      default:
        return; // SYN_REPLY, SETTINGS, HEADERS, WINDOW_UPDATE: nothing for a port-forward server to do
    }
  };

  ws.on("message", (msg, isBinary) => {
    if (!isBinary || closed) return;
    const buf = Array.isArray(msg) ? Buffer.concat(msg) : Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
    const { frames, error } = splitter.push(buf);
    for (const f of frames) onFrame(f);
    if (error) shutdown(GOAWAY_CODE.protocolError);
  });
  ws.on("close", () => {
    closed = true;
    for (const p of pairs.values()) p.conn?.destroy();
    pairs.clear();
  });
}
