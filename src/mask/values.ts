// Secret VALUES in free text: a detector that knows the actual bytes of the secrets that can appear (the values of the
// Secrets a pod references, and values masked before for the cluster) and finds them in exec, attach and log output
// however a command printed them — `printenv DB_PASSWORD`, `echo "pw: $DB_PASSWORD"`, `| base64` (any alignment, so
// inside a longer encoded text), `| xxd -p`, `| od -An -tx1`, `jq -R`, URL-encoding, JSON escaping.
//
// Encoded forms (base64, hex) and the raw value are also searched in a whitespace-squeezed view of the text, so a
// value that `base64` wrapped at 76 columns, `xxd -p` wrapped at 60, `od -An -tx1` or `od -c` spaced out, is still
// found. What cannot be found: a value the agent's own code transformed (rot13, reversed, split into pieces printed
// apart, compressed, encrypted); docs/masking.md says so.
//
// Streams: holdFrom() says where a match may still be arriving at the end of the text (the longest suffix that is a
// proper prefix of some form), so a value split across chunks is held back — at most the longest form — and found
// whole. Values live in memory only: never logged, never in the audit, never on disk. Pure.
import type { Detector, Span } from "./detectors.ts";
import { encodedForms, hexWordsCore, perByte } from "./encodings.ts";

/** Values longer than this are matched by their first MAX_VALUE_BYTES bytes (keeps the held tail bounded). */
export const MAX_VALUE_BYTES = 16 * 1024;
/** At most this many distinct values per matcher. */
export const MAX_VALUES = 1024;
export const DEFAULT_MIN_VALUE_BYTES = 6;
/** Pieces of a value this long are masked wherever they appear (output that wraps a value at a fixed width). */
export const PART_BYTES = 8;
const PART_CHARS = 2 * PART_BYTES;
const MAX_PART_VALUE = 256;
/**
 * Dumps print a value's bytes in a number column, then the same bytes as characters (`xxd -b`: 6 bytes a line in
 * binary; `xxd`, `hexdump -C`: 16 in hex): a line holding this many bytes of a value in binary or hex is masked to its
 * end, characters column included. What is left: at most LINE_PART_BYTES - 1 bytes where a value starts or ends
 * part-way through a line (docs/masking.md).
 */
export const LINE_PART_BYTES = 4;
/** How far back from the end of a chunk a line is looked at for a line piece whose characters column is to come. */
const MAX_DUMP_LINE = 512;
/** Index key length: every form is at least this long (a 6-byte value's shortest base64 core has 7 characters). */
const KEY = 6;
const WS = /[ \t\r\n]/;
const LINE_RULE = "secret-value-line-part";
const SPACES = /[ \t\r\n]/g;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

interface Form {
  text: string;
  rule: string;
  value: Buffer;
}

/** Forms indexed by their first KEY characters, plus the short prefixes (under KEY characters) for partial matches. */
/** A hash of KEY characters, rolled one character at a time: B^KEY wraps mod 2^32 like the hash. */
const B = 257;
let BK = 1;
for (let k = 0; k < KEY - 1; k++) BK = Math.imul(BK, B);
function keyHash(text: string, i: number): number {
  let h = 0;
  for (let k = 0; k < KEY; k++) h = (Math.imul(h, B) + text.charCodeAt(i + k)) | 0;
  return h;
}

class FormIndex {
  readonly #byKey = new Map<string, Form[]>();
  readonly #hashes = new Set<number>();
  readonly #shortPrefixes = new Set<string>();
  maxLength = 0;

  /**
   * Every position of `text` where some form starts, with the longest such form, left to right without overlaps.
   * A rolling hash of KEY characters screens each position, so only candidates are sliced and compared.
   */
  scan(text: string, found: (i: number, f: Form) => void): void {
    if (text.length < KEY) return;
    let h = keyHash(text, 0);
    let skipTo = 0;
    for (let i = 0; ; i++) {
      if (i >= skipTo && this.#hashes.has(h)) {
        const f = this.at(text, i);
        if (f) {
          found(i, f);
          // The next find may start inside this one's last PART_CHARS - 1 characters: a piece of a value that
          // ends a line overlaps the whole form before it; overlapping spans are merged by findSecrets.
          skipTo = i + Math.max(1, f.text.length - (PART_CHARS - 1));
        }
      }
      if (i + KEY >= text.length) return;
      h = (Math.imul(h - Math.imul(text.charCodeAt(i), BK), B) + text.charCodeAt(i + KEY)) | 0;
    }
  }

