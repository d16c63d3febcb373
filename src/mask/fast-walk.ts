// The generic half of the masking fast path: walk() and walkMember() of object.ts, on bytes. A ValueMasker reads a
// JSON value with ByteReader (which checks the grammar) and collects the output as slices of the input with only
// masked values replaced; fast-object.ts adds the rules that depend on an object's kind.
//
// A string is decoded only when a rule may apply: under 8 bytes it cannot reach a detector (maskString skips it),
// and one without \u or \/ escapes whose raw bytes hold no TRIGGER match cannot either: TRIGGER is ASCII, V8's
// non-unicode case folding never maps a non-ASCII character to ASCII, UTF-8 never hides an ASCII byte, and simple
// escapes stand only for characters that no TRIGGER word needs except `"`, whose byte is in the raw text too.
// Subtrees whose rules need their siblings (env lists, secret references) are decoded alone and masked by the
// slow path's own code. Counts go to a map of their own, merged by the caller only when the whole value succeeds.
import { ByteReader, OPEN_ARR, OPEN_OBJ, QUOTE } from "./byte-reader.ts";
import { addCount, type MaskCounts } from "./counts.ts";
import { TRIGGER } from "./detectors.ts";
import { type MaskContext, strengthOf, walk } from "./object.ts";
import { isMarker } from "./placeholder.ts";
import { valueIsSecret } from "./secretish.ts";

export const REFERENCE_KEYS = new Set(["secretKeyRef", "secretRef", "secret"]);

export class ValueMasker extends ByteReader {
  readonly ctx: MaskContext;
  readonly counts: MaskCounts = new Map();
  protected readonly start: number;
  #parts: Buffer[] = [];
  #from: number;

  constructor(b: Buffer, start: number, ctx: MaskContext) {
    super(b, start);
    this.start = start;
    this.#from = start;
    this.ctx = { profile: ctx.profile, ph: ctx.ph, counts: this.counts };
  }

  finish(): Buffer[] {
    if (this.#from < this.pos) this.#parts.push(this.b.subarray(this.#from, this.pos));
    return this.#parts;
  }

  protected replace(start: number, end: number, json: string): void {
    if (start > this.#from) this.#parts.push(this.b.subarray(this.#from, start));
    this.#parts.push(Buffer.from(json));
    this.#from = end;
  }

  /** Replaces the string read last with a marker of its text; `remember` as in object.ts marker(). */
  protected mark(rule: string, remember = false): void {
    const value = this.text();
    addCount(this.counts, rule);
    if (remember) this.ctx.remember?.(Buffer.from(value, "utf8"));
    this.replace(this.s - 1, this.e + 1, JSON.stringify(this.ctx.ph.marker(value)));
  }

  /** maskText on the string read last, decoding it only when a detector could find something. */
  protected detect(skipMarker: boolean): void {
    const { s, e } = this;
    if (e - s < 8) return; // decoded text is never longer than its bytes
    const set = this.ctx.profile.detectors;
    if (set.detectors.length === 0) return;
    if (!set.alwaysRun && !this.hard && !TRIGGER.test(this.b.toString("latin1", s, e))) return;
    const text = this.text();
    if (skipMarker && isMarker(text)) return;
    const masked = set.maskString(text, this.ctx.ph, this.counts);
    if (masked !== text) this.replace(s - 1, e + 1, JSON.stringify(masked));
  }

  /** Decodes the value at pos alone and masks it with the slow path's code. */
  protected subtree(mask: (value: unknown) => unknown): void {
    const start = this.pos;
    this.skipValue();
    const value: unknown = JSON.parse(this.b.toString("utf8", start, this.pos));
    this.replace(start, this.pos, JSON.stringify(mask(value)));
  }

  /** walkMember: a string next to a secret-sounding key is masked whole, any other is searched. */
  protected member(key: string): void {
    const c = this.b[this.pos];
    if (c !== QUOTE) {
      this.nested(key, c);
      return;
    }
    this.str();
    const strength = this.ctx.profile.secretSoundingKeys ? strengthOf(key) : undefined;
    if (strength !== undefined) {
      const text = this.text();
      if (isMarker(text)) return;
      if (valueIsSecret(strength, text)) {
        this.mark("secret-key", strength === "strong");
        return;
      }
    }
    this.detect(true);
  }

  /** walk() of a container (or a scalar) under `key`. */
  protected nested(key: string, c: number | undefined): void {
    const refs = this.ctx.profile.secretReferences;
    if (c === OPEN_OBJ) {
      if (refs && REFERENCE_KEYS.has(key)) this.subtree((v) => walk(v, this.ctx, key));
      else this.members((k) => this.member(k));
    } else if (c === OPEN_ARR) {
      if (key === "env" || (refs && key === "imagePullSecrets")) this.subtree((v) => walk(v, this.ctx, key));
      else this.elements(() => this.element());
    } else {
      this.scalar();
    }
  }

  /** walk() of an array element: strings searched, containers walked with no parent key. */
  protected element(): void {
    const c = this.b[this.pos];
    if (c !== QUOTE) {
      this.nested("", c);
      return;
    }
    this.str();
    this.detect(false);
  }
}
