// SPDY/3 header blocks: the name/value encoding, and the zlib contexts that compress them with the SPDY/3
// dictionary. Each direction of a SPDY session is one zlib stream that spans every header block, cut by a sync flush
// after each block (Go's spdy framer does exactly this).
//
// Node's synchronous zlib calls are one-shot, so the continuing stream is modelled purely: each block is a run of
// complete raw-deflate blocks ending at a sync-flush boundary, and its back-references can reach only the previous
// 32 KiB of output (the SPDY dictionary counts as output before the first block). Inflating or deflating one block
// with that window as the preset dictionary is therefore exactly what a single long-lived zlib stream would do.
//
// Failure stance: a block that does not inflate, or whose lengths run past its end, is an error result; the session
// answers it with GOAWAY. Lower-case names are required, as SPDY/3 requires.
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { SPDY3_DICTIONARY } from "./dictionary.ts";

const WINDOW = 32 * 1024;
/** zlib header with FDICT: CMF 0x78 (deflate, 32 KiB window), FLG 0xbb (default level, FDICT, check bits). */
const ZLIB_HEADER = Buffer.from([0x78, 0xbb]);
/** Upper bound on one decompressed header block: port-forward headers are a few dozen bytes. */
const MAX_BLOCK = 64 * 1024;

export type HeaderMap = Map<string, string[]>;

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const DICTIONARY_ID = adler32(SPDY3_DICTIONARY);

/** The uncompressed name/value block: u32 count, then u32-length-prefixed names and values (NUL joins values). */
export function encodeHeaderBlock(headers: Iterable<[string, string | string[]]>): Buffer {
  const parts: Buffer[] = [];
  let count = 0;
  for (const [name, value] of headers) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(Array.isArray(value) ? value.join("\0") : value, "utf8");
    const lens = Buffer.alloc(4);
    lens.writeUInt32BE(n.length);
    const lenv = Buffer.alloc(4);
    lenv.writeUInt32BE(v.length);
    parts.push(lens, n, lenv, v);
    count++;
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(count);
  return Buffer.concat([head, ...parts]);
}

export function decodeHeaderBlock(
  block: Buffer,
): { ok: true; headers: HeaderMap } | { ok: false; error: string } {
  const headers: HeaderMap = new Map();
  if (block.length < 4) return { ok: false, error: "header block shorter than its count" };
  const count = block.readUInt32BE(0);
  let at = 4;
  const field = (): string | undefined => {
    if (at + 4 > block.length) return undefined;
    const len = block.readUInt32BE(at);
    if (at + 4 + len > block.length) return undefined;
    const text = block.toString("utf8", at + 4, at + 4 + len);
    at += 4 + len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = field();
    const value = field();
    if (name === undefined || value === undefined)
      return { ok: false, error: "header block lengths overrun" };
    if (name.length === 0 || name !== name.toLowerCase())
      return { ok: false, error: `bad header name "${name}"` };
    if (headers.has(name)) return { ok: false, error: `duplicate header "${name}"` };
    headers.set(name, value.split("\0"));
  }
  return { ok: true, headers };
}

/** Keeps the last WINDOW bytes of everything that passed through a zlib stream (dictionary first). */
class SlidingWindow {
  #bytes: Buffer = SPDY3_DICTIONARY;
  get bytes(): Buffer {
    return this.#bytes;
  }
  append(data: Buffer): void {
    const joined = Buffer.concat([this.#bytes, data]);
    this.#bytes = joined.length > WINDOW ? joined.subarray(joined.length - WINDOW) : joined;
  }
}

/** The receiving zlib context of one SPDY session. */
export class HeaderInflater {
  #window = new SlidingWindow();
  #started = false;

  inflate(compressed: Buffer): { ok: true; block: Buffer } | { ok: false; error: string } {
    let body = compressed;
    if (!this.#started) {
      if (body.length < 2) return { ok: false, error: "header block shorter than the zlib header" };
      const cmf = body[0] as number;
      const flg = body[1] as number;
      if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0)
        return { ok: false, error: "not a zlib stream" };
      let skip = 2;
      if (flg & 0x20) {
        if (body.length < 6 || body.readUInt32BE(2) !== DICTIONARY_ID) {
          return { ok: false, error: "zlib stream names another dictionary" };
        }
        skip = 6;
      }
      body = body.subarray(skip);
      this.#started = true;
    }
    let block: Buffer;
    try {
      block = inflateRawSync(body, {
        dictionary: this.#window.bytes,
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_BLOCK,
      });
    } catch (err) {
      return { ok: false, error: `header block does not inflate: ${(err as Error).message}` };
    }
    this.#window.append(block);
    return { ok: true, block };
  }
}

/** The sending zlib context of one SPDY session. */
export class HeaderDeflater {
  #window = new SlidingWindow();
  #started = false;

  deflate(block: Buffer): Buffer {
    const body = deflateRawSync(block, {
      dictionary: this.#window.bytes,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    this.#window.append(block);
    if (this.#started) return body;
    this.#started = true;
    const id = Buffer.alloc(4);
    id.writeUInt32BE(DICTIONARY_ID);
    return Buffer.concat([ZLIB_HEADER, id, body]);
  }
}
