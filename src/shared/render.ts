// The one rendering rule for untrusted text on human surfaces (issue 14; docs/security-model.md "reviewer deception").
// Pure, dependency-free and browser-safe: the CLI, the webhooks, the MCP tools and the console (console/src) all
// import it, so a reviewer's terminal, browser and Slack channel show the same thing.
//
// Untrusted text is anything an agent or the cluster controls: object names, labels, annotations, data, request
// bodies, exec argv, justifications, client headers (Kubectl-Command, User-Agent), error messages quoting any of it.
//
// The rule:
//   - Characters that can rewrite, hide or reorder what is shown are never passed through. They are replaced by a
//     visible marker: `⟨\n⟩`, `⟨\r⟩`, `⟨\t⟩`, `⟨\x1b⟩` for other C0 controls, DEL and C1 controls (U+0080–U+009F, so the one-byte CSI U+009B too),
//     `⟨U+202E⟩` for everything else — bidi controls, zero-width and other format characters (U+200B–U+200F,
//     U+2060–U+2064, U+FEFF, U+00AD, U+061C, U+180E, the tag block U+E0000–U+E007F), line and paragraph separators,
//     variation selectors (they carry invisible payloads; an emoji's U+FE0F is shown too, a small price), other
//     default-ignorable code points (Hangul fillers …), private-use and unassigned code points, lone surrogates, and
//     spaces other than U+0020 (NBSP and friends look like a space and are not one).
//   - `⟨` itself is escaped when it occurs in the data, so every `⟨` on a surface is Airlock's: a value cannot fake a
//     marker, and the rendering is unambiguous.
//   - More than MAX_MARKS combining marks in a row (text that smears over the lines around it) are escaped after the
//     fourth.
//   - Single-line fields (inline) also escape LF, CR and TAB: a table cell or a `Field: value` line is one line.
//     Blocks (bodies, diffs, scripts) keep LF and TAB; CR is escaped (it would return to the line's start); each line
//     that was altered ends with `⟨line shown escaped⟩`.
//   - Values longer than the limit are cut, with a marker giving the full size and how to see it all (`more`).
//
// Machine outputs (--json, jsonl and Kubernetes answers) keep exact values and never pass through here.

export const MARK = "⟨";
const LINE_ALTERED = "  ⟨line shown escaped⟩";
/** Combining marks kept in a row before the rest are escaped. */
const MAX_MARKS = 4;

// Per code point (the `u` flag matches a lone surrogate as one code point of category Cs).
const CLASS =
  "[[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}\\p{Co}\\p{Cn}\\p{Default_Ignorable_Code_Point}\\p{Variation_Selector}\\p{Zs}\\u27e8]--[\\x20]]";
const ESCAPED = new RegExp(CLASS, "gv");
const ESCAPED_TEST = new RegExp(CLASS, "v");
const MARK_RUN = new RegExp(`(\\p{M}{${MAX_MARKS}})(\\p{M}+)`, "gu");
const MARK_RUN_TEST = new RegExp(`\\p{M}{${MAX_MARKS + 1}}`, "u");

/** The marker for one code point that is not shown as itself. */
const NAMED: Record<string, string> = { "\n": "⟨\\n⟩", "\r": "⟨\\r⟩", "\t": "⟨\\t⟩" };

export function markerFor(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x100) return `⟨\\x${cp.toString(16).padStart(2, "0")}⟩`;
  return `⟨U+${cp.toString(16).toUpperCase().padStart(4, "0")}⟩`;
}

/** True when `ch` (one code point) is never shown as itself. LF, CR, TAB are decided by the caller's mode. */
export function isEscaped(ch: string): boolean {
  return ESCAPED_TEST.test(ch);
}

function escapeLine(line: string, keepTab: boolean): { text: string; altered: boolean } {
  let altered = false;
  let text = line;
  if (ESCAPED_TEST.test(text)) {
    text = text.replace(ESCAPED, (ch) => {
      if (keepTab && ch === "\t") return ch;
      altered = true;
      return markerFor(ch);
    });
  }
  if (MARK_RUN_TEST.test(text)) {
    altered = true;
    text = text.replace(
      MARK_RUN,
      (_all, kept: string, rest: string) => kept + [...rest].map(markerFor).join(""),
    );
  }
  return { text, altered };
}

export interface CutOptions {
  /** Characters (UTF-16 units) shown at most; the rest is replaced by a marker. */
  max?: number;
  /** How to see all of it, for the marker: e.g. "run 'airlock review show ID --full'". */
  more?: string;
}

