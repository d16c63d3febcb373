// `airlock session play`'s filter (src/recording/replay.ts): colours and cursor movement pass; OSC, DCS, APC, PM,
// SOS, terminal queries, ENQ and other controls are dropped and counted; C1 forms are read as their ESC forms; text
// follows the rendering rule; and what was typed or piped is shown as marked lines.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AsciicastEvent } from "../../src/recording/asciicast.ts";
import { replaySteps, STDIN_MARK, TerminalFilter } from "../../src/recording/replay.ts";
import { HOSTILE } from "../helpers/hostile.ts";

const filtered = (data: string) => {
  const f = new TerminalFilter();
  return { out: f.feed(data), dropped: Object.fromEntries(f.dropped) };
};

/** Every escape sequence left in the output: only drawing ones may remain. */
const SEQUENCES = /\x1b(\[[0-9;:?>=< ]*[@-~]|[^[])/g;
const DRAWING = /^\x1b(\[[0-9;:?>=<]*[ABCDEFGHIJKLMPSTXZ@`abdefghlmrsu]|\[\d* q|[78DEMH=>c]|\([B0])$/;

describe("session play: the terminal filter", () => {
  test("colours, cursor movement, erase and the alternate screen pass unchanged", () => {
    const draw = "\x1b[31mred\x1b[0m \x1b[1;1H\x1b[2J\x1b[K\x1b[?1049h\x1b[3A\x1b[10G\x1b7\x1b8\r\n\tok\b";
    assert.deepEqual(filtered(draw), { out: draw, dropped: {} });
  });

  const dropped: [string, string, string][] = [
    ["OSC 52 clipboard write (BEL)", "\x1b]52;c;cm0gLXJmIC8=\x07", "OSC 52 (clipboard write)"],
    ["OSC 52 clipboard write (ST)", "\x1b]52;c;cm0gLXJmIC8=\x1b\\", "OSC 52 (clipboard write)"],
    ["OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x07", "OSC 8 (hyperlink)"],
    ["OSC 0 title", "\x1b]0;Command: cat /etc/hostname\x07", "OSC 0-2 (window title)"],
    ["OSC colour query", "\x1b]11;?\x07", "OSC 11"],
    ["DCS DECRQSS", "\x1bP$qm\x1b\\", "DCS (DECRQSS query)"],
    ["DCS tmux passthrough", "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\", "DCS"],
    ["APC", "\x1b_Gf=100;AAAA\x1b\\", "APC"],
    ["PM", "\x1b^private\x1b\\", "PM"],
    ["SOS", "\x1bXstring\x1b\\", "SOS"],
    ["DA1", "\x1b[c", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
    ["DA2", "\x1b[>c", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
    ["DSR/CPR", "\x1b[6n", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
    ["DECRQM", "\x1b[?2004$p", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
    ["title report", "\x1b[21t", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
    ["DECID", "\x1bZ", "terminal query (DECID)"],
    ["ENQ answerback", "\x05", "ENQ (answerback)"],
    ["one-byte OSC U+009D", "\u009d52;c;eA==\u009c", "OSC 52 (clipboard write)"],
    ["one-byte DCS U+0090", "\u0090$qm\u009c", "DCS (DECRQSS query)"],
    ["one-byte APC U+009F", "\u009fx\u009c", "APC"],
    ["one-byte CSI query U+009B", "\u009b6n", "terminal query (DA/DSR/CPR/DECRQM/window report)"],
  ];
  for (const [name, seq, kind] of dropped) {
    test(`${name} is dropped and counted`, () => {
      const { out, dropped } = filtered(`a${seq}b`);
      assert.equal(out, "ab");
      assert.equal(dropped[kind], 1, JSON.stringify(dropped));
    });
  }

  test("a sequence split across output events is still recognised", () => {
    const f = new TerminalFilter();
    assert.equal(f.feed("x\x1b]5") + f.feed("2;c;eA") + f.feed("==\x07y"), "xy");
    assert.equal(f.dropped.get("OSC 52 (clipboard write)"), 1);
  });

  test("CAN aborts a sequence, as a terminal does, so text after it is shown", () => {
    assert.equal(filtered("\x1b]0;title\x18visible").out, "visible");
  });

  test("the one-byte CSI draws like ESC [ and cannot smuggle a query", () => {
    assert.equal(filtered("\u009b2K").out, "\x1b[2K");
  });

  test("the whole hostile class fed as output leaves only drawing sequences and visible markers", () => {
    const f = new TerminalFilter();
    const out = HOSTILE.map(([, t]) => f.feed(`w${t}`)).join("");
    for (const m of out.matchAll(SEQUENCES)) assert.match(m[0], DRAWING, JSON.stringify(m[0]));
    const rest = out.replace(SEQUENCES, "");
    assert.doesNotMatch(
      rest,
      /[\x00-\x07\x0b-\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u,
      JSON.stringify(rest),
    );
    assert.match(rest, /⟨U\+202E⟩/);
  });
});

describe("session play: what was typed", () => {
  const cast = (events: AsciicastEvent[]) =>
    replaySteps(events, 1, undefined)
      .map((s) => s.data)
      .join("");

  test("piped stdin (printf 'echo x\\nid -u\\n' | kubectl exec -i … -- sh) shows both commands, marked", () => {
    const out = cast([
      [0.1, "i", "echo x\nid -u\n"],
      [0.2, "o", "x\n"],
      [0.3, "o", "0\n"],
      [0.4, "m", "exit 0"],
    ]);
    const lines = out.replace(/\x1b\[[0-9;]*m/g, "").split("\r\n");
    assert.ok(lines.includes(`${STDIN_MARK}echo x`), JSON.stringify(lines));
    assert.ok(lines.includes(`${STDIN_MARK}id -u`), JSON.stringify(lines));
    assert.match(out, /\x1b\[2m⟩ echo x/, "input is dim, apart from output");
    assert.match(out, /⟨exit 0⟩/);
  });

  test("typed keystrokes on a TTY become one marked line per line typed, controls escaped", () => {
    const out = cast([
      [0.1, "o", "$ "],
      [0.2, "i", "l"],
      [0.2, "o", "l"],
      [0.3, "i", "s"],
      [0.3, "o", "s"],
      [0.4, "i", "\x1b[A\x03\r"],
    ]).replace(/\x1b\[[0-9;]*m/g, "");
    assert.match(out, /\$ ls\r\n⟩ ls⟨\\x1b⟩\[A⟨\\x03⟩\r\n/);
  });

  test("input without a final newline is still shown at the end", () => {
    assert.match(cast([[0.1, "i", "rm -rf /data"]]), /⟩ rm -rf \/data/);
  });

  test("a hostile input line cannot rewrite the screen: its controls are markers", () => {
    const out = cast([[0.1, "i", "id\x1b[1A\x1b[2K\r\u009b1Aecho harmless\n"]]);
    // CR is Enter on a TTY: two lines, each escaped.
    assert.match(out, /⟩ id⟨\\x1b⟩\[1A⟨\\x1b⟩\[2K\x1b\[0m\r\n\x1b\[0m\x1b\[2m⟩ ⟨\\x9b⟩1Aecho harmless/);
  });

  test("the last line names what was dropped", () => {
    const out = cast([[0.1, "o", "\x1b]52;c;eA==\x07done\n"]]);
    assert.match(out, /⟨session play dropped terminal sequences: 1 OSC 52 \(clipboard write\)⟩/);
  });
});
