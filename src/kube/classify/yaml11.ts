// YAML request bodies read as kube-apiserver reads them, then turned into the JSON the gateway forwards. Pure.
//
// kube-apiserver turns YAML into JSON with sigs.k8s.io/yaml, whose parser is a fork of go-yaml v2: YAML 1.1 scalars.
// The `yaml` package only splits the text into nodes here (failsafe schema: every scalar stays text); each plain
// scalar is then resolved by `resolvePlain`, a port of go-yaml v2's resolve() (sigs.k8s.io/yaml goyaml.v2/resolve.go):
//   booleans  y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF
//   null      (empty) ~ null Null NULL
//   integers  Go strconv.ParseInt(s, 0, 64) after removing "_": 0x1F, 0o17, 0b101, 0777 (octal), +5, 1_000
//   floats    1.5, 1e3, .5, .inf, -.Inf, .nan (NaN/Inf then refused: JSON has no such number); 08 → 8 (not octal:
//             ParseInt fails, the float reading succeeds)
//   timestamps 2001-12-14, 2001-12-14T21:59:43.1Z, 2001-12-14 21:59:43 → RFC 3339 strings, as Go's time.Time
//             marshals them
//   sexagesimal 1:30 stays the string "1:30" (go-yaml v2 dropped base 60 on purpose)
// `<<` merge keys are honoured (a map, an alias of one, or a list of them). Refused (400), because two readers could
// differ or the JSON cannot hold it: duplicate keys (also a key both written and merged in), a second document,
// explicit tags other than the core ones, complex keys, YAML directives, a byte-order mark, NaN/Inf, integers beyond
// ±(2^53−1), nesting beyond MAX_JSON_DEPTH, and more than MAX_YAML_NODES nodes after alias expansion (a billion laughs).
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, parseAllDocuments } from "yaml";
import { MAX_JSON_DEPTH } from "./json.ts";

export const MAX_YAML_NODES = 200_000;

export type YamlRead = { ok: true; value: unknown } | { ok: false; error: string };

const STR = "tag:yaml.org,2002:str";
const CORE_TAGS = new Set([
  STR,
  "tag:yaml.org,2002:int",
  "tag:yaml.org,2002:float",
  "tag:yaml.org,2002:bool",
  "tag:yaml.org,2002:null",
  "tag:yaml.org,2002:map",
  "tag:yaml.org,2002:seq",
]);

const BOOL_NULL: Record<string, boolean | null> = {};
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
  BOOL_NULL[s] = true;
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
  BOOL_NULL[s] = false;
