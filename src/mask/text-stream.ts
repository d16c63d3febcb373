// A byte-stream masker for logs and exec/attach output: detectors applied to a stream that arrives in arbitrary
// chunks, so a secret split across chunks (or across the bytes of a UTF-8 character) is still found.
//
// Bytes are read as latin1 (one char per byte, so nothing is decoded or re-encoded and binary output passes through
// byte for byte); every built-in pattern is ASCII. Each push emits everything except the tail where some detector's
// `partial` pattern says a secret may still be arriving — the only delay is what the longest in-progress pattern
// needs. The last CONTEXT bytes already emitted are kept (unmasked, in memory only) so a key such as `Bearer ` or
// `password=` seen in an earlier chunk still gives meaning to the value in this one.
//
// Fail closed: held text never exceeds maxHold; past it the text is emitted with every complete or truncated match
// masked (a truncated PEM block is masked to the end of the text). Markers are HMACs of the secret's bytes, so the
// same value gets the same marker in a log line as in a JSON field.
import { addCount, type MaskCounts } from "./counts.ts";
import { type Detector, type DetectorSet, findSecrets, type Span } from "./detectors.ts";
import type { Placeholders } from "./placeholder.ts";

const CONTEXT = 512;
export const DEFAULT_MAX_HOLD = 72 * 1024;

const isContinuation = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  return c >= 0x80 && c <= 0xbf;
};

/** Widens a span so it never cuts a UTF-8 character in two (its bytes are latin1 chars here). */
function wholeCharacters(text: string, s: Span): Span {
  let { start, end } = s;
  while (start > 0 && isContinuation(text, start)) start--;
  while (end < text.length && isContinuation(text, end)) end++;
  return { ...s, start, end };
}

export class TextStreamMasker {
  readonly #set: DetectorSet;
  readonly #ph: Placeholders;
  readonly #counts: MaskCounts;
  readonly #maxHold: number;
  #context = "";
  #pending = "";

  constructor(set: DetectorSet, ph: Placeholders, counts: MaskCounts, maxHold = DEFAULT_MAX_HOLD) {
    this.#set = set;
    this.#ph = ph;
    this.#counts = counts;
    this.#maxHold = maxHold;
  }

  /** Bytes held back, waiting for the rest of a possible secret. */
  get held(): number {
    return this.#pending.length;
  }

  /** Feeds a chunk; returns the bytes that may be emitted now (possibly empty). */
  push(chunk: Uint8Array): Buffer {
    this.#pending += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    return this.#emit(false);
  }

  /** The stream ended: everything held is emitted, masked. */
  end(): Buffer {
    return this.#emit(true);
  }

  /**
   * Where the held tail starts. A detector whose hint is absent can only have a partial match as long as its
   * partialBound, so only that tail is searched; a full search of the window per frame dominated exec output.
   */
  #holdFrom(text: string, base: number, active: readonly Detector[]): number {
    let hold = text.length;
    const windowStart = Math.max(0, text.length - this.#maxHold - CONTEXT);
    let window: string | undefined;
    for (const d of this.#set.detectors) {
      if (d.holdFrom) {
        const at = d.holdFrom(text.slice(windowStart)) + windowStart;
        if (at < hold) hold = at;
        continue;
      }
      let from = windowStart;
      if (d.partialBound !== undefined && !active.includes(d)) {
        if (d.partialBound === 0) continue;
        // One character more than the bound, so a look-behind sees what precedes the longest possible match.
        from = Math.max(windowStart, text.length - d.partialBound - 1);
      } else if (d.partialStart) {
        // One character before it, for the look-behind.
        from = Math.max(windowStart, d.partialStart(text) - 1);
      }
      if (from === windowStart && window === undefined) window = text.slice(windowStart);
      const m = d.partial.exec(from === windowStart ? (window as string) : text.slice(from));
      if (!m) continue;
      const at = (m.indices?.groups?.h?.[0] ?? m.index) + from;
      if (at < hold) hold = at;
    }
    if (hold < base) hold = base;
    // Past the bound the text goes out masked as far as the patterns match; never held without limit.
    if (text.length - hold > this.#maxHold) hold = text.length;
    return hold;
  }

  #emit(final: boolean): Buffer {
    const base = this.#context.length;
    const text = this.#context + this.#pending;
    // The detectors whose hint is in the text (all of them for hint-less user patterns); the rest cannot match.
    const active = this.#set.detectors.filter((d) => !d.hint || d.hint.test(text));
    let hold = final ? text.length : this.#holdFrom(text, base, active);
    if (hold === base && !final) return Buffer.alloc(0);
    const spans = (active.length > 0 ? findSecrets(text, active) : [])
      .filter((s) => s.end > base)
      .map((s) => wholeCharacters(text, s));
    // A secret that runs past the hold point is held whole, so it is never emitted in two pieces.
    for (const s of spans) if (s.start < hold && s.end > hold) hold = Math.max(base, s.start);
    const parts: Buffer[] = [];
    let at = base;
    for (const s of spans) {
      if (s.end > hold || s.start >= hold) continue;
      const start = Math.max(s.start, at);
      if (start > at) parts.push(Buffer.from(text.slice(at, start), "latin1"));
      parts.push(
        Buffer.from(this.#ph.marker(s.value ?? Buffer.from(text.slice(s.start, s.end), "latin1")), "utf8"),
      );
      addCount(this.#counts, s.rule);
      at = s.end;
    }
    if (hold > at) parts.push(Buffer.from(text.slice(at, hold), "latin1"));
    this.#context = text.slice(Math.max(0, hold - CONTEXT), hold);
    this.#pending = text.slice(hold);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}
