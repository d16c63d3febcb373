// SPDY/3 name/value header blocks and their compression, for the simulator's port-forward server.
//
// Block: u32 count, then per pair a u32-length name (lower case, not empty, not repeated) and a u32-length value
// (several values joined by NUL).
//
// Compression: each direction of a session is ONE zlib stream preset with the SPDY dictionary and sync-flushed after
// every block. Reading: a sync-flushed block is a run of whole deflate blocks whose back-references reach at most
// 32 KiB into what was inflated before (the dictionary counting as the first output), so inflating each block alone
// with that history as the preset dictionary reads it exactly as the continuing stream would. Writing: blocks go
// out as stored (level 0) deflate blocks, which refer to nothing, so they need no history; still one valid zlib
// stream, which kubectl's framer reads like any other.
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { DICTIONARY } from "./dictionary.ts";

const HISTORY = 32 * 1024;
/** A port-forward SYN_STREAM carries three short headers; anything near this is not kubectl. */
const MAX_BLOCK = 64 * 1024;

export type NameValues = Map<string, string[]>;

export function encodeNameValues(pairs: [string, string][]): Buffer {
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(value, "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeNameValues(block: Buffer): NameValues | string {
  if (block.length < 4) return "the header block has no count";
  const out: NameValues = new Map();
  let at = 4;
  const next = (): string | undefined => {
    if (block.length - at < 4) return undefined;
    const length = block.readUInt32BE(at);
    if (block.length - at - 4 < length) return undefined;
    at += 4 + length;
    return block.toString("utf8", at - length, at);
  };
  for (let count = block.readUInt32BE(0); count > 0; count--) {
    const name = next();
    const value = next();
    if (name === undefined || value === undefined) return "a header length runs past the block";
    if (name === "" || name !== name.toLowerCase()) return `header name "${name}" is empty or not lower case`;
    if (out.has(name)) return `header "${name}" appears twice`;
    out.set(name, value.split("\0"));
  }
  if (at !== block.length) return "bytes follow the last header";
  return out;
}

/** The inflating side of one session. */
export class HeaderReader {
  #history: Buffer | undefined;

  read(compressed: Buffer): NameValues | string {
    let body = compressed;
    if (this.#history === undefined) {
      // The first block opens the zlib stream: CMF/FLG, and the dictionary's Adler-32 when FDICT is set.
      if (body.length < 2) return "the header block is shorter than a zlib header";
      const cmf = body[0] as number;
      const flg = body[1] as number;
      if ((cmf & 0x0f) !== 8 || cmf >>> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) return "not a zlib stream";
      const presetDictionary = (flg & 0x20) !== 0;
      if (presetDictionary && (body.length < 6 || body.readUInt32BE(2) !== DICTIONARY_ID))
        return "the zlib stream names a dictionary other than SPDY/3's";
      body = body.subarray(presetDictionary ? 6 : 2);
      this.#history = presetDictionary ? DICTIONARY : Buffer.alloc(0);
    }
    let block: Buffer;
    try {
      block = inflateRawSync(body, {
        ...(this.#history.length > 0 ? { dictionary: this.#history } : {}),
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_BLOCK,
      });
    } catch {
      return "the header block does not inflate";
    }
    const seen = Buffer.concat([this.#history, block]);
    this.#history = seen.subarray(Math.max(0, seen.length - HISTORY));
    return decodeNameValues(block);
  }
}

/** The deflating side of one session: stored blocks, after a zlib header (no preset dictionary needed). */
export class HeaderWriter {
  #opened = false;

  write(block: Buffer): Buffer {
    const deflated = deflateRawSync(block, { level: 0, finishFlush: constants.Z_SYNC_FLUSH });
    if (this.#opened) return deflated;
    this.#opened = true;
    return Buffer.concat([Buffer.from([0x78, 0x01]), deflated]); // CMF: deflate, 32 KiB window; FLG: level 0
  }
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export const DICTIONARY_ID = adler32(DICTIONARY);