for (const s of ["", "~", "null", "Null", "NULL"]) BOOL_NULL[s] = null;
const SPECIAL_FLOATS = new Set([".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]);
for (const s of ["-.inf", "-.Inf", "-.INF"]) SPECIAL_FLOATS.add(s);

class Refused extends Error {}

/** A resolved scalar: what go-yaml v2 yields for it, in JSON terms. */
export type Scalar = string | number | boolean | null | bigint;

/** Go's strconv.ParseInt(s, 0, 64) ∪ ParseUint(s, 0, 64), as BigInt; undefined when Go would refuse. */
const INT_SYNTAX = /^([+-]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

function goParseInt(s: string): bigint | undefined {
  const m = INT_SYNTAX.exec(s);
  if (!m) return undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  let body = m[2] ?? "";
  // A leading 0 followed by digits is octal in Go's base-0 parsing.
  if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
  const value = sign * BigInt(body.toLowerCase());
  const max = m[1] === "-" || m[1] === "+" ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  if (value > max || value < -(2n ** 63n)) return undefined;
  return value;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** go-yaml v2's allowed timestamp formats, turned into Go's time.Time JSON form (RFC 3339, nanoseconds trimmed). */
function timestamp(s: string): string | undefined {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
      s,
    );
  if (!m) return undefined;
  const [, y, mo, d, sep, h = "0", mi = "0", se = "0", frac = "", zone] = m;
  // "2006-1-2T15:4:5.999999999Z07:00" needs a zone; "2006-1-2 15:4:5.999999999" has none.
  if (sep && sep !== " " && !zone) return undefined;
  if (sep === " " && zone) return undefined;
  const [Y, M, D, H, Mi, S] = [y, mo, d, h, mi, se].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const days = new Date(Date.UTC(Y, M, 0)).getUTCDate();
  if (M < 1 || M > 12 || D < 1 || D > days || H > 23 || Mi > 59 || S > 59) return undefined;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const fraction = frac.replace(/0+$/, "");
  const z = !zone || zone === "Z" || zone === "+00:00" ? "Z" : zone;
  return `${p(Y, 4)}-${p(M)}-${p(D)}T${p(H)}:${p(Mi)}:${p(S)}${fraction === "." ? "" : fraction}${z}`;
}

/** go-yaml v2 resolve("", text) for a plain (unquoted, untagged) scalar. */
export function resolvePlain(text: string): Scalar {
  if (Object.hasOwn(BOOL_NULL, text)) return BOOL_NULL[text] ?? null;
  if (SPECIAL_FLOATS.has(text)) throw new Refused(`the value ${text} has no JSON form`);
  const c = text[0] ?? "";
  if (c === ".") {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
    return text;
  }
  if (!/[-+0-9]/.test(c)) return text;
  const ts = timestamp(text);
  if (ts !== undefined) return ts;
  const plain = text.replaceAll("_", "");
  const int = goParseInt(plain);
  if (int !== undefined) return int;
  if (YAML_STYLE_FLOAT.test(plain)) return Number(plain);
  // An integer out of int64/uint64 range that is not decimal: go-yaml keeps it as a big.Int.
  if (INT_SYNTAX.test(plain))
    throw new Refused(`the integer ${text.slice(0, 40)} is too large to be read exactly`);
  return text;
}

function toJsonScalar(v: Scalar): string | number | boolean | null {
  if (typeof v === "bigint") {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Refused(
        `the integer ${String(v).slice(0, 40)} is too large to be read exactly (beyond ±2^53−1)`,
      );
    }
    return Number(v);
  }
  if (typeof v === "number" && !Number.isFinite(v)) throw new Refused("a number is out of range");
  return v;
}

function where(node: Node | null | undefined, text: string): string {
  const at = node?.range?.[0];
  if (at === undefined) return "";
  const line = text.slice(0, at).split("\n").length;
  return ` (line ${line})`;
}

interface Walk {
  doc: Document;
  text: string;
  nodes: number;
}

function scalarValue(node: Node, w: Walk): string | number | boolean | null {
  if (!isScalar(node)) throw new Refused(`a key must be a scalar${where(node, w.text)}`);
  const text = String(node.value ?? "");
  const tag = node.tag;
  if (tag && !CORE_TAGS.has(tag))
    throw new Refused(`the YAML tag ${tag.slice(0, 60)} is not accepted${where(node, w.text)}`);
  if (tag === STR) return text;
  const plain = node.type === "PLAIN" || node.type === undefined;
  if (!tag) return plain ? toJsonScalar(resolvePlain(text)) : text;
  // An explicit core tag: the text must read as that type (go-yaml fails the document otherwise).
  const v = toJsonScalar(resolvePlain(text));
  const kind = tag.slice(tag.lastIndexOf(":") + 1);
  const ok =
    (kind === "int" && typeof v === "number" && Number.isInteger(v)) ||
    (kind === "float" && typeof v === "number") ||
    (kind === "bool" && typeof v === "boolean") ||
    (kind === "null" && v === null);
  if (!ok)
    throw new Refused(
      `the value ${JSON.stringify(text.slice(0, 40))} is not a !!${kind}${where(node, w.text)}`,
    );
  return v;
}

/** A JSON object key as sigs.k8s.io/yaml writes it: strings as they are, numbers and booleans as text. */
function keyOf(node: Node, w: Walk): string {
  const v = scalarValue(node, w);
  if (v === null) throw new Refused(`a null map key has no JSON form${where(node, w.text)}`);
  if (typeof v === "number" && !Number.isInteger(v))
    throw new Refused(`a float map key is not accepted${where(node, w.text)}`);
  return String(v);
}

function isMergeKey(node: unknown): boolean {
  return isScalar(node) && node.type === "PLAIN" && !node.tag && node.value === "<<";
}

function convert(node: Node | null | undefined, depth: number, w: Walk): unknown {
  if (++w.nodes > MAX_YAML_NODES) throw new Refused(`the YAML expands to more than ${MAX_YAML_NODES} nodes`);
  if (depth > MAX_JSON_DEPTH) throw new Refused(`the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(w.doc);
    if (!target) throw new Refused(`unknown alias *${node.source}`);
    return convert(target as Node, depth, w);
  }
  if (isScalar(node)) return scalarValue(node, w);
  if (node.tag && !CORE_TAGS.has(node.tag))
    throw new Refused(`the YAML tag ${node.tag.slice(0, 60)} is not accepted`);
  if (isSeq(node)) return node.items.map((item) => convert(item as Node, depth + 1, w));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    const set = (key: string, value: unknown, at: Node | null | undefined) => {
      // Written twice, or written and merged in: go-yaml v2 lets the later one win, by document order — refused.
      if (seen.has(key))
        throw new Refused(`duplicate key ${JSON.stringify(key.slice(0, 100))}${where(at, w.text)}`);
      seen.add(key);
      out[key] = value;
    };
    for (const pair of node.items) {
      if (isMergeKey(pair.key)) {
        for (const [k, v] of mergedEntries(pair.value as Node, depth, w)) set(k, v, pair.key as Node);
        continue;
      }
      set(keyOf(pair.key as Node, w), convert(pair.value as Node, depth + 1, w), pair.key as Node);
    }
    return out;
  }
  throw new Refused("an unexpected YAML node");
}

/** The entries a `<<` merge brings in: one map, or a list of maps of which earlier ones take precedence. */
function mergedEntries(node: Node, depth: number, w: Walk): [string, unknown][] {
  const target = isAlias(node) ? (node.resolve(w.doc) as Node | undefined) : node;
  const asObject = (n: Node | undefined): Record<string, unknown> => {
    const v = n ? convert(n, depth, w) : undefined;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new Refused(`a << merge key needs a map or a list of maps${where(node, w.text)}`);
    }
    return v as Record<string, unknown>;
  };
  if (isSeq(target)) {
    const merged = new Map<string, unknown>();
    for (const item of target.items) {
      const itemNode = isAlias(item) ? (item.resolve(w.doc) as Node | undefined) : (item as Node);
      for (const [k, v] of Object.entries(asObject(itemNode))) if (!merged.has(k)) merged.set(k, v);
    }
    return [...merged];
  }
  return Object.entries(asObject(target));
}

/** Reads one YAML document (text already strict UTF-8) into the value go-yaml v2 + sigs.k8s.io/yaml would yield. */
export function readYamlText(text: string): YamlRead {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, error: "a byte-order mark is not accepted" };
  if (/^%/m.test(text)) return { ok: false, error: "YAML directives (%YAML, %TAG) are not accepted" };
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, {
      version: "1.1",
      schema: "failsafe",
      merge: false,
      uniqueKeys: false,
      prettyErrors: false,
    }) as unknown as Document[];
  } catch (err) {
    return {
      ok: false,
      error: err instanceof RangeError ? "the YAML is nested too deeply" : (err as Error).message,
    };
  }
  if (!Array.isArray(docs)) return { ok: false, error: "the YAML could not be read" };
  if (docs.length > 1) {
    return {
      ok: false,
      error: "the body holds more than one YAML document (kube-apiserver would read only the first)",
    };
  }
  const doc = docs[0];
  if (!doc) return { ok: true, value: null };
  const error = doc.errors[0];
  if (error) return { ok: false, error: error.message.split("\n")[0] ?? "invalid YAML" };
  try {
    return { ok: true, value: convert(doc.contents as Node | null, 0, { doc, text, nodes: 0 }) };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: err.message };
    if (err instanceof RangeError) return { ok: false, error: "the YAML is nested too deeply" };
    throw err;
  }
}
