// The one rendering rule for untrusted text (src/shared/render.ts): every character that can rewrite, hide or reorder
// what a human reads comes out as a visible marker, a value cannot fake a marker, long values are cut with a marker
// giving the full size, and argv is one unambiguous argument per line.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  argvInline,
  argvLines,
  isPlain,
  markerFor,
  renderBlock,
  renderInline,
  renderName,
  segments,
  terminalJson,
} from "../../src/shared/render.ts";
import { HOSTILE, HOSTILE_ALL, RAW_HOSTILE } from "../helpers/hostile.ts";

const INVISIBLE_OR_CONTROL =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Default_Ignorable_Code_Point}\p{Variation_Selector}\u00a0]/u;

describe("the rendering rule", () => {
  for (const [name, text] of HOSTILE) {
    test(`${name} is shown as a marker, never passed through (inline and block)`, () => {
      const value = `before${text}after`;
      for (const out of [renderInline(value), renderBlock(value)]) {
        assert.doesNotMatch(out, INVISIBLE_OR_CONTROL, JSON.stringify(out));
        assert.match(out, /⟨(\\x[0-9a-f]{2}|\\[nrt]|U\+[0-9A-F]{4,6})⟩/);
        assert.ok(out.startsWith("before"));
      }
    });
  }

  test("the markers name the character: \\x for C0/C1/DEL, U+ for the rest", () => {
    assert.equal(markerFor("\x1b"), "⟨\\x1b⟩");
    assert.equal(markerFor("\u009b"), "⟨\\x9b⟩");
    assert.equal(markerFor("\x7f"), "⟨\\x7f⟩");
    assert.equal(markerFor("\n"), "⟨\\n⟩");
    assert.equal(markerFor("\u202e"), "⟨U+202E⟩");
    assert.equal(markerFor("\u{e0061}"), "⟨U+E0061⟩");
    assert.equal(
      renderInline("safe \u202eexe.llehs-esrever\u202c ok"),
      "safe ⟨U+202E⟩exe.llehs-esrever⟨U+202C⟩ ok",
    );
  });

  test("a value cannot fake a marker: a literal ⟨ in the data is itself escaped", () => {
    const out = renderInline("x ⟨U+202E⟩ ⟨cut: 10 of 10 characters shown⟩");
    assert.equal(out, "x ⟨U+27E8⟩U+202E⟩ ⟨U+27E8⟩cut: 10 of 10 characters shown⟩");
    // every ⟨…⟩ segment the console would style is a real marker
    assert.deepEqual(
      segments(out)
        .filter((s) => s.mark)
        .map((s) => s.text),
      ["⟨U+27E8⟩", "⟨U+27E8⟩"],
    );
  });

  test("inline fields are one line: LF, CR and TAB are markers", () => {
    assert.equal(renderInline("a\nb\r\tc"), "a⟨\\n⟩b⟨\\r⟩⟨\\t⟩c");
  });

  test("blocks keep LF and TAB, escape CR, and each altered line says so", () => {
    const out = renderBlock("plain\n\tindented\nred\x1b[31m\r\nlast");
    assert.equal(out, "plain\n\tindented\nred⟨\\x1b⟩[31m⟨\\r⟩  ⟨line shown escaped⟩\nlast");
  });

  test("a stack of combining marks is cut down to four; ordinary accents pass", () => {
    assert.equal(renderInline("café"), "café");
    assert.equal(renderInline("e\u0301\u0301\u0301\u0301\u0301"), "e\u0301\u0301\u0301\u0301⟨U+0301⟩");
  });

  test("ordinary text, including non-Latin scripts and emoji without selectors, passes unchanged", () => {
    for (const s of [
      "kubectl get pods -n prod",
      "données: élevé",
      "日本語のテキスト",
      "Привет",
      "🚀 deploy",
    ]) {
      assert.equal(renderInline(s), s);
      assert.ok(isPlain(s));
    }
    assert.ok(!isPlain("a\u202eb"));
  });

  test("a very long value is cut with a marker giving the full size and how to see it all", () => {
    const long = "A".repeat(50_000);
    const inline = renderInline(long, { max: 100, more: "run 'airlock review show R --full'" });
    assert.equal(
      inline,
      `${"A".repeat(100)}…⟨cut: 100 of 50,000 characters shown; run 'airlock review show R --full'⟩`,
    );
    const block = renderBlock(`${"x\n".repeat(10)}`, { max: 5 });
    assert.equal(block, "x\nx\nx\n⟨cut: 5 of 20 characters shown⟩");
    assert.equal(renderInline("short", { max: 100 }), "short");
  });

  test("a cut never splits a surrogate pair into a lone half", () => {
    assert.equal(renderInline("ab😀cd", { max: 3 }), "ab…⟨cut: 2 of 6 characters shown⟩");
  });

  test("argv is one argument per line, quoted as a shell reads it, controls as markers", () => {
    assert.deepEqual(argvLines(["sh", "-c", "cat /etc/hostname #\r\x1b[2K\x1b[1ACommand: ls", "", "it's"]), [
      "[0] sh",
      "[1] -c",
      "[2] 'cat /etc/hostname #⟨\\r⟩⟨\\x1b⟩[2K⟨\\x1b⟩[1ACommand: ls'",
      "[3] ''",
      "[4] 'it'\\''s'",
    ]);
    assert.equal(argvInline(["echo", "a b"]), "echo 'a b'");
    assert.notEqual(argvInline(["echo", "a b"]), argvInline(["echo", "a", "b"]));
  });

  test("a name with non-ASCII letters (a look-alike) is flagged", () => {
    assert.equal(renderName("alice"), "alice");
    assert.equal(renderName("\u0430lice"), "\u0430lice ⟨non-ASCII: may imitate another name⟩");
    assert.match(renderName("al\u200bice"), /^al⟨U\+200B⟩ice ⟨non-ASCII/);
  });

  test("--json output keeps exact values but writes every hostile character as a \\u escape", () => {
    const value = { name: HOSTILE_ALL, list: HOSTILE.map(([, t]) => t), marker: "⟨U+202E⟩" };
    const json = terminalJson(value);
    assert.deepEqual(JSON.parse(json), value, "exact values");
    for (const line of json.split("\n")) assert.doesNotMatch(line, RAW_HOSTILE, JSON.stringify(line));
  });
});
