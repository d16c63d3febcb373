// Watch streams: a sequence of top-level JSON objects `{"type":…,"object":…}` (§3), masked and written one event at
// a time as each completes — the stream itself is never buffered, only the event being read. With the Table Accept
// each event's object is a one-row Table, which maskObject handles like any Table.
//
// Fail closed: an event that is not a JSON object, is larger than maxEventBytes, or a stream that ends mid-event
// throws a MaskingError; the caller cuts the stream (nothing after the last complete event is sent).
import { maskEventAt } from "./fast-object.ts";
import { type ItemKeep, keepEvent } from "./filter.ts";
import { MaskingError } from "./json-stream.ts";
import { type MaskContext, maskObject } from "./object.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = Buffer.from("\n");
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function maskWatchEvent(event: unknown, ctx: MaskContext, kindHint: string | undefined): unknown {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new MaskingError("a watch event is not a JSON object");
  }
  const e = event as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    e[key] = key === "object" ? maskObject(e[key], ctx, kindHint) : maskObject(e[key], ctx);
  }
  return e;
}

export class WatchStreamMasker {
  readonly #ctx: MaskContext;
  readonly #kindHint: string | undefined;
  readonly #max: number;
  #parts: Buffer[] = [];
  #size = 0;
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Policy's per-item filter (filter.ts): an event whose object does not pass is dropped. */
  readonly #keep: ItemKeep | undefined;

  constructor(
    ctx: MaskContext,
    kindHint: string | undefined,
    maxEventBytes = 32 * 1024 * 1024,
    keep?: ItemKeep,
  ) {
    this.#ctx = ctx;
    this.#kindHint = kindHint;
    this.#max = maxEventBytes;
    this.#keep = keep;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = this.#depth > 0 ? 0 : -1;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          i++;
          continue;
        }
        const q = chunk.indexOf(QUOTE, i);
        const b = q === -1 ? chunk.indexOf(BACKSLASH, i) : chunk.subarray(i, q).indexOf(BACKSLASH);
        if (b !== -1) {
          this.#escape = true;
          i = (q === -1 ? b : i + b) + 1;
          continue;
        }
        if (q === -1) break;
        this.#inString = false;
        i = q + 1;
        continue;
      }
      const c = chunk[i] as number;
      if (this.#depth === 0) {
        if (isSpace(c)) {
          i++;
          continue;
        }
        if (c !== 0x7b) throw new MaskingError("a watch event does not start with '{'");
        start = i;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.#depth--;
        if (this.#depth === 0) {
          this.#add(chunk.subarray(start, i + 1));
          start = -1;
          out.push(this.#emit());
        }
      }
      i++;
    }
    if (start !== -1) this.#add(chunk.subarray(start, n));
    return out.filter((b) => b.length > 0);
  }

  end(): Buffer[] {
    if (this.#depth !== 0 || this.#size > 0)
      throw new MaskingError("the watch stream ended in the middle of an event");
    return [];
  }

  #add(part: Buffer): void {
    this.#size += part.length;
    if (this.#size > this.#max) throw new MaskingError(`a watch event is larger than ${this.#max} bytes`);
    this.#parts.push(part);
  }

  #emit(): Buffer {
    const bytes = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#size = 0;
    if (this.#keep) {
      const event = parseEvent(bytes);
      if (!keepEvent(event, this.#keep)) return Buffer.alloc(0);
      return Buffer.from(`${JSON.stringify(maskWatchEvent(event, this.#ctx, this.#kindHint))}\n`);
    }
    // Byte-level first (fast-object.ts); anything it declines is decoded, masked and encoded as before.
    const fast = maskEventAt(bytes, 0, this.#ctx, this.#kindHint);
    if (fast && bytes.subarray(fast.end).every(isSpace)) return Buffer.concat([...fast.parts, NEWLINE]);
    return Buffer.from(`${JSON.stringify(maskWatchEvent(parseEvent(bytes), this.#ctx, this.#kindHint))}\n`);
  }
}

function parseEvent(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new MaskingError(`a watch event is not valid JSON: ${(err as Error).message}`);
  }
}
