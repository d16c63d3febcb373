// SPDY/3.1 framing as pure functions: an incremental reader that turns arbitrarily split bytes into frames, and the
// writers for the frames a port-forward server sends. Header blocks stay compressed here; spdy-headers.ts owns the
// zlib context. Layouts follow draft-mbelshe-httpbis-spdy-00 §2.2 and §2.6.
//
// Failure stance: a frame that is too large, of another SPDY version, or shorter than its type requires ends the
// session (the reader returns an error and stops); the peer gets a GOAWAY, never a half-understood stream.

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
/** The most the reader buffers for one frame: header blocks and port-forward data chunks are far smaller. */
export const MAX_FRAME_PAYLOAD = 1 << 20;

export const FRAME_TYPE = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const RST_STATUS = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  cancel: 5,
  internalError: 6,
} as const;
export const GOAWAY_STATUS = { ok: 0, protocolError: 1, internalError: 2 } as const;

export type SpdyFrame =
  | { type: "data"; streamId: number; flags: number; data: Buffer }
  | {
      type: "syn_stream";
      streamId: number;
      associatedStreamId: number;
      priority: number;
      flags: number;
      headerBlock: Buffer;
    }
  | { type: "syn_reply"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "headers"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings"; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "window_update"; streamId: number; delta: number }
  | { type: "unknown"; frameType: number; flags: number; payload: Buffer };

export type ParseResult = { ok: true; frame: SpdyFrame } | { ok: false; error: string };

const STREAM_ID_MASK = 0x7fffffff;

/** Parses one complete frame (8-byte header + payload). */
export function parseFrame(bytes: Buffer): ParseResult {
  if (bytes.length < 8) return { ok: false, error: "short frame header" };
  const first = bytes.readUInt32BE(0);
  const flags = bytes[4] as number;
  const length = bytes.readUIntBE(5, 3);
  const p = bytes.subarray(8, 8 + length);
  if (p.length !== length) return { ok: false, error: "truncated frame" };
  if ((first & 0x80000000) === 0) {
    const streamId = first & STREAM_ID_MASK;
    if (streamId === 0) return { ok: false, error: "data frame on stream 0" };
    return { ok: true, frame: { type: "data", streamId, flags, data: p } };
  }
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) return { ok: false, error: `unsupported SPDY version ${version}` };
  const frameType = first & 0xffff;
  const need = (n: number): ParseResult | undefined =>
    p.length < n ? { ok: false, error: `frame type ${frameType} shorter than ${n} bytes` } : undefined;
  switch (frameType) {
    case FRAME_TYPE.synStream:
      return (
        need(10) ?? {
          ok: true,
          frame: {
            type: "syn_stream",
            streamId: p.readUInt32BE(0) & STREAM_ID_MASK,
            associatedStreamId: p.readUInt32BE(4) & STREAM_ID_MASK,
            priority: (p[8] as number) >>> 5,
            flags,
            headerBlock: p.subarray(10),
          },
        }
      );
    case FRAME_TYPE.synReply:
    case FRAME_TYPE.headers:
      return (
        need(4) ?? {
          ok: true,
          frame: {
            type: frameType === FRAME_TYPE.synReply ? "syn_reply" : "headers",
            streamId: p.readUInt32BE(0) & STREAM_ID_MASK,
            flags,
            headerBlock: p.subarray(4),
          },
        }
      );
    case FRAME_TYPE.rstStream:
      return (
        need(8) ?? {
          ok: true,
          frame: {
            type: "rst_stream",
            streamId: p.readUInt32BE(0) & STREAM_ID_MASK,
            status: p.readUInt32BE(4),
          },
        }
      );
    case FRAME_TYPE.settings: {
      const short = need(4);
      if (short) return short;
      const count = p.readUInt32BE(0);
      if (p.length < 4 + count * 8) return { ok: false, error: "settings frame shorter than its entries" };
      const entries = [];
      for (let i = 0; i < count; i++) {
        const at = 4 + i * 8;
        entries.push({ flags: p[at] as number, id: p.readUIntBE(at + 1, 3), value: p.readUInt32BE(at + 4) });
      }
      return { ok: true, frame: { type: "settings", flags, entries } };
    }
    case FRAME_TYPE.ping:
      return need(4) ?? { ok: true, frame: { type: "ping", id: p.readUInt32BE(0) } };
    case FRAME_TYPE.goaway:
      return (
        need(8) ?? {
          ok: true,
          frame: {
            type: "goaway",
            lastGoodStreamId: p.readUInt32BE(0) & STREAM_ID_MASK,
            status: p.readUInt32BE(4),
          },
        }
      );
    case FRAME_TYPE.windowUpdate:
      return (
        need(8) ?? {
          ok: true,
          frame: {
            type: "window_update",
            streamId: p.readUInt32BE(0) & STREAM_ID_MASK,
            delta: p.readUInt32BE(4) & STREAM_ID_MASK,
          },
        }
      );
    default:
      return { ok: true, frame: { type: "unknown", frameType, flags, payload: p } };
  }
}

/**
 * Reassembles frames from a byte stream cut at arbitrary points (kubectl splits its SPDY stream across WebSocket
 * messages without regard to frame boundaries). After an error it stays failed.
 */
export class SpdyFrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: string | undefined;

  push(chunk: Buffer): { frames: SpdyFrame[]; error?: string } {
    const frames: SpdyFrame[] = [];
    if (this.#failed) return { frames, error: this.#failed };
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 8) {
      const head = this.#peek(8);
      const length = head.readUIntBE(5, 3);
      if (length > MAX_FRAME_PAYLOAD) return this.#fail(frames, `frame of ${length} bytes exceeds the limit`);
      if (this.#buffered < 8 + length) break;
      const parsed = parseFrame(this.#take(8 + length));
      if (!parsed.ok) return this.#fail(frames, parsed.error);
      frames.push(parsed.frame);
    }
    return { frames };
  }

  #fail(frames: SpdyFrame[], error: string): { frames: SpdyFrame[]; error: string } {
    this.#failed = error;
    this.#chunks = [];
    this.#buffered = 0;
    return { frames, error };
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all.subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const frame = Buffer.from(all.subarray(0, n)); // a copy: the frame outlives the chunk it came in
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= n;
    return frame;
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32BE(v >>> 0, i * 4);
  });
  return b;
}

export function writeDataFrame(streamId: number, data: Uint8Array, flags = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  head[4] = flags;
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

export function writeSynStream(
  streamId: number,
  compressedHeaders: Buffer,
  flags = 0,
  associatedStreamId = 0,
  priority = 0,
): Buffer {
  const fixed = Buffer.concat([u32(streamId, associatedStreamId), Buffer.from([(priority & 7) << 5, 0])]);
  return controlFrame(FRAME_TYPE.synStream, flags, Buffer.concat([fixed, compressedHeaders]));
}

export function writeSynReply(streamId: number, compressedHeaders: Buffer, flags = 0): Buffer {
  return controlFrame(FRAME_TYPE.synReply, flags, Buffer.concat([u32(streamId), compressedHeaders]));
}

export function writeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(FRAME_TYPE.rstStream, 0, u32(streamId, status));
}

export function writePing(id: number): Buffer {
  return controlFrame(FRAME_TYPE.ping, 0, u32(id));
}

export function writeGoaway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(FRAME_TYPE.goaway, 0, u32(lastGoodStreamId, status));
}

export function writeWindowUpdate(streamId: number, delta: number): Buffer {
  return controlFrame(FRAME_TYPE.windowUpdate, 0, u32(streamId, delta));
}
