// A reader over the bytes of one JSON value, for the masking fast path: it checks the grammar as it goes (as
// JSON.parse would: control characters, escapes, literals, numbers, commas and colons) and records where each
// string is, so the caller can decide what to decode and what to replace, and slice everything else through.
//
// Failure stance: the reader never guesses. Anything it does not accept — bad JSON, nesting deeper than MAX_DEPTH,
// the end of the buffer inside the value — throws DECLINED, and the caller falls back to JSON.parse, the authority.
// Object keys are decoded through a small cache keyed by their bytes: the same few dozen keys repeat in every item.

export const DECLINED = new Error("the masking fast path declined this value");

const MAX_DEPTH = 100;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const NUMBER_BYTE = new Uint8Array(256);
for (const ch of "0123456789+-.eE") NUMBER_BYTE[ch.charCodeAt(0)] = 1;
// After a backslash: " \ / b f n r t (u is handled apart).
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const ch of '"\\/bfnrt') SIMPLE_ESCAPE[ch.charCodeAt(0)] = 1;

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
export const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
export const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

// Decoded keys by a hash of their bytes (direct-mapped; a collision just decodes again).
const KEY_SLOTS = 2048;
const keyText: (string | undefined)[] = new Array(KEY_SLOTS);
const keyBytes: (Buffer | undefined)[] = new Array(KEY_SLOTS);

export class ByteReader {
  readonly b: Buffer;
  readonly n: number;
  pos: number;
  /** The string read last: its content is [s, e); `esc`: it has escapes; `hard`: one of them is \u or \/. */
  s = 0;
  e = 0;
  esc = false;
  hard = false;
  #depth = 0;

  constructor(b: Buffer, start: number) {
    this.b = b;
    this.n = b.length;
    this.pos = start;
  }

  ws(): void {
    const b = this.b;
    let c = b[this.pos];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.pos];
  }

  /**
   * Reads the string at pos. `hard` matters to callers that look at raw bytes: simple escapes only stand for
   * control characters, quotes and backslashes, while \u and \/ can stand for letters and slashes.
   */
  str(): void {
    const b = this.b;
    if (b[this.pos] !== QUOTE) throw DECLINED;
    let i = this.pos + 1;
    let esc = false;
    let hard = false;
    for (;;) {
      if (i >= this.n) throw DECLINED;
      const c = b[i] as number;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        esc = true;
        const x = b[i + 1] as number;
        if (x === 0x75) {
          if (!HEX4.test(b.toString("latin1", i + 2, i + 6))) throw DECLINED;
          hard = true;
          i += 6;
          continue;
        }
        if (SIMPLE_ESCAPE[x] !== 1) throw DECLINED;
        if (x === 0x2f) hard = true;
        i += 2;
        continue;
      }
      if (c < 0x20) throw DECLINED;
      i++;
    }
    this.s = this.pos + 1;
    this.e = i;
    this.esc = esc;
    this.hard = hard;
    this.pos = i + 1;
  }

  /** The text of the string read last. */
  text(): string {
    if (this.esc) return JSON.parse(this.b.toString("utf8", this.s - 1, this.e + 1)) as string;
    return this.b.toString("utf8", this.s, this.e);
  }

  /** Reads an object key and returns its text. */
  key(): string {
    this.str();
    if (this.esc) return this.text();
    const { b, s, e } = this;
    let h = e - s;
    for (let i = s; i < e; i++) h = (Math.imul(h, 31) + (b[i] as number)) | 0;
    const slot = h & (KEY_SLOTS - 1);
    const known = keyBytes[slot];
    if (known !== undefined && known.length === e - s) {
      let same = true;
      for (let i = 0; i < known.length; i++) {
        if (known[i] !== b[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return keyText[slot] as string;
    }
    const text = b.toString("utf8", s, e);
    // A copy of its own (not a slice of the shared pool, which would keep 8 KiB alive per key).
    keyBytes[slot] = Uint8Array.prototype.slice.call(b, s, e) as Buffer;
    keyText[slot] = text;
    return text;
  }

  scalar(): void {
    const b = this.b;
    const start = this.pos;
    const c = b[start];
    const word = c === 0x74 ? "true" : c === 0x66 ? "false" : c === 0x6e ? "null" : undefined;
    if (word !== undefined) {
      if (start + word.length > this.n || b.toString("latin1", start, start + word.length) !== word) {
        throw DECLINED;
      }
      this.pos += word.length;
      return;
    }
    let i = start;
    while (i < this.n && NUMBER_BYTE[b[i] as number] === 1) i++;
    if (i === start || !NUMBER.test(b.toString("latin1", start, i))) throw DECLINED;
    this.pos = i;
  }

  /** Reads past any value, checking it. */
  skipValue(): void {
    const c = this.b[this.pos];
    if (c === QUOTE) this.str();
    else if (c === OPEN_OBJ) this.members(() => this.skipValue());
    else if (c === OPEN_ARR) this.elements(() => this.skipValue());
    else this.scalar();
  }

  /** An object: `each` is called with each key and pos at its value, which it must read. */
  members(each: (key: string) => void): void {
    this.#enter(OPEN_OBJ);
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJ) {
      this.pos++;
      this.#depth--;
      return;
    }
    for (;;) {
      this.ws();
      const key = this.key();
      this.ws();
      if (this.b[this.pos++] !== COLON) throw DECLINED;
      this.ws();
      each(key);
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_OBJ) break;
      if (c !== COMMA) throw DECLINED;
    }
    this.#depth--;
  }

  /** An array: `each` is called with pos at each element, which it must read. */
  elements(each: () => void): void {
    this.#enter(OPEN_ARR);
    this.ws();
    if (this.b[this.pos] === CLOSE_ARR) {
      this.pos++;
      this.#depth--;
      return;
    }
    for (;;) {
      this.ws();
      each();
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_ARR) break;
      if (c !== COMMA) throw DECLINED;
    }
    this.#depth--;
  }

  #enter(open: number): void {
    if (this.b[this.pos] !== open || ++this.#depth > MAX_DEPTH) throw DECLINED;
    this.pos++;
  }
}
