// SPDY/3.1 frames for the simulator's port-forward server (draft-mbelshe-httpbis-spdy-00 §2.2, §2.6): a splitter
// that turns a byte stream cut anywhere into frames, and the five frames a server writes. Header blocks stay
// compressed here (headers.ts inflates them).
//
// Layout. Control frame: 1 bit set, 15-bit version (3), 16-bit type, 8-bit flags, 24-bit length, payload. Data
// frame: 1 bit clear, 31-bit stream id, 8-bit flags, 24-bit length, payload.
//
// Fail closed: another version, a frame shorter than its type needs, DATA on stream 0 or a frame over 1 MiB is an
// error, and the splitter stays failed (the server answers GOAWAY and ends the session).

export const FIN = 0x01;
const VERSION = 3;
const MAX_PAYLOAD = 1 << 20;
const ID = 0x7fffffff;

const SYN_STREAM = 1;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
/** Least payload length of each control type (SYN_REPLY, SETTINGS, HEADERS, WINDOW_UPDATE are read and dropped). */
const LEAST: Record<number, number> = { 1: 10, 2: 4, 3: 8, 4: 4, 6: 4, 7: 8, 8: 4, 9: 8 };

export const RST = { protocolError: 1, internalError: 6 } as const;
export const GOAWAY_CODE = { ok: 0, protocolError: 1 } as const;

export type Frame =
  | { kind: "data"; stream: number; fin: boolean; payload: Buffer }
  | { kind: "syn_stream"; stream: number; headerBlock: Buffer }
  | { kind: "rst_stream"; stream: number; code: number }
  | { kind: "ping"; id: number }
  | { kind: "goaway"; lastGood: number; code: number }
  /** A control frame a port-forward server has nothing to do with (its type kept for tests and logs). */
  | { kind: "ignored"; type: number };

function decode(head: Buffer, payload: Buffer): Frame | string {
  const word = head.readUInt32BE(0);
  const flags = head[4] as number;
  if (!(word & 0x80000000)) {
    const stream = word & ID;
    if (stream === 0) return "a DATA frame on stream 0";
    return { kind: "data", stream, fin: (flags & FIN) !== 0, payload };
  }
  const version = (word >>> 16) & 0x7fff;
  const type = word & 0xffff;
  if (version !== VERSION) return `SPDY version ${version}, not 3`;
  if (payload.length < (LEAST[type] ?? 0)) return `control frame type ${type} is too short`;
  switch (type) {
    case SYN_STREAM:
      return { kind: "syn_stream", stream: payload.readUInt32BE(0) & ID, headerBlock: payload.subarray(10) };
    case RST_STREAM:
      return { kind: "rst_stream", stream: payload.readUInt32BE(0) & ID, code: payload.readUInt32BE(4) };
    case PING:
      return { kind: "ping", id: payload.readUInt32BE(0) };
    case GOAWAY:
      return { kind: "goaway", lastGood: payload.readUInt32BE(0) & ID, code: payload.readUInt32BE(4) };
    default:
      return { kind: "ignored", type };
  }
}

/** Collects bytes until whole frames are there; kubectl cuts its SPDY stream across WebSocket messages freely. */
export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);
  #error: string | undefined;

  push(chunk: Buffer): { frames: Frame[]; error?: string } {
    const frames: Frame[] = [];
    if (this.#error) return { frames, error: this.#error };
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buf.length >= 8) {
      const length = buf.readUIntBE(5, 3);
      if (length > MAX_PAYLOAD)
        return this.#fail(frames, `a frame of ${length} bytes is over the 1 MiB limit`);
      if (buf.length < 8 + length) break;
      const frame = decode(buf.subarray(0, 8), Buffer.from(buf.subarray(8, 8 + length)));
      if (typeof frame === "string") return this.#fail(frames, frame);
      frames.push(frame);
      buf = buf.subarray(8 + length);
    }
    this.#pending = Buffer.from(buf); // own the remainder: the caller may reuse its chunk
    return { frames };
  }

  #fail(frames: Frame[], error: string): { frames: Frame[]; error: string } {
    this.#error = error;
    this.#pending = Buffer.alloc(0);
    return { frames, error };
  }
}

function control(type: number, fields: number[], tail: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(8 + fields.length * 4 + tail.length);
  out.writeUInt32BE((0x80000000 | (VERSION << 16) | type) >>> 0, 0);
  out.writeUIntBE(fields.length * 4 + tail.length, 5, 3);
  fields.forEach((value, i) => {
    out.writeUInt32BE(value >>> 0, 8 + i * 4);
  });
  tail.copy(out, 8 + fields.length * 4);
  return out;
}

export function dataFrame(stream: number, payload: Uint8Array, fin: boolean): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32BE(stream & ID, 0);
  out[4] = fin ? FIN : 0;
  out.writeUIntBE(payload.length, 5, 3);
  out.set(payload, 8);
  return out;
}

export const synReplyFrame = (stream: number, headerBlock: Buffer): Buffer =>
  control(2, [stream & ID], headerBlock);
export const rstStreamFrame = (stream: number, code: number): Buffer =>
  control(RST_STREAM, [stream & ID, code]);
export const pingFrame = (id: number): Buffer => control(PING, [id]);
export const goawayFrame = (lastGood: number, code: number): Buffer => control(GOAWAY, [lastGood & ID, code]);
