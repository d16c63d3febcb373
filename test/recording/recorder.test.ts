import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseRange } from "../../src/admin/sessions.ts";
import { checkAsciicast, parseAsciicast } from "../../src/recording/asciicast.ts";
import { exitCodeOf, parseResize } from "../../src/recording/channels.ts";
import { cpForm, TarSummary } from "../../src/recording/cp.ts";
import { AsciicastRecorder } from "../../src/recording/exec-recorder.ts";
import { AppendFile } from "../../src/recording/file.ts";
import { sessionKey } from "../../src/recording/sessions.ts";
import { WsFrameReader } from "../../src/recording/ws-frames.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-recorder-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const frame = (channel: number, text: string | Buffer) =>
  Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);

test("the recorder writes stdin as input, stdout and stderr as output, resizes, and the exit status as a marker", async () => {
  const path = join(dir, "a.cast");
  const file = new AppendFile(path, { flushMs: 1000, onError: (e) => assert.fail(e) });
  const r = new AsciicastRecorder({
    file,
    base64: false,
    startedAt: performance.now(),
    title: "t",
    timestamp: 1,
    env: {},
  });
  r.fromClient(frame(4, '{"Width":100,"Height":30}\n'), true);
  r.fromClient(frame(0, "ls\r"), true);
  // A UTF-8 character split across two frames stays whole.
  const euro = Buffer.from("€");
  r.toClient(frame(1, Buffer.concat([Buffer.from("a"), euro.subarray(0, 1)])), true);
  r.toClient(frame(1, euro.subarray(1)), true);
  r.toClient(frame(2, "err\n"), true);
  r.fromClient(frame(4, '{"Width":120,"Height":40}\n'), true);
  r.toClient(
    frame(
      3,
      JSON.stringify({
        status: "Failure",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "7" }] },
      }),
    ),
    true,
  );
  r.end();
  await file.close();
  const text = readFileSync(path, "utf8");
  assert.deepEqual(checkAsciicast(text), []);
  const { header, events } = parseAsciicast(text);
  assert.equal(header?.width, 100);
  assert.equal(header?.height, 30);
  assert.deepEqual(
    events.map(([, k, d]) => [k, d]),
    [
      ["i", "ls\r"],
      ["o", "a"],
      ["o", "€"],
      ["o", "err\n"],
      ["r", "120x40"],
      ["m", "exit 7"],
    ],
  );
  assert.equal(r.outcome().exitCode, 7);
});

test("base64 subprotocol frames are decoded like binary ones", async () => {
  const path = join(dir, "b.cast");
  const file = new AppendFile(path, { flushMs: 1000, onError: (e) => assert.fail(e) });
  const r = new AsciicastRecorder({
    file,
    base64: true,
    startedAt: performance.now(),
    title: "t",
    timestamp: 1,
    env: {},
  });
  r.toClient(`1${Buffer.from("hello").toString("base64")}`, false);
  r.toClient("1!!notbase64", false);
  r.end();
  await file.close();
  const { events } = parseAsciicast(readFileSync(path, "utf8"));
  assert.deepEqual(
    events.map(([, , d]) => d),
    ["hello"],
  );
  assert.equal(r.outcome().unreadable, 1);
});

test("a file is flushed within its interval without being closed (what survives a SIGKILL)", async () => {
  const path = join(dir, "c.cast");
  const file = new AppendFile(path, { flushMs: 50, onError: (e) => assert.fail(e) });
  file.append("line\n");
  assert.equal(readFileSync(path, "utf8"), "");
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(readFileSync(path, "utf8"), "line\n");
  await file.close();
  assert.throws(
    () => new AppendFile(path, { flushMs: 50, onError: () => {} }),
    /EEXIST/,
    "never reopened or truncated",
  );
});

test("exit codes: Success is 0, NonZeroExitCode names its code, other failures have none", () => {
  assert.equal(exitCodeOf(Buffer.from('{"status":"Success"}')).code, 0);
  assert.equal(exitCodeOf(Buffer.from('{"status":"Failure","message":"boom"}')).code, undefined);
  assert.equal(exitCodeOf(Buffer.from("not json")).code, undefined);
  assert.deepEqual(parseResize(Buffer.from('{"Width":1,"Height":2}\n')), { width: 1, height: 2 });
  assert.equal(parseResize(Buffer.from('{"Width":-1,"Height":2}')), undefined);
});

