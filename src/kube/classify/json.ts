// Strict JSON reading for request bodies: one reading that the gateway and kube-apiserver (Go, sigs.k8s.io/json)
// cannot disagree on. Pure.
//
// Refused (400), each with a message saying why: invalid UTF-8 (Go would substitute U+FFFD), a byte-order mark,
// nesting deeper than MAX_JSON_DEPTH (a recursion bomb; Go's own limit is 10000), duplicate keys in one object (the
// gateway and the cluster could pick different ones), lone UTF-16 surrogates in strings (Go substitutes U+FFFD),
// integers beyond ±(2^53−1) (read exactly by Go, rounded by JavaScript). The scan is iterative, so no input can
// exhaust the stack.

/** Deepest nesting of arrays and objects accepted in a request body (YAML bodies too). */
export const MAX_JSON_DEPTH = 512;

export type JsonRead = { ok: true; value: unknown } | { ok: false; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Decodes UTF-8 strictly; undefined for invalid UTF-8. A BOM is kept (and refused by the readers). */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** Reads one JSON document from text with the checks above. */
export function readJsonText(text: string): JsonRead {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, error: "a byte-order mark is not accepted" };
  const problem = scan(text);
  if (problem) return { ok: false, error: problem };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function readJson(bytes: Buffer): JsonRead {
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, error: "the body is not valid UTF-8" };
  return readJsonText(text);
}

/**
 * One pass over the text: depth, duplicate keys, strings and numbers. Syntax errors are left to JSON.parse (which
 * runs only when this finds nothing), so this need not be a full validator — only never wrong about what it checks.
 */
function scan(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) {
        return `the body is nested deeper than ${MAX_JSON_DEPTH} levels`;
      }
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.at(-1) instanceof Set;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const raw = text.slice(i, j + 1);
      let s: string;
      try {
        s = JSON.parse(raw) as string;
      } catch {
        return undefined; // a syntax error: JSON.parse reports it
      }
      if (hasLoneSurrogate(s)) return "a string holds a lone UTF-16 surrogate (\\ud800–\\udfff)";
      const keys = stack.at(-1);
      if (expectKey && keys instanceof Set) {
        if (keys.has(s)) return `duplicate key ${JSON.stringify(s.slice(0, 100))} in one object`;
        keys.add(s);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j] ?? "")) j++;
      const token = text.slice(i, j);
      if (!Number.isFinite(Number(token)) && /^-?[0-9]/.test(token)) {
        return `the number ${token.slice(0, 40)} is out of range`;
      }
      if (/^-?[0-9]+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        return `the integer ${token.slice(0, 40)} is too large to be read exactly (beyond ±2^53−1)`;
      }
      i = j - 1;
    }
  }
  return undefined;
}