  add(form: Form): void {
    const key = form.text.slice(0, KEY);
    this.#hashes.add(keyHash(key, 0));
    const list = this.#byKey.get(key);
    if (list) list.push(form);
    else this.#byKey.set(key, [form]);
    for (let k = 1; k < KEY && k < form.text.length; k++) this.#shortPrefixes.add(form.text.slice(0, k));
    if (form.text.length > this.maxLength) this.maxLength = form.text.length;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** The longest form that starts at `i`, or undefined. */
  at(text: string, i: number): Form | undefined {
    const list = this.#byKey.get(text.slice(i, i + KEY));
    if (!list) return undefined;
    let best: Form | undefined;
    for (const f of list) {
      if ((!best || f.text.length > best.text.length) && text.startsWith(f.text, i)) best = f;
    }
    return best;
  }

  /** True when text[i..] (running to the end) is a proper prefix of some form. */
  prefixAt(text: string, i: number): boolean {
    const rest = text.length - i;
    if (rest < KEY) return this.#shortPrefixes.has(text.slice(i));
    const list = this.#byKey.get(text.slice(i, i + KEY));
    if (!list) return false;
    const tail = text.slice(i);
    return list.some((f) => f.text.length > rest && f.text.startsWith(tail));
  }
}

/** The text without spaces, tabs and line breaks, and where each of its characters was in the original. */
function squeeze(text: string, from: number): { text: string; at: number[] } {
  const at: number[] = [];
  for (let i = from; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) at.push(i);
  return { text: text.slice(from).replace(SPACES, ""), at };
}

export interface SecretValueMatcher {
  /** How many distinct values it looks for. */
  readonly values: number;
  readonly detector: Detector;
}

/**
 * A detector for these values (each at least `minBytes` long; shorter ones are left to the key rules). Undefined
 * when no value qualifies.
 */
export function secretValueMatcher(
  values: Iterable<Uint8Array>,
  minBytes = DEFAULT_MIN_VALUE_BYTES,
): SecretValueMatcher | undefined {
  const plain = new FormIndex();
  const squeezed = new FormIndex();
  const lines = new FormIndex();
  const linePieceSources: Buffer[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    if (seen.size >= MAX_VALUES) break;
    const value = Buffer.from(raw.subarray(0, MAX_VALUE_BYTES));
    if (value.length < Math.max(1, minBytes)) continue;
    const id = value.toString("latin1");
    if (seen.has(id)) continue;
    seen.add(id);
    for (const f of encodedForms(value, KEY)) {
      if (f.form === "hex-spaced") continue; // the squeezed view finds spaced hex as plain hex
      const rule = f.form === "raw" ? "secret-value" : `secret-value-${f.form}`;
      plain.add({ text: f.text, rule, value });
      const tight = f.text.replace(/[ \t\r\n]/g, "");
      if (tight.length >= KEY) squeezed.add({ text: tight, rule, value });
    }
    // Pieces: every PART_BYTES-long run of the value, raw and in hex, so output that breaks a value into lines of a
    // fixed width (plain `xxd` with its hex and ASCII columns, `od -c` with its offsets, `fold`) is masked piece by
    // piece. Only for values up to MAX_PART_VALUE bytes (longer ones are keys and certificates: the detectors').
    if (value.length <= MAX_PART_VALUE) linePieceSources.push(value);
    if (value.length > PART_BYTES && value.length <= MAX_PART_VALUE) {
      const raw = value.toString("latin1");
      const hex = value.toString("hex");
      for (let i = 0; i + PART_BYTES <= value.length; i++) {
        const piece = value.subarray(i, i + PART_BYTES);
        const pieces: [string, string][] = [
          [raw.slice(i, i + PART_BYTES), "secret-value-part"],
          [hex.slice(2 * i, 2 * (i + PART_BYTES)), "secret-value-hex-part"],
          [hex.slice(2 * i, 2 * (i + PART_BYTES)).toUpperCase(), "secret-value-hex-part"],
          // `od -to1` / `od -tu1` with their offset column (16 bytes a line).
          [perByte(piece, 8), "secret-value-octal-part"],
          [perByte(piece, 10), "secret-value-decimal-part"],
          // plain `hexdump`, `od -x`, `od -tx4` with their offsets: little-endian words.
          [hexWordsCore(piece, 2, 0), "secret-value-hex-words-part"],
          [hexWordsCore(piece, 4, 0), "secret-value-hex-words-part"],
        ];
        for (const [text, rule] of pieces) {
          plain.add({ text, rule, value });
          const tight = text.replace(/[ \t\r\n]/g, "");
          if (tight.length >= KEY) squeezed.add({ text: tight, rule, value });
        }
      }
    }
  }
  if (seen.size === 0) return undefined;
  for (const value of linePieceSources) {
    for (let i = 0; i + LINE_PART_BYTES <= value.length; i++) {
      const piece = value.subarray(i, i + LINE_PART_BYTES);
      const hex = Buffer.from(piece).toString("hex");
      for (const text of [perByte(piece, 2), hex, hex.toUpperCase()])
        lines.add({ text, rule: LINE_RULE, value });
    }
  }
  const maxLength = Math.max(plain.maxLength, squeezed.maxLength, lines.maxLength);

  /**
   * Line pieces in the squeezed view `tight` of `text`, each reaching to the end of its line (the dump's characters
   * column). `tight` is `text` without spaces, tabs and line breaks (the same string when it has none).
   */
  const lineSpans = (text: string, tight: string, out: Span[]) => {
    if (tight === text) return; // a dump's number column is spaced out; a solid run of hex is left to the forms
    let at: number[] | undefined;
    lines.scan(tight, (i, f) => {
      at ??= squeeze(text, 0).at;
      const start = at[i] as number;
      const last = at[i + f.text.length - 1] as number;
      // Only as a dump prints it, in groups (`3766 3163`, `37 66 31 63`, `00110111 01100110`): a hash or id that
      // happens to hold 4 bytes of a value in a row is not cut to the end of its line.
      if (!/[ \t]/.test(text.slice(start, last))) return;
      const eol = text.indexOf("\n", last);
      out.push({ start, end: eol < 0 ? text.length : eol, rule: f.rule, value: f.value });
    });
  };

  const spans = (text: string): Span[] => {
    const out: Span[] = [];
    plain.scan(text, (i, f) => out.push({ start: i, end: i + f.text.length, rule: f.rule, value: f.value }));
    const spaced = /[ \t\r\n]/.test(text);
    const tight = spaced ? text.replace(SPACES, "") : text;
    if (lines.size > 0) lineSpans(text, tight, out);
    if (!spaced) return out; // no whitespace: the plain search saw everything
    // The positions are mapped back only when something is found (most text holds no value).
    let at: number[] | undefined;
    squeezed.scan(tight, (i, f) => {
      at ??= squeeze(text, 0).at;
      const start = at[i] as number;
      const end = (at[i + f.text.length - 1] as number) + 1;
      out.push({ start, end, rule: f.rule, value: f.value });
    });
    return out;
  };

  const holdFrom = (text: string): number => {
    // Only the last maxLength - 1 characters (of the squeezed view) can start an unfinished match.
    let hold = text.length;
    for (let i = Math.max(0, text.length - maxLength); i < text.length; i++) {
      if (plain.prefixAt(text, i)) {
        hold = i;
        break;
      }
    }
    // The squeezed view: whitespace may stretch an unfinished match, so look back further in the original.
    let start = text.length;
    let kept = 0;
    while (start > 0 && kept < maxLength) {
      start--;
      if (!WS.test(text[start] as string)) kept++;
    }
    const s = squeeze(text, start);
    for (let i = 0; i < s.text.length; i++) {
      if (squeezed.prefixAt(s.text, i) || lines.prefixAt(s.text, i)) {
        hold = Math.min(hold, s.at[i] as number);
        break;
      }
    }
    // A line piece on the unfinished last line: its characters column may be still to come, so the line is held
    // from the piece on until it ends (lines longer than MAX_DUMP_LINE are not a dump's).
    if (lines.size > 0) {
      const lineStart = text.lastIndexOf("\n") + 1;
      if (text.length - lineStart <= MAX_DUMP_LINE) {
        const line: Span[] = [];
        const last = text.slice(lineStart);
        lineSpans(last, last.replace(SPACES, ""), line);
        for (const sp of line) hold = Math.min(hold, lineStart + sp.start);
      }
    }
    return hold;
  };

  const detector: Detector = {
    name: "secret-value",
    // Never run as patterns: spans() and holdFrom() replace them (the fields are required by the interface).
    pattern: /(?!)/dg,
    partial: /(?!)$/d,
    spans,
    holdFrom,
  };
  return { values: seen.size, detector };
}
