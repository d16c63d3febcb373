// The encoded forms of a byte string that output may carry instead of the bytes themselves: what `base64`,
// `base64 -w0` after a prefix, `xxd -p`, `od -An -tx1`, `jq -R`, `urlencode` or a JSON encoder make of a secret.
// Used twice: to find a Secret's VALUES in exec/log output (values.ts) and to find our own markers in write bodies
// (body-markers.ts). Pure.
//
// Every form is returned in the latin1 view the stream maskers read (one char per byte). Base64 is given in all three
// alignments: a value that starts 0, 1 or 2 bytes into a 3-byte group encodes to different characters, and only the
// characters that depend on the value's bytes alone are kept, so an encoded value inside a longer encoded text
// (`echo "pw: $PW" | base64`) is still found. Padding and the characters shared with neighbours are left out.

export interface EncodedForm {
  /** Which encoding: raw, base64, base64url, hex, hex-spaced, url, json. */
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
  add("raw", value.toString("latin1"));
  for (const align of [0, 1, 2] as const) {
    add("base64", base64Core(value, align));
    add("base64url", base64Core(value, align, true));
  }
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