function cut(value: string, max: number | undefined): string {
  if (max === undefined || value.length <= max) return value;
  let end = Math.max(0, max);
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // do not split a surrogate pair into a lone half
  return value.slice(0, end);
}

function cutMarker(value: string, shown: number, more: string | undefined): string {
  const fmt = (n: number) => n.toLocaleString("en-US");
  return `⟨cut: ${fmt(shown)} of ${fmt(value.length)} characters shown${more ? `; ${more}` : ""}⟩`;
}

/**
 * A single-line field (a table cell, `Field: value`): every control, LF, CR and TAB included, is a marker.
 * Cut at `max` with a marker at the end of the line.
 */
export function renderInline(value: string, opts: CutOptions = {}): string {
  const head = cut(value, opts.max);
  const { text } = escapeLine(head, false);
  return head.length < value.length ? `${text}…${cutMarker(value, head.length, opts.more)}` : text;
}

/**
 * A block (a body, a diff, a script): LF and TAB kept, everything else as in renderInline; each line that was
 * altered says so at its end. Cut at `max` with a marker on a line of its own. Never returns a trailing newline
 * the value did not have.
 */
export function renderBlock(value: string, opts: CutOptions = {}): string {
  const head = cut(value, opts.max);
  const lines = head.split("\n").map((line) => {
    const { text, altered } = escapeLine(line, true);
    return altered ? text + LINE_ALTERED : text;
  });
  const out = lines.join("\n");
  return head.length < value.length ? `${out}\n${cutMarker(value, head.length, opts.more)}` : out;
}

/** One piece of rendered text: shown as is, or a marker (the console styles markers so they stand out). */
export interface Segment {
  text: string;
  mark: boolean;
}

/** renderInline/renderBlock output split into plain text and markers, for surfaces that style markers (the console). */
export function segments(rendered: string): Segment[] {
  const out: Segment[] = [];
  const re = /⟨[^⟨⟩]*⟩/g;
  let at = 0;
  for (let m = re.exec(rendered); m; m = re.exec(rendered)) {
    if (m.index > at) out.push({ text: rendered.slice(at, m.index), mark: false });
    out.push({ text: m[0], mark: true });
    at = m.index + m[0].length;
  }
  if (at < rendered.length) out.push({ text: rendered.slice(at), mark: false });
  return out;
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One exec argument, quoted unambiguously: bare when it is plain, else in single quotes (a `'` inside as `'\''`, as
 * a POSIX shell reads it), with every control a marker; an empty argument is `''`.
 */
export function quoteArg(arg: string, opts: CutOptions = {}): string {
  if (SHELL_SAFE.test(arg)) return renderInline(arg, opts);
  return `'${renderInline(arg, opts).replaceAll("'", "'\\''")}'`;
}

/** An argv as lines `[0] sh`, `[1] -c`, `[2] '…'`: one argument per line, so no argument can pass for two. */
export function argvLines(argv: string[], opts: CutOptions = {}): string[] {
  return argv.map((a, i) => `[${i}] ${quoteArg(a, opts)}`);
}

/** An argv on one line, each argument quoted as by quoteArg (for tables). */
export function argvInline(argv: string[], opts: CutOptions = {}): string {
  return argv.map((a) => quoteArg(a, opts)).join(" ");
}

/**
 * Look-alikes: a name (identity, namespace, object) that holds anything but printable ASCII gets a visible note.
 * Kubernetes object names are ASCII by rule; an identity or a free-text name with Cyrillic `а` for Latin `a` is
 * exactly what a look-alike attack needs, so Airlock does not guess at scripts: any non-ASCII is flagged.
 */
export function renderName(value: string, opts: CutOptions = {}): string {
  const shown = renderInline(value, opts);
  return /[^\x20-\x7e]/.test(value) ? `${shown} ⟨non-ASCII: may imitate another name⟩` : shown;
}

/** True when rendering changes nothing: the value can be shown as is. */
export function isPlain(value: string): boolean {
  return !ESCAPED_TEST.test(value.replaceAll(/[\n\t]/g, "")) && !MARK_RUN_TEST.test(value);
}

const JSON_UNSAFE = new RegExp(CLASS, "gv");

/**
 * JSON for a terminal: exactly the values (JSON.parse gives them back unchanged), with every character the rule would
 * mark written as a \uXXXX escape, so `--json` output cannot drive or reorder the terminal it is printed on.
 */
export function terminalJson(value: unknown, space = 2): string {
  return JSON.stringify(value, null, space).replace(JSON_UNSAFE, (ch) => {
    if (ch === "\n" || ch === "\t") return ch; // the pretty-printer's own layout; inside strings JSON escapes them
    let out = "";
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return out;
  });
}
