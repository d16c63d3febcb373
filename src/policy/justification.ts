// A rule's `justification: { required, pattern }` (issue 21): compiling the pattern safely, and judging a request's
// justification against every matching rule that asks for one. Pure.
//
// The pattern is an admin's ECMAScript regular expression, but the text it runs on is the agent's, and Node has no
// linear-time engine (RE2). So the cost of a match is bounded twice: the text is at most 500 characters
// (src/shared/justification.ts), and a pattern is refused at load unless its backtracking is provably small —
//   - no backreferences and no lookaround (they defeat any simple bound);
//   - no quantified group that itself contains a quantifier or an alternation: `(a+)+`, `(a|ab)*`, `(\w+\s?)*` are
//     the exponential shapes;
//   - the product of the ways each quantifier and alternation can split the text — an unbounded quantifier counts as
//     500 (the longest text), `{m,n}` as n-m+1, an alternation as its number of branches — is at most 10^6 (two
//     unbounded quantifiers pass, a third is refused: three overlapping ones cost ~0.5 s on 500 characters). A run
//     of a class that cannot match the literal right after it (`[0-9]+:`) ends in one place only; all such runs
//     together count as one factor of 500, so `[A-Z]+-[0-9]+: .+` passes.
// The pattern is matched against the WHOLE justification: it is compiled as ^(?:pattern)$ with the `u` flag.

/** A rule's justification requirement, compiled. */
export interface JustificationRule {
  required: boolean;
  /** The pattern as written (for messages) and compiled (anchored, `u`). */
  pattern?: { source: string; regex: RegExp };
}

/** The most backtracking a pattern may have (see the header). */
export const MAX_PATTERN_COST = 1_000_000;
const TEXT_MAX = 500;
const PATTERN_MAX = 1000;

export type PatternCheck = { ok: true; regex: RegExp } | { ok: false; why: string };

interface Frame {
  branches: number;
  repeats: boolean;
}

