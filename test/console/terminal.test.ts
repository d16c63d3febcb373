// The console's pure pieces: the terminal screen the player renders, the asciicast reader, the side-by-side diff.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventsUntil, parseCast } from "../../console/src/lib/asciicast.ts";
import { sideBySide } from "../../console/src/lib/diff.ts";
import { Screen } from "../../console/src/lib/terminal.ts";

const screenOf = (data: string | string[], w = 20, h = 4) => {
  const s = new Screen(w, h);
  for (const d of [data].flat()) s.feed(d);
  return s;
};

test("the terminal screen handles the common control and ANSI sequences", () => {
  const cases: { name: string; input: string | string[]; want: string }[] = [
    { name: "CRLF lines", input: "one\r\ntwo\r\n", want: "one\ntwo" },
    { name: "a bare LF also returns the carriage (output without a TTY)", input: "a\nb", want: "a\nb" },
    { name: "carriage return overwrites", input: "hello\rJ", want: "Jello" },
    { name: "backspace moves left", input: "ab\bc", want: "ac" },
    { name: "erase to end of line", input: "abcdef\r\x1b[3C\x1b[K", want: "abc" },
    { name: "erase whole screen", input: "junk\r\nmore\x1b[2J\x1b[Hclean", want: "clean" },
    { name: "cursor position", input: "\x1b[2;3Hx", want: "\n  x" },
    { name: "colours are styling, never text", input: "\x1b[1;31mred\x1b[0m ok", want: "red ok" },
    { name: "OSC title is dropped", input: "\x1b]0;my title\x07$ ls", want: "$ ls" },
    { name: "a sequence split across events", input: ["\x1b[", "31mred", "\x1b", "[0m!"], want: "red!" },
    { name: "long lines wrap", input: "x".repeat(25), want: `${"x".repeat(20)}\n${"x".repeat(5)}` },
    { name: "the screen scrolls at the bottom", input: "1\n2\n3\n4\n5", want: "2\n3\n4\n5" },
    { name: "delete characters", input: "abcdef\r\x1b[2P", want: "cdef" },
    {
      name: "256-colour and truecolour parameters are consumed",
      input: "\x1b[38;5;196mA\x1b[38;2;1;2;3mB",
      want: "AB",
    },
    { name: "the alternate screen starts clean", input: "shell$ \x1b[?1049hfull", want: "full" },
  ];
  for (const c of cases) assert.equal(screenOf(c.input).text(), c.want, c.name);
});

test("styled runs carry the SGR colour and bold", () => {
  const runs = screenOf("\x1b[1;32mok\x1b[0m done").runs()[0] ?? [];
  assert.deepEqual(
    runs.map((r) => [r.text, r.style.fg, r.style.bold]),
    [
      ["ok", 2, true],
      [" done", null, false],
    ],
  );
});

test("resizing keeps the bottom rows and clamps the cursor", () => {
  const s = screenOf("1\n2\n3\n4", 10, 4);
  s.resize(5, 2);
  assert.equal(s.text(), "3\n4");
  assert.deepEqual([s.width, s.height], [5, 2]);
  assert.ok(s.cursor().y <= 1);
});

test("an asciicast is read tolerantly: header, output and input, resize, exit marker, a torn last line dropped", () => {
  const cast = parseCast(
    [
      JSON.stringify({ version: 2, width: 100, height: 30, timestamp: 1 }),
      JSON.stringify([0.1, "o", "$ "]),
      JSON.stringify([0.5, "i", "ls\r"]),
      JSON.stringify([0.6, "o", "ls\r\nfile\r\n"]),
      JSON.stringify([0.7, "r", "120x40"]),
      JSON.stringify([0.9, "m", "exit 0"]),
      '[1.2, "o", "torn',
    ].join("\n"),
  );
  assert.deepEqual([cast.header.width, cast.header.height], [100, 30]);
  assert.deepEqual(
    cast.output.map((e) => e.type),
    ["o", "o", "r"],
  );
  assert.deepEqual(
    cast.input.map((e) => e.data),
    ["ls\r"],
  );
  assert.equal(cast.exit, "exit 0");
  assert.equal(cast.duration, 0.9);
  assert.equal(eventsUntil(cast.output, 0), 0);
  assert.equal(eventsUntil(cast.output, 0.1), 1);
  assert.equal(eventsUntil(cast.output, 0.65), 2);
  assert.equal(eventsUntil(cast.output, 99), 3);
});

test("a recording without a usable header plays in an 80x24 grid", () => {
  const cast = parseCast('not json\n[0.1,"o","hi"]\n');
  assert.deepEqual([cast.header.width, cast.header.height], [80, 24]);
  assert.equal(cast.output.length, 1);
});

test("a unified diff is laid out side by side, changed lines paired", () => {
  const rows = sideBySide(
    [
      "--- current",
      "+++ after",
      "@@ -1,3 +1,3 @@",
      " spec:",
      "-  replicas: 3",
      "+  replicas: 4",
      "+  paused: true",
      " kind: Deployment",
    ].join("\n"),
  );
  const flat = rows.map((r) =>
    r.kind === "hunk" ? `hunk ${r.text}` : `${r.left.kind}:${r.left.text} | ${r.right.kind}:${r.right.text}`,
  );
  assert.deepEqual(flat, [
    "hunk @@ -1,3 +1,3 @@",
    "same:spec: | same:spec:",
    "removed:  replicas: 3 | added:  replicas: 4",
    "empty: | added:  paused: true",
    "same:kind: Deployment | same:kind: Deployment",
  ]);
  assert.deepEqual(sideBySide(""), []);
});
