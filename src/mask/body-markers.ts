// Markers never flow back. A write whose body carries one of our `‹masked:…›` markers — as text, or in any encoding
// a client or a copy-paste could turn it into (base64 and base64url in all three alignments, hex, percent-encoding,
// JSON \u escapes) — would store the marker in place of the real value: `kubectl get secret -o yaml | kubectl
// replace -f -` overwrites a password with `‹masked:2f7c1a9e›`. Such a body is refused (422) before policy.
//
// Both views are searched: every decoded string of the parsed body (keys included, so JSON and YAML escapes are
// undone) and the raw bytes (bodies the gateway does not parse, such as protobuf, carry strings and Secret bytes
// as they are). Only the marker's fixed prefix is looked for, so a marker whose digits were changed is still found.
// Pure.
import { encodedForms } from "./encodings.ts";

const PREFIX = Buffer.from("‹masked:", "utf8");
/** Every form of the prefix, in the latin1 view (one char per byte); base64 forms are at least 11 characters. */
const FORMS = encodedForms(PREFIX).filter((f) => f.form !== "hex-spaced");
const ESCAPED = /\\u2039masked:/i;

export interface MarkerFound {
  /** Where: `body` (raw bytes) or the JSON path of the field (`data.password`). */
  where: string;
  /** How it was written: raw, base64, base64url, hex, url, json. */
  form: string;
}

function search(latin1: string): string | undefined {
  for (const f of FORMS) if (latin1.includes(f.text)) return f.form;
  if (ESCAPED.test(latin1)) return "json";
  return undefined;
}

const view = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** The first marker in a write body, or undefined. `parsed` is the decoded body when the gateway could read it. */
export function findMarkerInBody(parsed: unknown, raw: Buffer | undefined): MarkerFound | undefined {
  const found = parsed === undefined ? undefined : inValue(parsed, "");
  if (found) return found;
  if (raw?.length) {
    const form = search(raw.toString("latin1"));
    if (form) return { where: "body", form };
  }
  return undefined;
}

function inValue(value: unknown, path: string): MarkerFound | undefined {
  if (typeof value === "string") {
    const form = value.length >= 8 ? search(view(value)) : undefined;
    return form ? { where: path || "body", form } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = inValue(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      const inKey = key.length >= 8 ? search(view(key)) : undefined;
      if (inKey) return { where: here, form: inKey };
      const found = inValue(child, here);
      if (found) return found;
    }
  }
  return undefined;
}
