// Detectors: patterns that find secrets in free text and in any string field — cloud access keys, PEM private keys,
// JWTs, bearer/basic credentials, passwords in URLs and connection strings, `.dockerconfigjson` auth, values next to
// secret-sounding keys, and user-defined regular expressions.
//
// Each detector has a full pattern (group `s` is the secret when only part of the match is; otherwise the whole
// match) and a `partial` pattern anchored at the end of text that says where a secret may still be arriving, so a
// stream masker holds back only those characters and nothing else (see text-stream.ts). Pure functions, no IO.
import { addCount, type MaskCounts } from "./counts.ts";
import { KEY_VALUE } from "./key-value.ts";
import { isMarker, type Placeholders } from "./placeholder.ts";
import { looksRandom } from "./secretish.ts";

export interface Detector {
  name: string;
  /** Global, with indices (`d`): the secret is group `s` when present, else the whole match. */
  pattern: RegExp;
  /** Anchored at `$`: where a secret may be in progress at the end of the text; held from group `h` or the match. */
  partial: RegExp;
  /** A last check on a candidate (entropy, key strength); absent = always a secret. */
  accept?: (secret: string, match: RegExpExecArray) => boolean;
  /**
   * A necessary condition: every match of `pattern` contains a match of `hint`, so text without one is skipped.
   * Absent = the pattern always runs (user patterns).
   */
  hint?: RegExp;
  /**
   * The longest `partial` match that contains no `hint` match: when the hint is absent, only this many trailing
   * characters (plus one, for look-behinds) can hold a partial match. Absent = the whole window is searched.
   */
  partialBound?: number;
  /** Finds the matches `pattern` would, faster (key-value); absent = a global search with `pattern`. */
  matches?: (text: string) => Iterable<RegExpExecArray>;
  /** The earliest index where a `partial` match can start; absent = anywhere in the window. */
  partialStart?: (text: string) => number;
  /** Finds the spans itself (known secret values, values.ts); `pattern` and `accept` are then not used. */
  spans?: (text: string) => Span[];
  /** Where a match may still be arriving at the end of the text (text.length: nowhere); replaces `partial`. */
  holdFrom?: (text: string) => number;
}

export interface CustomPattern {
  name: string;
  regex: string;
  ignoreCase?: boolean;
  /** The longest text the pattern can match: how much a stream holds back for it. */
  maxLength?: number;
}

/** Every prefix of a literal, longest first, as an alternation (for partial patterns). */
function prefixes(literal: string): string {
  const out: string[] = [];
  for (let i = literal.length; i > 0; i--)
    out.push(literal.slice(0, i).replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"));
  return out.join("|");
}

const TOKEN = "A-Za-z0-9._~+/=-";

export const BUILTIN_DETECTORS: readonly Detector[] = [
  {
    name: "aws-access-key",
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/dg,
    partial: /(?<![A-Za-z0-9])A[A-Z0-9]{0,19}$/d,
    hint: /AKIA|ASIA|ABIA|ACCA/,
    partialBound: 20,
  },
  {
    name: "private-key",
    // A complete block, or (when the text ends first) the header and the body that follows it.
    pattern:
      /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----(?:[\s\S]{0,65536}?-----END[ A-Z0-9]{0,40}PRIVATE KEY-----|[A-Za-z0-9+/=\s:,.\\]*)/dg,
    partial: new RegExp(
      `(?:${prefixes("-----BEGIN")})$|-----BEGIN[ A-Z0-9]{0,40}(?:${prefixes("PRIVATE KEY-----")})?$|` +
        `-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----(?:(?!-----END[ A-Z0-9]{0,40}PRIVATE KEY-----)[\\s\\S]){0,65536}$`,
      "d",
    ),
    hint: /PRIVATE KEY/,
    // Without "PRIVATE KEY": a prefix of -----BEGIN (10), or the header up to a prefix of "PRIVATE KEY-----" (66).
    partialBound: 66,
  },
  {
    name: "jwt",
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/dg,
    partial: /(?<![A-Za-z0-9_-])(?:e|ey|eyJ[A-Za-z0-9_.-]*)$/d,
    hint: /eyJ/,
    partialBound: 2,
  },
  {
    name: "bearer-token",
    pattern: new RegExp(`\\b(?<w>bearer|basic)\\s+(?<s>[${TOKEN}]{8,})`, "dgi"),
    partial: new RegExp(`\\b(?:bearer|basic)\\s*(?<h>[${TOKEN}]*)$`, "di"),
    accept: (secret, m) => {
      if ((m.groups?.w ?? "").toLowerCase() === "basic") {
        return (
          /^[A-Za-z0-9+/]+=*$/.test(secret) && Buffer.from(secret, "base64").toString("latin1").includes(":")
        );
      }
      return /[0-9._~+/=-]/.test(secret) || secret.length >= 20;
    },
    hint: /bearer|basic/i,
    partialBound: 0,
  },
  {
    name: "url-password",
    pattern: /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@'"]*:(?<s>[^\s@/'"]+)@/dg,
    partial: /:\/\/[^\s:/@'"]*:(?<h>[^\s@/'"]*)$/d,
    hint: /:\/\//,
    partialBound: 0,
  },
  {
    name: "dockerconfig-auth",
    pattern: /\\?"auth\\?"\s*:\s*\\?"(?<s>[A-Za-z0-9+/=]{4,})/dg,
    partial: /\\?"auth\\?"\s*:?\s*\\?"?(?<h>[A-Za-z0-9+/=]*)$/d,
    hint: /"auth/,
    partialBound: 0,
  },
  KEY_VALUE,
];

export const BUILTIN_DETECTOR_NAMES = BUILTIN_DETECTORS.map((d) => d.name);

export function customDetector(custom: CustomPattern): Detector {
  const flags = custom.ignoreCase ? "dgi" : "dg";
  const pattern = new RegExp(custom.regex, flags); // throws on a bad pattern: profiles are checked when loaded
  if (pattern.test("")) throw new Error(`pattern ${custom.name} matches the empty string`);
  const max = Math.max(1, Math.min(custom.maxLength ?? 256, 65536));
  // User patterns have no hand-written partial: hold the trailing run of non-space characters, up to maxLength.
  return {
    name: `custom:${custom.name}`,
    pattern,
    partial: new RegExp(`\\S{1,${max}}$`, "d"),
    partialBound: max,
  };
}

export interface Span {
  start: number;
  end: number;
  rule: string;
  /** The secret this span shows (perhaps encoded): its marker is the value's, the same as in a JSON field. */
  value?: Uint8Array;
}

function* allMatches(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m[0].length === 0) pattern.lastIndex++;
    else yield m;
  }
}

