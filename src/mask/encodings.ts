// The encoded forms of a byte string that output may carry instead of the bytes themselves: what `base64`,
// `base64 -w0` after a prefix, `base32`, `xxd -p`, `od -An -tx1` (and od's octal, decimal and little-endian word
// forms, `hexdump`'s default), `xxd -b`, `tr a-z A-Z`, `jq -R`, `urlencode` or a JSON encoder make of a secret.
// Used twice: to find a Secret's VALUES in exec/log output (values.ts) and to find our own markers in write bodies
// (body-markers.ts). Pure.
//
// Every form is returned in the latin1 view the stream maskers read (one char per byte). Base64 is given in all three
// alignments: a value that starts 0, 1 or 2 bytes into a 3-byte group encodes to different characters, and only the
// characters that depend on the value's bytes alone are kept, so an encoded value inside a longer encoded text
// (`echo "pw: $PW" | base64`) is still found. Padding and the characters shared with neighbours are left out.

export interface EncodedForm {
  /** Which encoding: raw, upper, lower, base64, base64url, base32, hex, hex-spaced, hex-words, octal, decimal,
   * binary, url, json. */
  form: string;
  text: string;
}

/** The characters of base64(prefix + value) that depend only on the value, for a prefix of `align` bytes. */
export function base64Core(value: Buffer, align: 0 | 1 | 2, url = false): string {
  const padded = Buffer.concat([Buffer.alloc(align), value]);
  const encoded = padded.toString(url ? "base64url" : "base64");
  const first = Math.ceil((8 * align) / 6);
  const last = Math.floor((8 * (align + value.length)) / 6);
  return encoded.slice(first, last);
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The characters of base32(prefix + value) that depend only on the value, for a prefix of `align` bytes (0-4). */
export function base32Core(value: Buffer, align: number): string {
  const bits = Buffer.concat([Buffer.alloc(align), value]);
  let out = "";
  const first = Math.ceil((8 * align) / 5);
  const last = Math.floor((8 * bits.length) / 5);
  for (let k = first; k < last; k++) {
    let v = 0;
    for (let b = 5 * k; b < 5 * k + 5; b++) v = (v << 1) | (((bits[b >> 3] as number) >> (7 - (b & 7))) & 1);
    out += BASE32[v];
  }
  return out;
}

/**
 * The value as `od -tx2`/`-tx4` and plain `hexdump` print it on a little-endian machine: words of `size` bytes, each
 * written most significant byte first. Only the words that lie wholly inside the value (it may start `align` bytes
 * into a word).
 */
export function hexWordsCore(value: Buffer, size: number, align: number): string {
  let out = "";
  for (let j = (size - align) % size; j + size <= value.length; j += size) {
    out += Buffer.from(value.subarray(j, j + size))
      .reverse()
      .toString("hex");
  }
  return out;
}

/** Each byte as a fixed-width number: octal (`od -to1`, `od -b`), binary (`xxd -b`); or decimal (`od -tu1`). */
export function perByte(value: Uint8Array, radix: 2 | 8 | 10): string {
  const width = radix === 2 ? 8 : radix === 8 ? 3 : 0;
  let out = "";
  for (const byte of value) out += byte.toString(radix).padStart(width, "0");
  return out;
}

const asciiCase = (text: string, upper: boolean) =>
  upper ? text.replace(/[a-z]+/g, (m) => m.toUpperCase()) : text.replace(/[A-Z]+/g, (m) => m.toLowerCase());

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Percent-encoding of every byte outside the unreserved set, in upper or lower case hex. */
function percent(value: Buffer, upper: boolean): string {
  let out = "";
  for (const byte of value) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) out += ch;
    else {
      const hex = byte.toString(16).padStart(2, "0");
      out += `%${upper ? hex.toUpperCase() : hex}`;
    }
  }
  return out;
}

/** The distinct encoded forms of `value` (the raw form first), each at least `minChars` long. */
export function encodedForms(value: Buffer, minChars = 1): EncodedForm[] {
  const out: EncodedForm[] = [];
  const seen = new Set<string>();
  const add = (form: string, text: string) => {
    if (text.length < minChars || seen.has(text)) return;
    seen.add(text);
    out.push({ form, text });
  };
  const raw = value.toString("latin1");
  add("raw", raw);
  add("upper", asciiCase(raw, true));
  add("lower", asciiCase(raw, false));
  for (const align of [0, 1, 2] as const) {
    add("base64", base64Core(value, align));
    add("base64url", base64Core(value, align, true));
  }
  for (let align = 0; align < 5; align++) add("base32", base32Core(value, align));
  for (const size of [2, 4]) {
    for (let align = 0; align < size; align++) add("hex-words", hexWordsCore(value, size, align));
  }
  add("octal", perByte(value, 8));
  add("decimal", perByte(value, 10));
  add("binary", perByte(value, 2));
  const hex = value.toString("hex");
  add("hex", hex);
  add("hex", hex.toUpperCase());
  const pairs = hex.match(/../g) ?? [];
  add("hex-spaced", pairs.join(" "));
  add("hex-spaced", pairs.join(" ").toUpperCase());
  add("url", percent(value, true));
  add("url", percent(value, false));
  const text = value.toString("utf8");
  if (Buffer.from(text, "utf8").equals(value)) {
    // JSON string escaping as jq -R / JSON.stringify write it (UTF-8 kept), and with every non-ASCII character as
    // \uXXXX (Python's json.dumps default).
    const json = JSON.stringify(text).slice(1, -1);
    add("json", Buffer.from(json, "utf8").toString("latin1"));
    add(
      "json",
      json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    );
  }
  return out;
}
