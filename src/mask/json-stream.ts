// Streaming JSON masking. A list or Table is split at its top-level `items` / `rows` array and masked element by
// element, so a 50 MB list needs memory for its largest element, not for the list. A watch stream is a sequence of
// top-level JSON values (one event each, newline-terminated by the apiserver, though clients must not rely on it);
// each event is masked and written as soon as it is complete — nothing waits for the stream to end.
//
// The scanner only tracks strings, escapes and bracket depth; each element is then parsed with JSON.parse, so what
// is masked is exactly what the client would decode. Fail closed: anything that is not well-formed JSON, an element
// larger than maxElementBytes, or trailing garbage throws a MaskingError, and the caller refuses or cuts the stream.
import { type MaskedItem, maskItemAt, maskRowAt } from "./fast-object.ts";
import { dropRemainingCount, filterDocument, type ItemKeep, rowObject } from "./filter.ts";
import { type MaskContext, maskObject, maskTableRow, nameColumnOf } from "./object.ts";

export class MaskingError extends Error {}

export const DEFAULT_MAX_ELEMENT_BYTES = 32 * 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;
const COMMA_BYTES = Buffer.from(",");

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

type Phase = "start" | "head" | "elements" | "tail" | "done";

/** Collects byte slices of one value across chunks, bounded. */
class Capture {
  parts: Buffer[] = [];
  size = 0;
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  add(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.size > this.#max) throw new MaskingError(`a JSON value is larger than ${this.#max} bytes`);
    this.parts.push(part);
  }
  takeBytes(): Buffer {
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return bytes;
  }
  take(): string {
    return this.takeBytes().toString("utf8");
  }
}