/** The secret spans in `text`, sorted and merged (overlapping finds become one span, named by the first). */
export function findSecrets(text: string, detectors: readonly Detector[]): Span[] {
  const spans: Span[] = [];
  for (const d of detectors) {
    if (d.hint && !d.hint.test(text)) continue;
    if (d.spans) {
      spans.push(...d.spans(text));
      continue;
    }
    for (const m of d.matches ? d.matches(text) : allMatches(d.pattern, text)) {
      const range = m.indices?.groups?.s ?? m.indices?.[0];
      if (!range) continue;
      const secret = text.slice(range[0], range[1]);
      if (isMarker(secret)) continue;
      if (d.accept && !d.accept(secret, m)) continue;
      spans.push({ start: range[0], end: range[1], rule: d.name });
    }
  }
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last && s.start < last.end) {
      // Two finds overlap: one span, masked as the text it covers.
      if (s.end > last.end) {
        last.end = s.end;
        delete last.value;
      }
    } else merged.push({ ...s });
  }
  return merged;
}

/** Replaces each span with its marker and counts it. */
export function replaceSpans(
  text: string,
  spans: readonly Span[],
  ph: Placeholders,
  counts: MaskCounts,
): string {
  if (spans.length === 0) return text;
  let out = "";
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + ph.marker(s.value ?? text.slice(s.start, s.end));
    addCount(counts, s.rule);
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * A cheap first look: every built-in detector's hint is a substring of a TRIGGER match (checked by a test), so a
 * string without one holds no secret any built-in can find. Factored by first letter, which V8 runs several times
 * faster than the flat alternation; case-insensitive throughout, which only widens it.
 */
export const TRIGGER =
  /A(?:KIA|SIA|BIA|CCA)|PRIVATE KEY|eyJ|:\/\/|"auth|p(?:assw|wd|rivate[_-]?key)|secret|token|a(?:pi[_-]?key|pikey|ccess[_-]?key|uth)|credential|b(?:earer|asic)/i;

/** A compiled detector set: the built-ins a profile enables plus its custom patterns. */
export interface DetectorSet {
  detectors: readonly Detector[];
  /** True when some detector has no hint (user patterns): every string of 8 or more characters is searched. */
  alwaysRun: boolean;
  /** Masks every secret in a complete string. */
  maskString(text: string, ph: Placeholders, counts: MaskCounts): string;
}

export function detectorSet(builtins: readonly string[], custom: readonly CustomPattern[]): DetectorSet {
  const chosen = BUILTIN_DETECTORS.filter((d) => builtins.includes(d.name));
  const detectors = [...chosen, ...custom.map(customDetector)];
  const alwaysRun = detectors.some((d) => !d.hint);
  return {
    detectors,
    alwaysRun,
    maskString(text, ph, counts) {
      if (detectors.length === 0 || text.length < 8) return text;
      if (!alwaysRun && !TRIGGER.test(text)) return text;
      return replaceSpans(text, findSecrets(text, detectors), ph, counts);
    },
  };
}

/** A detector set with one more detector (a stream's known secret values), searched in every text. */
export function withDetector(set: DetectorSet, extra: Detector): DetectorSet {
  const detectors = [...set.detectors, extra];
  return {
    detectors,
    alwaysRun: true,
    maskString(text, ph, counts) {
      return replaceSpans(text, findSecrets(text, detectors), ph, counts);
    },
  };
}

export { looksRandom };