test("cp is recognised only from the exact tar argv forms kubectl 1.32 sends; anything else is an exec", () => {
  const cases: [string[], boolean, string | undefined][] = [
    [["tar", "cf", "-", "file"], false, "download"],
    [["tar", "cf", "-", "/tmp/dir/x.txt"], false, "download"],
    [["tar", "-xmf", "-"], true, "upload"],
    [["tar", "-xmf", "-", "-C", "/tmp"], true, "upload"],
    [["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-"], true, "upload"],
    [["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", "/tmp/d"], true, "upload"],
    // the direction must match the stdin flag
    [["tar", "-xmf", "-", "-C", "/tmp"], false, undefined],
    [["tar", "cf", "-", "file"], true, undefined],
    // not kubectl's argv
    [["/bin/tar", "cf", "-", "x"], false, undefined],
    [["tar", "cf", "-", "/dev/null", "--checkpoint=1", "--checkpoint-action=exec=sh 1>&2"], true, undefined],
    [["tar", "cf", "-", "/dev/null", "--checkpoint=1", "--checkpoint-action=exec=sh 1>&2"], false, undefined],
    [["tar", "cf", "-", "--to-command=sh"], false, undefined],
    [["tar", "cf", "-", "-Ish"], false, undefined],
    [["tar", "-xmf", "-", "-C", "/tmp", "--to-command=sh"], true, undefined],
    [["tar", "-xmf", "-", "--use-compress-program=sh"], true, undefined],
    [["tar", "-xmf", "-", "-I", "sh"], true, undefined],
    [["tar", "-xmf", "-", "-C", "--to-command=sh"], true, undefined],
    [["tar", "-xmf", "-", "-C", ""], true, undefined],
    [["tar", "czf", "-", "x"], false, undefined],
    [["tar", "xf", "-"], true, undefined],
    [["sh", "-c", "tar cf - x"], false, undefined],
    [["sh", "-c", "tar cf - x | tail -c+5"], false, undefined],
    [["test", "-d", "/tmp"], false, undefined],
  ];
  for (const [argv, stdin, want] of cases) assert.equal(cpForm(argv, stdin, false), want, argv.join(" "));
  assert.equal(cpForm(["tar", "cf", "-", "file"], false, true), undefined, "never with a tty");
});

test("a cp tar stream is summarised as it passes: size, SHA-256 and listing, whatever the chunking", () => {
  const dir = mkdtempSync(join(tmpdir(), "airlock-tar-"));
  mkdirSync(join(dir, "d"));
  writeFileSync(join(dir, "d", "a.txt"), "hello\n");
  writeFileSync(join(dir, "d", `${"n".repeat(120)}.txt`), "x".repeat(1500));
  symlinkSync("a.txt", join(dir, "d", "link"));
  const tar = execFileSync("tar", ["cf", "-", "-C", dir, "d"]);
  rmSync(dir, { recursive: true, force: true });
  for (const size of [1, 7, 511, 512, 4096, tar.length]) {
    const s = new TarSummary();
    for (let i = 0; i < tar.length; i += size) s.push(tar.subarray(i, i + size));
    const sum = s.summary();
    assert.equal(sum.bytes, tar.length);
    assert.equal(sum.sha256, createHash("sha256").update(tar).digest("hex"));
    const names = sum.entries
      .map((e) => `${e.type} ${e.name} ${e.size}${e.linkname ? ` -> ${e.linkname}` : ""}`)
      .sort();
    assert.deepEqual(
      names,
      ["dir d/ 0", "file d/a.txt 6", `file d/${"n".repeat(120)}.txt 1500`, "symlink d/link 0 -> a.txt"],
      `chunks of ${size}`,
    );
  }
});

test("session keys: Kubectl-Session groups per identity and cluster, never across identities; else an idle window", () => {
  const base = { identityId: "i1", identityName: "a", cluster: "c" };
  assert.equal(sessionKey({ ...base, kubectlSession: "u" }).kind, "kubectl");
  assert.notEqual(
    sessionKey({ ...base, kubectlSession: "u" }).key,
    sessionKey({ ...base, identityId: "i2", kubectlSession: "u" }).key,
  );
  assert.notEqual(
    sessionKey({ ...base, kubectlSession: "u" }).key,
    sessionKey({ ...base, cluster: "d", kubectlSession: "u" }).key,
  );
  assert.equal(sessionKey({ ...base }).kind, "window");
  assert.equal(sessionKey({ ...base, kubectlSession: "  " }).kind, "window");
  assert.equal(sessionKey({ ...base, kubectlSession: "u", mcpSession: "m" }).kind, "mcp");
});

test("Range headers: start-end, open end, suffix, out of range, and forms served whole", () => {
  assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=50-500", 100), { start: 50, end: 99 });
  assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=5-1", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=0-1,5-6", 100), undefined);
  assert.equal(parseRange(undefined, 100), undefined);
});

test("the WebSocket frame reader unmasks client frames split at any byte and skips control frames", () => {
  const payload = Buffer.from("hello port-forward");
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (key[i & 3] as number)));
  const wire = Buffer.concat([
    Buffer.from([0x89, 0x00]), // ping, unmasked, empty
    Buffer.from([0x82, 0x80 | payload.length]),
    key,
    masked,
  ]);
  for (let cut = 1; cut < wire.length; cut++) {
    const r = new WsFrameReader();
    const out = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
    assert.deepEqual(out.map(String), ["hello port-forward"], `cut at ${cut}`);
  }
});
