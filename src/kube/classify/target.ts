// Path and query hygiene on the raw request target, before anything reads it (DESIGN.md invariant 5).
//
// Security stance: reject, never normalise. The gateway decides on the path it decodes here and forwards the raw
// target unchanged, so every form that two HTTP stacks could read differently (dot segments, empty segments, encoded
// "/", "\" or ".", invalid percent-encoding or UTF-8, control bytes, matrix parameters, fragments) is refused with a
// 400 Status. What passes decodes the same way in Go's net/url (kube-apiserver) and in WHATWG URLSearchParams (us).
// docs/security-model.md "Path hygiene" lists each rule and why.

import { ambiguousPath, ambiguousQuery, ok, type Result } from "./result.ts";

export const MAX_TARGET_LENGTH = 16 * 1024;
export const MAX_PATH_LENGTH = 8 * 1024;

/** Query parameters that legitimately repeat: exec argv and port-forward ports. Any other repeat is refused. */
const MULTI_VALUED = new Set(["command", "ports"]);

const HEX = /^[0-9A-Fa-f]{2}$/;
// RFC 3986 pchar minus "%" (checked separately) and minus ";" (matrix parameters, refused on purpose).
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]$/;
// RFC 3986 query characters minus ";" (Go's ParseQuery drops such pairs; URLSearchParams keeps them).
const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@/?]$/;
const UNRESERVED = /^[A-Za-z0-9\-_~]$/;

const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface RequestTarget {
  /** The percent-decoded path, as Go's URL.Path would hold it. */
  path: string;
  /** The path exactly as received. */
  rawPath: string;
  query: URLSearchParams;
}

export function checkRequestTarget(rawUrl: string): Result<RequestTarget> {
  if (rawUrl.length > MAX_TARGET_LENGTH)
    return ambiguousPath(`request target longer than ${MAX_TARGET_LENGTH} bytes`);
  if (!rawUrl.startsWith("/")) {
    return ambiguousPath(
      "request target is not origin-form (absolute, authority and asterisk forms are refused)",
    );
  }
  for (let i = 0; i < rawUrl.length; i++) {
    const c = rawUrl.charCodeAt(i);
    if (c === 0) return ambiguousPath("NUL byte in request target");
    if (c < 0x20 || c === 0x7f) return ambiguousPath("control character in request target");
    if (c === 0x20) return ambiguousPath("space in request target");
    // Node hands us the request line as latin1, so any byte ≥ 0x80 shows up here; clients percent-encode non-ASCII.
    if (c > 0x7e) return ambiguousPath("raw non-ASCII byte in request target (percent-encode it)");
    if (c === 0x23) return ambiguousPath('fragment ("#") in request target');
  }
  const q = rawUrl.indexOf("?");
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q === -1 ? "" : rawUrl.slice(q + 1);
  const path = checkPath(rawPath);
  if (!path.ok) return path;
  const query = checkQuery(rawQuery);
  if (!query.ok) return query;
  return ok({ path: path.value, rawPath, query: query.value });
}

/** Validates the raw path and returns its decoded form. */
function checkPath(rawPath: string): Result<string> {
  if (rawPath.length > MAX_PATH_LENGTH) return ambiguousPath(`path longer than ${MAX_PATH_LENGTH} bytes`);
  const bytes: number[] = [];
  let encoded = false;
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i]!;
    if (ch === "%") {
      const hex = rawPath.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return ambiguousPath(`invalid percent-encoding "%${hex}"`);
      const b = Number.parseInt(hex, 16);
      const why = refusedEncodedPathByte(b);
      if (why) return ambiguousPath(`${why} (%${hex.toUpperCase()})`);
      bytes.push(b);
      encoded = true;
      i += 2;
      continue;
    }
    if (ch === "\\") return ambiguousPath('"\\" in path');
    if (ch === ";") return ambiguousPath('";" in path (matrix parameters are refused)');
    if (!PATH_CHAR.test(ch)) return ambiguousPath(`character "${ch}" is not allowed in a path`);
    bytes.push(ch.charCodeAt(0));
  }
  // Encoded "/" and "." are refused above, so the raw segments are exactly the decoded segments.
  const segments = rawPath.split("/");
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    // A single trailing "/" is trimmed by kube-apiserver before it splits the path, exactly as we do: no ambiguity.
    // ("//" at the end still fails: its first empty segment is not the last one.)
    if (seg === "" && i !== segments.length - 1) {
      return ambiguousPath('empty path segment ("//")');
    }
    if (seg === "." || seg === "..") return ambiguousPath(`dot segment "${seg}" in path`);
  }
  if (!encoded) return ok(rawPath);
  try {
    return ok(utf8.decode(Uint8Array.from(bytes)));
  } catch {
    return ambiguousPath("percent-encoded bytes are not valid UTF-8");
  }
}

/** Why an encoded byte is refused in a path, or undefined when a real client may send it encoded. */
function refusedEncodedPathByte(b: number): string | undefined {
  if (b === 0) return "encoded NUL in path";
  if (b < 0x20 || b === 0x7f) return "encoded control character in path";
  if (b === 0x2f) return 'encoded "/" in path';
  if (b === 0x5c) return 'encoded "\\" in path';
  if (b === 0x2e) return 'encoded "." in path';
  // A decoded "%" invites double decoding somewhere downstream; Kubernetes names never contain one.
  if (b === 0x25) return 'encoded "%" in path';
  if (b === 0x3b) return 'encoded ";" in path';
  if (b < 0x80 && UNRESERVED.test(String.fromCharCode(b))) {
    return `needless percent-encoding of "${String.fromCharCode(b)}" in path`;
  }
  return undefined;
}

function checkQuery(rawQuery: string): Result<URLSearchParams> {
  const seen = new Set<string>();
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    for (let i = 0; i < pair.length; i++) {
      const ch = pair[i]!;
      if (ch === "%") {
        const hex = pair.slice(i + 1, i + 3);
        if (!HEX.test(hex)) return ambiguousQuery(`invalid percent-encoding "%${hex}"`);
        i += 2;
        continue;
      }
      if (ch === ";") return ambiguousQuery('";" in query (Go drops such parameters; encode it as %3B)');
      if (!QUERY_CHAR.test(ch)) return ambiguousQuery(`character "${ch}" is not allowed in a query`);
    }
    const eq = pair.indexOf("=");
    const key = decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeQueryComponent(eq === -1 ? "" : pair.slice(eq + 1));
    if (key === undefined || value === undefined) {
      return ambiguousQuery("percent-encoded bytes are not valid UTF-8");
    }
    // NUL would truncate an exec argv element in the container runtime after policy saw the whole string.
    if (key.includes("\0") || value.includes("\0")) return ambiguousQuery("NUL in query");
    if (seen.has(key) && !MULTI_VALUED.has(key)) {
      return ambiguousQuery(`duplicate query parameter "${key}" (kube-apiserver reads only the first)`);
    }
    seen.add(key);
  }
  return ok(new URLSearchParams(rawQuery));
}

/** Go's QueryUnescape ("+" is a space), refusing bytes that are not UTF-8 where Go and WHATWG would differ. */
function decodeQueryComponent(s: string): string | undefined {
  const plus = s.replaceAll("+", " ");
  if (!plus.includes("%")) return plus;
  const bytes: number[] = [];
  for (let i = 0; i < plus.length; i++) {
    if (plus[i] === "%") {
      bytes.push(Number.parseInt(plus.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(plus.charCodeAt(i));
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