/** One buffer per push: many small slices would each cost a write downstream. */
function coalesce(out: Buffer[]): Buffer[] {
  return out.length > 1 ? [Buffer.concat(out)] : out;
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MaskingError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Masks one JSON document (object, list or Table), streaming the elements of a List's `items` or a Table's `rows`.
 * push() returns output as it becomes safe to send; end() checks the document was complete.
 */
export class JsonDocumentMasker {
  readonly #ctx: MaskContext;
  readonly #kindHint: string | undefined;
  readonly #capture: Capture;
  #phase: Phase = "start";
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Bytes of the current head, element or tail are being collected (they continue into the next chunk). */
  #capturing = false;
  #elements = 0;
  #maskElement: (value: unknown) => unknown = (v) => v;
  /** The byte-level fast path for one element (fast-object.ts), set once the list or Table is recognised. */
  #fastElement: ((bytes: Buffer, start: number) => MaskedItem | undefined) | undefined;
  /** Once true, the document is not a list or Table: it is buffered whole and masked at the end. */
  #whole = false;
  /** Policy's per-item filter (filter.ts): each element is decoded and dropped unless it passes. */
  readonly #keep: ItemKeep | undefined;
  /** The object an element stands for: the item itself, or a Table row's object. */
  #objectOf: (element: unknown) => unknown = (v) => v;

  readonly #maxElementBytes: number;

  constructor(
    ctx: MaskContext,
    kindHint: string | undefined,
    maxElementBytes = DEFAULT_MAX_ELEMENT_BYTES,
    keep?: ItemKeep,
  ) {
    this.#ctx = ctx;
    this.#kindHint = kindHint;
    this.#maxElementBytes = maxElementBytes;
    this.#capture = new Capture(maxElementBytes);
    this.#keep = keep;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.#phase === "done") {
      if (chunk.some((c) => !isSpace(c))) throw new MaskingError("data after the end of the JSON document");
      return out;
    }
    const n = chunk.length;
    let start = this.#capturing ? 0 : -1;
    let i = 0;
    // The next backslash in this chunk (n when none): found once, not once per string.
    let backslash = -1;
    while (i < n) {
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          i++;
          continue;
        }
        // Jump to the next quote or backslash: strings are most of the bytes.
        if (backslash < i) {
          backslash = chunk.indexOf(BACKSLASH, i);
          if (backslash === -1) backslash = n;
        }
        let q = chunk.indexOf(QUOTE, i);
        if (q === -1) q = n;
        if (backslash < q) {
          this.#escape = true;
          i = backslash + 1;
          continue;
        }
        if (q === n) break;
        this.#inString = false;
        i = q + 1;
        continue;
      }
      const c = chunk[i] as number;
      if (this.#phase === "start") {
        if (isSpace(c)) {
          i++;
          continue;
        }
        if (c !== OPEN_OBJ) this.#whole = true; // not an object: nothing to stream
        this.#phase = "head";
        this.#capturing = true;
        start = i;
      } else if (this.#phase === "elements" && !this.#capturing) {
        if (isSpace(c) || c === COMMA) {
          i++;
          continue;
        }
        if (c === CLOSE_ARR) {
          this.#depth = 1;
          start = this.#beginTail(i);
          i++;
          continue;
        }
        // An item that ends inside this chunk is masked in place; one that does not (or that the fast path
        // declines) is captured and masked once complete.
        const item = this.#keep ? undefined : this.#fastElement?.(chunk, i);
        if (item) {
          if (item.end - i > this.#maxElementBytes) {
            throw new MaskingError(`a JSON value is larger than ${this.#maxElementBytes} bytes`);
          }
          if (this.#elements++ > 0) out.push(COMMA_BYTES);
          for (const p of item.parts) out.push(p);
          i = item.end;
          continue;
        }
        this.#capturing = true;
        start = i;
      }
      if (c === QUOTE) {
        this.#inString = true;
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        this.#depth++;
        if (c === OPEN_ARR && this.#depth === 2 && this.#phase === "head" && !this.#whole) {
          this.#capture.add(chunk.subarray(start, i + 1));
          this.#capturing = false;
          start = -1;
          if (!this.#beginElements(out)) {
            this.#capturing = true;
            start = i + 1;
          }
        }
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        this.#depth--;
        if (this.#depth < 0) throw new MaskingError("unbalanced JSON");
        if (this.#phase === "elements" && this.#depth === 1) {
          this.#capture.add(chunk.subarray(start, i));
          this.#emitElement(out);
          start = this.#beginTail(i);
        } else if (this.#depth === 0) {
          this.#capture.add(chunk.subarray(start, i + 1));
          this.#capturing = false;
          this.#finishDocument(out);
          if (chunk.subarray(i + 1).some((x) => !isSpace(x))) {
            throw new MaskingError("data after the end of the JSON document");
          }
          return coalesce(out);
        }
      } else if (c === COMMA && this.#phase === "elements" && this.#depth === 2) {
        this.#capture.add(chunk.subarray(start, i));
        this.#emitElement(out);
        this.#capturing = false;
        start = -1;
      }
      i++;
    }
    if (this.#capturing && start < n) this.#capture.add(chunk.subarray(start, n));
    return coalesce(out);
  }

  /** After the elements' closing `]`: the rest of the object is captured, behind a stand-in key so it parses. */
  #beginTail(closeAt: number): number {
    this.#phase = "tail";
    this.#capture.add(Buffer.from('{"__":0'));
    this.#capturing = true;
    return closeAt + 1;
  }

  end(): Buffer[] {
    if (this.#phase === "start") return []; // no body at all (HEAD, 204): nothing to mask
    if (this.#phase !== "done") throw new MaskingError("the JSON document ended early");
    return [];
  }

  /** Emits the masked head and returns true, or (not a list or Table) returns false to buffer the document whole. */
  #beginElements(out: Buffer[]): boolean {
    const text = this.#capture.take();
    // The head ends with `"items":[`: close it to parse what came before the elements.
    const head = parse(`${text}]}`, "the list header") as Record<string, unknown>;
    const kind = typeof head.kind === "string" ? head.kind : undefined;
    const key = /"(items|rows)"\s*:\s*\[$/.exec(text)?.[1];
    const lastKey = Object.keys(head).at(-1);
    const isList = key === "items" && kind?.endsWith("List");
    const isTable = key === "rows" && kind === "Table";
    if (!key || lastKey !== key || !(isList || isTable)) {
      // Not a list or a Table (or an unusual key order): keep everything and mask it as one document.
      this.#whole = true;
      this.#capture.add(Buffer.from(text));
      return false;
    }
    if (this.#keep) {
      dropRemainingCount(head);
      if (isTable) this.#objectOf = rowObject;
    }
    if (isTable) {
      const nameColumn = nameColumnOf(head.columnDefinitions);
      this.#maskElement = (row) => maskTableRow(row, this.#ctx, this.#kindHint, nameColumn);
      this.#fastElement = (bytes, start) => maskRowAt(bytes, start, this.#ctx, this.#kindHint, nameColumn);
    } else {
      const itemKind = (kind as string).slice(0, -4) || this.#kindHint;
      this.#maskElement = (item) => maskObject(item, this.#ctx, itemKind);
      this.#fastElement = (bytes, start) => maskItemAt(bytes, start, this.#ctx, itemKind);
    }
    const masked = JSON.stringify(maskObject(head, this.#ctx, this.#kindHint));
    if (!masked.endsWith("[]}")) throw new MaskingError("the list header changed shape while masking");
    out.push(Buffer.from(masked.slice(0, -2)));
    this.#phase = "elements";
    return true;
  }

  #emitElement(out: Buffer[]): void {
    const bytes = this.#capture.takeBytes();
    if (this.#keep) {
      const text = bytes.toString("utf8");
      if (text.trim() === "") throw new MaskingError("an empty element in a JSON array");
      const value = parse(text, "a list element");
      if (!this.#keep(this.#objectOf(value))) return;
      if (this.#elements++ > 0) out.push(COMMA_BYTES);
      out.push(Buffer.from(JSON.stringify(this.#maskElement(value))));
      return;
    }
    if (this.#elements++ > 0) out.push(COMMA_BYTES);
    const item = this.#fastElement?.(bytes, 0);
    if (item && bytes.subarray(item.end).every(isSpace)) {
      for (const p of item.parts) out.push(p);
      return;
    }
    const text = bytes.toString("utf8");
    if (text.trim() === "") throw new MaskingError("an empty element in a JSON array");
    out.push(Buffer.from(JSON.stringify(this.#maskElement(parse(text, "a list element")))));
  }

  #finishDocument(out: Buffer[]): void {
    const bytes = this.#capture.takeBytes();
    const tail = this.#phase === "tail";
    this.#phase = "done";
    if (tail) {
      const rest = parse(bytes.toString("utf8"), "the end of the list") as Record<string, unknown>;
      const masked = JSON.stringify(maskObject(rest, this.#ctx));
      out.push(Buffer.from(`]${masked.slice('{"__":0'.length)}`));
      return;
    }
    if (this.#keep) {
      const doc = filterDocument(parse(bytes.toString("utf8"), "the response"), this.#keep);
      out.push(Buffer.from(JSON.stringify(maskObject(doc, this.#ctx, this.#kindHint))));
      return;
    }
    // One object (a GET, a write's answer): the fast path too, unless it is a List, a Table or not an object.
    const item = maskItemAt(bytes, 0, this.#ctx, this.#kindHint);
    if (item && bytes.subarray(item.end).every(isSpace)) {
      for (const p of item.parts) out.push(p);
      return;
    }
    const doc = parse(bytes.toString("utf8"), "the response");
    out.push(Buffer.from(JSON.stringify(maskObject(doc, this.#ctx, this.#kindHint))));
  }
}