/** Compiles a rule's pattern, or says why it is refused (syntax, or a shape whose matching cost is not bounded). */
export function compileJustificationPattern(source: string): PatternCheck {
  if (source.length > PATTERN_MAX)
    return { ok: false, why: `the pattern is longer than ${PATTERN_MAX} characters` };
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})$`, "u");
  } catch (err) {
    return { ok: false, why: `not a valid regular expression: ${(err as Error).message}` };
  }
  const shape = checkShape(source);
  return shape ? { ok: false, why: shape } : { ok: true, regex };
}

/** Why the pattern's backtracking is not bounded, or undefined when it is. The source already compiled with `u`. */
function checkShape(p: string): string | undefined {
  const stack: Frame[] = [{ branches: 1, repeats: false }];
  let cost = 1;
  let linear = false;
  // What the last atom was: a group (and whether it repeats or alternates inside), or a plain atom and its source.
  let last: { group: boolean; risky: boolean; atom?: string } | undefined;
  const nested =
    "a quantified group contains a quantifier or an alternation (like (a+)+ or (a|ab)*), which can backtrack exponentially; rewrite it without the nesting";
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    const top = stack[stack.length - 1] as Frame;
    if (ch === "\\") {
      const next = p[i + 1] ?? "";
      if (/[1-9]/.test(next) || next === "k")
        return "backreferences are not supported in justification patterns (their matching cost has no bound)";
      const start = i;
      if ((next === "p" || next === "P" || next === "u") && p[i + 2] === "{") i = p.indexOf("}", i);
      else i++;
      last = { group: false, risky: false, atom: p.slice(start, i + 1) };
      continue;
    }
    if (ch === "[") {
      const start = i;
      for (i++; i < p.length && p[i] !== "]"; i++) if (p[i] === "\\") i++;
      last = { group: false, risky: false, atom: p.slice(start, i + 1) };
      continue;
    }
    if (ch === "(") {
      if (
        p.startsWith("(?=", i) ||
        p.startsWith("(?!", i) ||
        p.startsWith("(?<=", i) ||
        p.startsWith("(?<!", i)
      )
        return "lookahead and lookbehind are not supported in justification patterns";
      stack.push({ branches: 1, repeats: false });
      if (p.startsWith("(?:", i)) i += 2;
      else if (p.startsWith("(?<", i)) i = p.indexOf(">", i);
      last = undefined;
      continue;
    }
    if (ch === ")") {
      const frame = stack.pop() as Frame;
      const parent = stack[stack.length - 1] as Frame;
      cost *= frame.branches;
      parent.repeats ||= frame.repeats;
      last = { group: true, risky: frame.repeats || frame.branches > 1 };
      continue;
    }
    if (ch === "|") {
      top.branches++;
      last = undefined;
      continue;
    }
    const q = quantifierAt(p, i);
    if (q) {
      if (q.max > 1 && last?.group && last.risky) return nested;
      i = q.end;
      if (p[i + 1] === "?") i++; // lazy: the same cost
      // A run of a class that cannot match the literal after it ends in one place only (`[0-9]+:`): backtracking
      // into it fails at once, so such runs add one linear scan (counted once, below) instead of multiplying.
      if (last?.atom !== undefined && stopsAt(last.atom, literalAt(p, i + 1))) linear = true;
      else cost *= q.max === Number.POSITIVE_INFINITY ? TEXT_MAX : Math.min(TEXT_MAX, q.max - q.min + 1);
      if (q.max > 1) top.repeats = true;
      last = { group: false, risky: false };
      if (cost * (linear ? TEXT_MAX : 1) > MAX_PATTERN_COST) return costly();
      continue;
    }
    last = { group: false, risky: false, atom: ch === "^" || ch === "$" ? undefined : ch };
  }
  cost *= (stack[0] as Frame).branches * (linear ? TEXT_MAX : 1);
  return cost > MAX_PATTERN_COST ? costly() : undefined;
}

function costly(): string {
  return `its quantifiers and alternations can split a ${TEXT_MAX}-character justification in more than ${MAX_PATTERN_COST.toLocaleString("en-US")} ways (at most two unbounded quantifiers such as + * {10,}); bound them, e.g. {1,20}`;
}

/** The literal character at `i` (plain or escaped punctuation), or undefined when something else starts there. */
function literalAt(p: string, i: number): string | undefined {
  const ch = p[i];
  if (ch === undefined) return undefined;
  if (ch === "\\") {
    const next = p[i + 1];
    return next !== undefined && /[^\p{L}\p{N}]/u.test(next) ? next : undefined;
  }
  return /[\\^$.|?*+()[\]{}]/.test(ch) ? undefined : ch;
}

/** True when the atom (a class, an escape, a character) cannot match `literal`. */
function stopsAt(atom: string, literal: string | undefined): boolean {
  if (literal === undefined || atom === ".") return false;
  try {
    return !new RegExp(`^(?:${atom})$`, "u").test(literal);
  } catch {
    return false;
  }
}

function quantifierAt(p: string, i: number): { min: number; max: number; end: number } | undefined {
  const ch = p[i];
  if (ch === "*") return { min: 0, max: Number.POSITIVE_INFINITY, end: i };
  if (ch === "+") return { min: 1, max: Number.POSITIVE_INFINITY, end: i };
  if (ch === "?") return { min: 0, max: 1, end: i };
  if (ch !== "{") return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { min, max, end: i + m[0].length - 1 };
}

/** What is wrong with a request's justification for one rule, or undefined when it satisfies the rule. */
export function justificationGap(rule: JustificationRule, given: string | undefined): string | undefined {
  if (given === undefined)
    return rule.required ? "a justification is required and none was given" : undefined;
  if (rule.pattern && !rule.pattern.regex.test(given))
    return `the justification given does not match the form the rule requires, /${rule.pattern.source}/ (the whole text must match)`;
  return undefined;
}
