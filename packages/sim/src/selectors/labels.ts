// Label selectors, parsed and matched the way kube-apiserver does (a transcription of apimachinery pkg/labels).
//
// Fail closed: a selector the apiserver would refuse is refused here with 400 BadRequest and the apiserver's own
// wording, never widened into "match everything".
import { StatusError } from "../status.ts";
import { newRequirement, validateKey } from "./requirement.ts";

export type LabelRequirement = {
  key: string;
  // "gt"/"lt" are the apiserver's numeric `>`/`<` operators; kept so that valid selectors are not refused.
  operator: "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";
  values: string[];
};
export type LabelSelector = LabelRequirement[];
function badRequest(message: string): StatusError {
  return StatusError.of("BadRequest", message);
}

// ---- label selector lexer -------------------------------------------------------------------------------------

type Tok = { t: "id" | "sym" | "end"; v: string };
const SYMBOLS = ["!=", "==", "!", "(", ")", ",", "=", ">", "<"];
const SPECIAL = new Set(["!", "(", ")", ",", "=", ">", "<"]);

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (SPECIAL.has(ch)) {
      const sym = SYMBOLS.find((x) => s.startsWith(x, i))!;
      out.push({ t: "sym", v: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++;
    out.push({ t: "id", v: s.slice(i, j) });
    i = j;
  }
  out.push({ t: "end", v: "" });
  return out;
}

// ---- label selector parser (a transcription of labels.Parser) --------------------------------------------------

class LabelParser {
  private pos = 0;
  private readonly toks: Tok[];
  constructor(s: string) {
    this.toks = lex(s);
  }
  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private next(): Tok {
    const t = this.toks[this.pos]!;
    if (t.t !== "end") this.pos++;
    return t;
  }
  private isId(t: Tok): boolean {
    return t.t === "id";
  }

  parse(): LabelSelector {
    const out: LabelSelector = [];
    for (;;) {
      const t = this.peek();
      if (t.t === "end") return out;
      if (!this.isId(t) && t.v !== "!")
        throw new Error(`found '${t.v}', expected: !, identifier, or 'end of string'`);
      try {
        out.push(this.requirement());
      } catch (err) {
        throw new Error(`unable to parse requirement: ${(err as Error).message}`);
      }
      const sep = this.next();
      if (sep.t === "end") return out;
      if (sep.v !== ",") throw new Error(`found '${sep.v}', expected: ',' or 'end of string'`);
      const after = this.peek();
      if (!this.isId(after) && after.v !== "!")
        throw new Error(`found '${after.v}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let t = this.next();
    let notExists = false;
    if (t.v === "!" && t.t === "sym") {
      notExists = true;
      t = this.next();
    }
    if (!this.isId(t)) throw new Error(`found '${t.v}', expected: identifier`);
    validateKey(t.v);
    const key = t.v;
    // `!key` is complete by itself; whatever follows is the caller's business (a ',' or the end).
    if (notExists) return newRequirement(key, "!", []);
    const la = this.peek();
    if (la.t === "end" || la.v === ",") return newRequirement(key, "exists", []);
    const op = this.next();
    const ops: Record<string, LabelRequirement["operator"]> = {
      "=": "=",
      "==": "==",
      "!=": "!=",
      ">": "gt",
      "<": "lt",
      in: "in",
      notin: "notin",
    };
    const operator = ops[op.v];
    if (!operator) throw new Error(`found '${op.v}', expected: !=, ==, =, >, <, in, notin`);
    const values = operator === "in" || operator === "notin" ? this.setValues() : this.exactValue();
    return newRequirement(key, operator, values);
  }

  private exactValue(): string[] {
    const la = this.peek();
    if (la.t === "end" || la.v === ",") return [""];
    const t = this.next();
    if (this.isId(t)) return [t.v];
    throw new Error(`found '${t.v}', expected: identifier`);
  }

  private setValues(): string[] {
    const open = this.next();
    if (open.v !== "(") throw new Error(`found '${open.v}' expected: '('`);
    const la = this.peek();
    if (la.v === ")") {
      this.next();
      return [""];
    }
    if (!this.isId(la) && la.v !== ",") throw new Error(`found '${la.v}', expected: ',', ')' or identifier`);
    const values: string[] = [];
    for (;;) {
      const t = this.next();
      if (this.isId(t)) {
        values.push(t.v);
        const n = this.peek();
        if (n.v === ",") {
          this.next();
          if (this.peek().v === ")") {
            values.push("");
            break;
          }
          continue;
        }
        if (n.v === ")") break;
        throw new Error(`found '${n.v}', expected: ',' or ')'`);
      }
      if (t.v === ",") {
        values.push("");
        if (this.peek().v === ")") break;
        continue;
      }
      throw new Error(`found '${t.v}', expected: ',', or identifier`);
    }
    const close = this.next();
    if (close.v !== ")") throw new Error(`found '${close.v}', expected: ')'`);
    return values;
  }
}

/** Parses a `labelSelector` query value. "" selects everything. */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return new LabelParser(s).parse();
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

export function matchesLabelSelector(
  sel: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return sel.every((r) => matchesRequirement(r, l));
}

function matchesRequirement(r: LabelRequirement, l: Record<string, string>): boolean {
  const has = Object.hasOwn(l, r.key);
  const v = l[r.key];
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(v!);
    case "!=":
    case "notin":
      return !has || !r.values.includes(v!);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || !/^[-+]?\d+$/.test(v!)) return false;
      const a = BigInt(v!);
      const b = BigInt(r.values[0]!);
      return r.operator === "gt" ? a > b : a < b;
    }
  }
}

/** metav1.LabelSelectorAsSelector: matchLabels are equality requirements; matchExpressions use In/NotIn/Exists/DoesNotExist. */
export function labelSelectorFromObject(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelSelector {
  const ops: Record<string, LabelRequirement["operator"]> = {
    In: "in",
    NotIn: "notin",
    Exists: "exists",
    DoesNotExist: "!",
  };
  try {
    const out: LabelSelector = [];
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) out.push(newRequirement(k, "=", [v]));
    for (const e of sel.matchExpressions ?? []) {
      const op = ops[e.operator];
      if (!op) throw new Error(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
      out.push(newRequirement(e.key, op, e.values ?? []));
    }
    return out;
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}
