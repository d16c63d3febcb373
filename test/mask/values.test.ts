// Known secret VALUES in a byte stream (exec/attach/log output): found raw and in every encoding a command could
// print them in, inside longer text, and wherever the stream splits them into chunks.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { detectorSet, withDetector } from "../../src/mask/detectors.ts";
import { createPlaceholders } from "../../src/mask/placeholder.ts";
import { TextStreamMasker } from "../../src/mask/text-stream.ts";
import { secretValueMatcher } from "../../src/mask/values.ts";

const PASSWORD = "s3cr3t-pa55w0rd-7f1c";
const ph = createPlaceholders(randomBytes(32));
const MARK = ph.marker(Buffer.from(PASSWORD));

function masker(values: string[] = [PASSWORD], minBytes = 6) {
  const matcher = secretValueMatcher(
    values.map((v) => Buffer.from(v)),
    minBytes,
  );
  const base = detectorSet([], []); // only the values: what is found here is found by them
  const set = matcher ? withDetector(base, matcher.detector) : base;
  const counts = new Map<string, number>();
  return { m: new TextStreamMasker(set, ph, counts), counts };
}

/** The stream's output when `text` arrives in the given chunks. */
function run(chunks: Buffer[], values?: string[]): { out: string; counts: Map<string, number> } {
  const { m, counts } = masker(values);
  const parts = chunks.map((c) => m.push(c));
  parts.push(m.end());
  return { out: Buffer.concat(parts).toString("latin1"), counts };
}
const whole = (text: string | Buffer, values?: string[]) =>
  run([Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1")], values);

const pw = Buffer.from(PASSWORD);
const b64 = (b: Buffer) => b.toString("base64");

/** `od -c` as it prints: an octal offset, then 16 characters a line, each in a 4-wide column. */
function odC(text: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 16) {
    const cells = [...text.slice(i, i + 16)].map((c) => (c === "\n" ? "  \\n" : `   ${c}`));
    lines.push(`${i.toString(8).padStart(7, "0")}${cells.join("")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Plain `xxd`: offset, 8 groups of 2 bytes in hex, then the printable characters. */
function xxd(text: string): string {
  const bytes = Buffer.from(text);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hexes = (row.toString("hex").match(/.{1,4}/g) ?? []).join(" ").padEnd(39, " ");
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(8, "0")}: ${hexes}  ${ascii}`);
  }
  return `${lines.join("\n")}\n`;
}

// What commands print, each holding the password in some form.
const OUTPUTS: [string, string][] = [
  ["printenv", `${PASSWORD}\n`],
  ["echo with a prefix", `pw: ${PASSWORD}\n`],
  ["base64", `${b64(pw)}\n`],
  ["base64 of a prefixed line (alignment 1)", `${b64(Buffer.from(`x${PASSWORD}\n`))}\n`],
  ["base64 of a prefixed line (alignment 2)", `${b64(Buffer.from(`pw: ${PASSWORD}\n`))}\n`],
  ["base64 -w0 of a three-byte prefix (alignment 0, inside)", b64(Buffer.from(`pw:${PASSWORD}`))],
  ["base64url", Buffer.from(`??${PASSWORD}`).toString("base64url")],
  ["xxd -p", `${Buffer.from(`pw: ${PASSWORD}\n`).toString("hex")}\n`],
  ["hex upper", Buffer.from(PASSWORD).toString("hex").toUpperCase()],
  [
    "od -An -tx1 (spaced, wrapped at 16 bytes)",
    (Buffer.from(PASSWORD).toString("hex").match(/../g) ?? [])
      .map((h, i) => (i % 16 === 0 ? `\n ${h}` : ` ${h}`))
      .join(""),
  ],
  ["od -c (characters spaced out)", [...PASSWORD].map((c) => `   ${c}`).join("")],
  ["od -c with its offset column (16 bytes a line)", odC(`pw: ${PASSWORD}\n`)],
  ["xxd with its hex and ASCII columns", xxd(`pw: ${PASSWORD}\n`)],
  ["xxd of the bare value (a 4-byte piece on the second line)", xxd(`${PASSWORD}\n`)],
  ["base64 wrapped at 8 columns", (b64(pw).match(/.{1,8}/g) ?? []).join("\n")],
  ["URL-encoded", `q=${encodeURIComponent(`${PASSWORD}/&?`)}`],
  ["JSON-escaped", JSON.stringify({ pw: `"${PASSWORD}"` })],
];

describe("a known secret value is masked in exec and log output", () => {
  for (const [name, text] of OUTPUTS) {
    test(`${name}: no form of the value is left`, () => {
      const { out, counts } = whole(text);
      assert.ok(!out.includes(PASSWORD), out);
      for (let i = 0; i + 8 <= PASSWORD.length; i++) {
        assert.ok(!out.includes(PASSWORD.slice(i, i + 8)), `an 8-byte piece is left:\n${out}`);
      }
      assert.ok(!out.includes(b64(pw).slice(0, 20)), out);
      assert.ok(!out.replace(/\s/g, "").includes(pw.toString("hex").slice(0, 24)), out);
      assert.match(Buffer.from(out, "latin1").toString("utf8"), /‹masked:[0-9a-f]{8}›/);
      assert.ok(
        [...counts.keys()].every((k) => k.startsWith("secret-value")),
        [...counts.keys()].join(),
      );
    });
  }

  test("the raw value gets the same marker as the value in a JSON field (the value's HMAC)", () => {
    assert.ok(
      Buffer.from(whole(`pw=${PASSWORD}`).out, "latin1")
        .toString("utf8")
        .includes(MARK),
    );
  });

  test("split at every byte of the stream, in two and in one-byte chunks, nothing leaks", () => {
    for (const [name, text] of OUTPUTS) {
      const bytes = Buffer.from(text, "latin1");
      const expected = whole(bytes).out;
      for (let cut = 1; cut < bytes.length; cut++) {
        const { out } = run([bytes.subarray(0, cut), bytes.subarray(cut)]);
        assert.equal(out, expected, `${name}, split at ${cut}`);
      }
      const bytewise = run([...bytes].map((b) => Buffer.from([b])));
      assert.equal(bytewise.out, expected, `${name}, one byte at a time`);
    }
  });

  test("output without a value passes through unchanged and is not held back past its end", () => {
    const { m } = masker();
    const out = m.push(Buffer.from("total 0\nREADME.md\n"));
    assert.equal(out.toString(), "total 0\nREADME.md\n");
    assert.equal(m.held, 0);
  });

  test("only a possible start of a value is held, at most the longest form", () => {
    const { m } = masker();
    const out = m.push(Buffer.from(`hello ${PASSWORD.slice(0, 5)}`));
    assert.equal(out.toString(), "hello ");
    assert.equal(m.held, 5);
    assert.equal(Buffer.concat([m.push(Buffer.from("!")), m.end()]).toString(), `${PASSWORD.slice(0, 5)}!`);
  });

  test("values shorter than the profile's minimum are left to the key rules", () => {
    assert.equal(secretValueMatcher([Buffer.from("abc12")], 6), undefined);
    assert.equal(whole("the pin is abc12", ["abc12"]).out, "the pin is abc12");
  });

  test("several values, one of them inside the other, are all masked", () => {
    const { out } = whole(`a=${PASSWORD} b=pa55w0rd-7f1c-extra`, [PASSWORD, "pa55w0rd-7f1c"]);
    assert.ok(!out.includes("pa55w0rd-7f1c"), out);
  });
});

describe("values remembered from masked answers", () => {
  test("Secret data and values under password/secret keys are remembered; names and weak-key values are not", async () => {
    const { maskDocument, BUILTIN_PROFILES } = await import("../../src/mask/index.ts");
    const seen: string[] = [];
    const ctx = {
      profile: BUILTIN_PROFILES.get("default") as NonNullable<ReturnType<typeof BUILTIN_PROFILES.get>>,
      ph,
      counts: new Map<string, number>(),
      remember: (v: Uint8Array) => seen.push(Buffer.from(v).toString()),
    };
    maskDocument({ kind: "Secret", metadata: { name: "db" }, data: { pw: b64(pw) } }, ctx);
    maskDocument({ kind: "ConfigMap", data: { db_password: "cm-pa55-1", session_mode: "default" } }, ctx);
    maskDocument(
      {
        kind: "Pod",
        spec: {
          containers: [
            {
              env: [
                { name: "SESSION_MODE", value: "default" },
                { name: "DB_PASSWORD", value: "env-pa55-2" },
              ],
            },
          ],
        },
      },
      ctx,
    );
    assert.deepEqual(seen.sort(), [PASSWORD, "cm-pa55-1", "env-pa55-2"].sort());
  });
});
