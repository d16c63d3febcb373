// The key-value detector (`password=…`, `DB_PASSWORD: …`, `"secret": "…"`): the costliest pattern, because its key
// may carry any prefix, so a plain global search tries it at nearly every position. Here it is only tried where it
// can match: at the start of each token (a run of [A-Za-z0-9_.-]) that contains a key word, and, for the partial
// pattern, only over the tail of the text that can hold a match ending at the end.
//
// Why that finds every match a global search finds: the key group is [A-Za-z0-9_.-]* word [A-Za-z0-9_.-]*, and the
// separator cannot begin with a token character, so a key always ends where its token ends; a match from inside a
// token therefore implies one from the token's start (whose look-behind holds), with the same end and a key that
// holds every word the shorter one did. Extra matches (a token inside an earlier value) only mask more.
import type { Detector } from "./detectors.ts";
import { keyStrength, SECRET_KEY_WORDS, valueIsSecret } from "./secretish.ts";

const KEY = `(?<![A-Za-z0-9])(?<k>[A-Za-z0-9_.-]*(?:${SECRET_KEY_WORDS})[A-Za-z0-9_.-]*)`;
/** At most 13 characters: \\ " 4 spaces : 4 spaces \\ ". */
const SEP = `\\\\?["']?\\s{0,4}[:=]\\s{0,4}\\\\?["']?`;
const SEP_MAX = 13;
const VALUE = `[^\\s"',;&\\\\]`;

/** Every word of SECRET_KEY_WORDS has one of these as a substring (factored: a plain alternation is 5× slower). */
export const KEY_WORD_HINT =
  /p(?:assw|wd|rivate[_-]?key)|secret|token|a(?:pi[_-]?key|pikey|ccess[_-]?key|uth)|credential/i;
const HINTS = new RegExp(KEY_WORD_HINT.source, "gi");
const AT_TOKEN = new RegExp(`${KEY}${SEP}(?<s>${VALUE}+)`, "dyi");

const isToken = (c: number) =>
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x5f ||
  c === 0x2e ||
  c === 0x2d;
// The value class [^\s"',;&\\]: everything but JavaScript whitespace and those five.
const isValue = (ch: string) => !/[\s"',;&\\]/.test(ch);

function tokenStart(text: string, i: number): number {
  let t = i;
  while (t > 0 && isToken(text.charCodeAt(t - 1))) t--;
  return t;
}

function* matchesAtTokens(text: string): Generator<RegExpExecArray> {
  let last = -1;
  HINTS.lastIndex = 0;
  for (let h = HINTS.exec(text); h !== null; h = HINTS.exec(text)) {
    const t = tokenStart(text, h.index);
    if (t === last) continue;
    last = t;
    AT_TOKEN.lastIndex = t;
    const m = AT_TOKEN.exec(text);
    if (m) yield m;
  }
}

/**
 * The earliest index where a partial match (one running to the end of the text) can start: the value runs back
 * from the end over value characters, the separator takes at most SEP_MAX characters before it, and the key is the
 * token that ends there.
 */
function partialStart(text: string): number {
  let r = text.length;
  while (r > 0 && isValue(text[r - 1] as string)) r--;
  return tokenStart(text, Math.max(0, r - SEP_MAX - 1));
}

export const KEY_VALUE: Detector = {
  name: "key-value",
  pattern: new RegExp(`${KEY}${SEP}(?<s>${VALUE}+)`, "dgi"),
  partial: new RegExp(`${KEY}${SEP}(?<h>${VALUE}*)$`, "di"),
  accept: (secret, m) => valueIsSecret(keyStrength(m.groups?.k ?? ""), secret),
  hint: KEY_WORD_HINT,
  partialBound: 0,
  matches: matchesAtTokens,
  partialStart,
};
