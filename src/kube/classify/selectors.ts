// Field and label selector parsing, only as far as RequestInfo needs it: does kube-apiserver's ListOptions decode
// succeed (k8s.io/apimachinery fields.ParseSelector, labels.Parse, strconv.ParseInt), and which metadata.name does an
// exact-match field selector name?
//
// Fidelity matters because a decode failure makes kube-apiserver drop the name it would otherwise take from the field
// selector; where we cannot tell, erring towards "failed" only widens what policy sees (name ""), never narrows it.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64) succeeds. */
export function isGoInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= INT64_MIN && n <= INT64_MAX;
}

export interface FieldTerm {
  field: string;
  op: "=" | "==" | "!=";
  value: string;
}

/** fields.ParseSelector: the terms in Go's evaluation order, or undefined where Go returns an error. */
export function parseFieldSelector(selector: string): FieldTerm[] | undefined {
  if (selector === "") return [];
  const terms = splitFieldTerms(selector).sort(compareBytes);
  const out: FieldTerm[] = [];
  for (const term of terms) {
    if (term === "") continue;
    const split = splitFieldTerm(term);
    if (!split) return undefined;
    const value = unescapeFieldValue(split.rhs);
    if (value === undefined) return undefined;
    out.push({ field: split.lhs, op: split.op, value });
  }
  return out;
}

/** Selector.RequiresExactMatch(field): the first "=" or "==" term on that field, in Go's sorted order. */
export function exactMatch(terms: FieldTerm[], field: string): string | undefined {
  return terms.find((t) => t.field === field && t.op !== "!=")?.value;
}

function splitFieldTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

function splitFieldTerm(term: string): { lhs: string; op: FieldTerm["op"]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeFieldValue(s: string): string | undefined {
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") return undefined;
      out += c;
      inSlash = false;
    } else if (c === "\\") inSlash = true;
    else if (c === "," || c === "=") return undefined;
    else out += c;
  }
  return inSlash ? undefined : out;
}

/** Go compares strings bytewise (UTF-8); JS "<" compares UTF-16 units, which differs above the BMP. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---- labels.Parse ------------------------------------------------------------------------------------------------

type Tok = "id" | "in" | "notin" | "!" | "=" | "==" | "!=" | ">" | "<" | "(" | ")" | "," | "end" | "error";

const SPECIAL = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const SYMBOL_TOKENS = new Set(["=", "==", "!", "!=", "(", ")", ",", ">", "<"]);
const WHITESPACE = new Set([" ", "\t", "\r", "\n"]);

function lexLabels(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let pos = 0;
  // Go's lexer reads byte 0 as end of input.
  const at = (i: number): string => (i < s.length && s[i] !== "\0" ? s[i]! : "");
  for (;;) {
    while (WHITESPACE.has(at(pos))) pos++;
    const ch = at(pos);
    if (ch === "") {
      out.push({ tok: "end", lit: "" });
      return out;
    }
    if (SPECIAL.has(ch)) {
      // Longest match over the symbol tokens, as scanSpecialSymbol does.
      let buf = "";
      let last = "";
      while (SPECIAL.has(at(pos))) {
        buf += at(pos);
        if (SYMBOL_TOKENS.has(buf)) {
          last = buf;
          pos++;
        } else break;
      }
      out.push(last ? { tok: last as Tok, lit: last } : { tok: "error", lit: buf });
      if (!last) return out;
      continue;
    }
    let id = "";
    while (at(pos) !== "" && !SPECIAL.has(at(pos)) && !WHITESPACE.has(at(pos))) id += at(pos++);
    out.push({ tok: id === "in" || id === "notin" ? id : "id", lit: id });
  }
}

/** labels.Parse(selector) succeeds. */
export function isValidLabelSelector(selector: string): boolean {
  const toks = lexLabels(selector);
  let p = 0;
  // In the Values context "in" and "notin" are plain identifiers.
  const peek = (): Tok => {
    const t = toks[p]?.tok ?? "end";
    return t === "in" || t === "notin" ? "id" : t;
  };
  const next = (): { tok: Tok; lit: string } => {
    const t = toks[p] ?? { tok: "end" as Tok, lit: "" };
    p++;
    return t;
  };
  for (;;) {
    const t = peek();
    if (t === "end") return true;
    if (t !== "id" && t !== "!") return false;
    if (!parseRequirement()) return false;
    const sep = next().tok;
    if (sep === "end") return true;
    if (sep !== ",") return false;
    const after = peek();
    if (after !== "id" && after !== "!") return false;
  }

  function parseRequirement(): boolean {
    let t = next();
    const negated = t.tok === "!";
    if (negated) t = next();
    if (t.tok !== "id" && t.tok !== "in" && t.tok !== "notin") return false;
    if (!isQualifiedName(t.lit)) return false;
    const la = peek();
    if (negated || la === "end" || la === ",") return true;
    const op = next().tok;
    if (op === "in" || op === "notin") return parseSet();
    if (op === "=" || op === "==" || op === "!=" || op === ">" || op === "<") {
      const v = peek();
      const value = v === "end" || v === "," ? "" : next();
      if (typeof value !== "string" && value.tok !== "id" && value.tok !== "in" && value.tok !== "notin")
        return false;
      const lit = typeof value === "string" ? value : value.lit;
      if ((op === ">" || op === "<") && !isGoInt64(lit)) return false;
      return isLabelValue(lit);
    }
    return false;
  }

  function parseSet(): boolean {
    if (next().tok !== "(") return false;
    const first = peek();
    if (first === ")") {
      next();
      return true;
    }
    if (first !== "id" && first !== ",") return false;
    for (;;) {
      const t = next();
      const tok = t.tok === "in" || t.tok === "notin" ? "id" : t.tok;
      if (tok === "id") {
        if (!isLabelValue(t.lit)) return false;
        const la = peek();
        if (la === ")") break;
        if (la !== ",") return false;
      } else if (tok === ",") {
        if (peek() === ")") break;
        if (peek() === ",") next();
      } else return false;
    }
    return next().tok === ")";
  }
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName: [prefix/]name, a label key. */
export function isQualifiedName(s: string): boolean {
  const parts = s.split("/");
  if (parts.length > 2) return false;
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === "" || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/** validation.IsValidLabelValue. */
export function isLabelValue(s: string): boolean {
  return s === "" || (s.length <= 63 && LABEL_NAME.test(s));
}
