// The stdin line gate (src/gateway/stdin-inspect.ts) on raw channel frames: lines split across frames, continuation
// lines, the v5 close signal, a dropped connection and an endless line.
import assert from "node:assert/strict";
import { test } from "node:test";
import { StdinLineGate } from "../../src/gateway/stdin-inspect.ts";
import type { LineVerdict } from "../../src/policy/inspect.ts";
import { analyzeScript } from "../../src/policy/shell.ts";

/** Refuses any line that runs rm, or that cannot be resolved. */
const check = (line: string): LineVerdict => {
  const a = analyzeScript(line);
  return a.programs.includes("rm") || a.unresolved.length
    ? { ok: false, policy: "p", rule: "r", message: "no" }
    : { ok: true };
};
const stdin = (text: string) => Buffer.concat([Buffer.from([0]), Buffer.from(text)]);
const text = (frames: Buffer[]) => frames.map((f) => f.subarray(1).toString()).join("");

test("lines are delivered whole, in order, however the frames cut them; refused ones are answered on stderr", () => {
  const gate = new StdinLineGate(check);
  const out = [
    gate.frame(stdin("echo o")),
    gate.frame(stdin("ne\nrm -rf /\necho two\nr")),
    gate.frame(stdin("\\\nm x\n")),
  ];
  assert.equal(text(out.flatMap((o) => o.forward)), "echo one\necho two\n");
  const replies = out.flatMap((o) => o.reply);
  assert.equal(replies.length, 2);
  assert.ok(
    replies.every((r) => r[0] === 2),
    "on the stderr channel",
  );
  assert.match(
    replies[0]?.subarray(1).toString() ?? "",
    /^airlock: line not run by policy p rule r: no: rm -rf \/\n$/,
  );
  assert.equal(gate.refused.length, 2);
  assert.equal(gate.delivered, 2);
  assert.match(
    gate.summary() ?? "",
    /^stdin inspection: 2 line\(s\) not run \(first by policy p rule r: no\); 2 delivered$/,
  );
});

test("a quote or here-document spanning lines is checked as one unit", () => {
  const gate = new StdinLineGate(check);
  const a = gate.frame(stdin("echo 'a\n"));
  assert.deepEqual(a.forward, [], "an open quote waits");
  const b = gate.frame(stdin("b'\nsh <<EOF\nrm x\n"));
  assert.equal(text(b.forward), "echo 'a\nb'\n");
  const c = gate.frame(stdin("EOF\n"));
  assert.deepEqual(c.forward, []);
  assert.equal(c.reply.length, 1, "the here-document's rm refuses the whole unit");
});

test("the v5 close signal flushes the last partial line (checked) before it; other channels pass", () => {
  const gate = new StdinLineGate(check);
  assert.deepEqual(gate.frame(stdin("echo last")).forward, []);
  const close = Buffer.from([255, 0]);
  const out = gate.frame(close);
  assert.equal(out.forward.length, 2);
  assert.equal(out.forward[0]?.subarray(1).toString(), "echo last");
  assert.deepEqual(out.forward[1], close);
  const resize = Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]);
  assert.deepEqual(gate.frame(resize).forward, [resize]);
});

test("a dropped connection delivers nothing pending; an endless line is refused, not buffered forever", () => {
  const gate = new StdinLineGate(check);
  gate.frame(stdin("rm -rf /"));
  gate.abandon();
  assert.equal(gate.refused.length, 1);
  const long = new StdinLineGate(() => ({ ok: true }));
  const out = long.frame(stdin(`echo '${"x".repeat(70_000)}`));
  assert.deepEqual(out.forward, []);
  assert.equal(out.reply.length, 1);
  assert.match(out.reply[0]?.subarray(1).toString() ?? "", /longer than 65536 bytes is not inspected/);
});

test("a line the shell would read another way (NUL dropped, other control bytes, invalid UTF-8) is refused", () => {
  const gate = new StdinLineGate(check);
  const out = gate.frame(
    Buffer.concat([
      stdin("r\u0000m -rf /tmp\n"),
      stdin("echo \u001b[2Jx\n").subarray(1),
      Buffer.from([0x72, 0xff, 0x6d, 0x0a]),
      stdin("echo ok\n").subarray(1),
    ]),
  );
  assert.equal(text(out.forward), "echo ok\n");
  assert.equal(gate.refused.length, 3);
  const replies = out.reply.map((r) => r.subarray(1).toString()).join("");
  assert.match(replies, /a line with control characters is not inspected/);
  assert.match(replies, /a line that is not valid UTF-8 is not inspected/);
});

test("an open quote held over hundreds of lines is refused at 256 lines; the shell never sees it, so what follows is judged on its own", () => {
  const gate = new StdinLineGate(check);
  const out = gate.frame(stdin(`echo '\n${"x\n".repeat(300)}`));
  assert.equal(out.reply.length, 1);
  assert.match(
    out.reply[0]?.subarray(1).toString() ?? "",
    /a command spanning more than 256 lines is not inspected/,
  );
  // Lines 258 on reach the shell as commands of their own (it never saw the open quote), each checked as one.
  assert.equal(gate.delivered, 44);
  assert.equal(text(out.forward), "x\n".repeat(44));
});

test("a long line sent a byte a frame is held in pieces and refused once, at the limit", () => {
  const gate = new StdinLineGate(() => ({ ok: true }));
  const replies: Buffer[] = [];
  for (let i = 0; i < 70_000; i++) replies.push(...gate.frame(stdin("x")).reply);
  assert.equal(replies.length, 1);
  assert.match(replies[0]?.subarray(1).toString() ?? "", /longer than 65536 bytes/);
  assert.equal(gate.delivered, 0);
});
