// The detector shortcuts must never find less than the plain patterns: TRIGGER covers every hint, the key-value
// token-anchored search finds every match a global search finds, and the bounded partial searches (a detector whose
// hint is absent, the key-value tail) give the same hold point as a search of the whole text. Checked on generated
// text built from the fragments these patterns care about.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_DETECTORS, findSecrets, TRIGGER } from "../../src/mask/detectors.ts";
import { KEY_VALUE } from "../../src/mask/key-value.ts";

const FRAGMENTS = [
  "password",
  "DB_",
  "Token",
  "api-key",
  "AUTH",
  "x",
  "=",
  ":",
  ": ",
  '"',
  "'",
  "\\",
  " ",
  "  ",
  "\n",
  "\t",
  ";",
  ",",
  "&",
  "-",
  ".",
  "_",
  "hunter2",
  "Tr0ub4dor&3",
  "aB3dE5fG7hJ9kL1mN",
  "AKIA",
  "IOSFODNN7EXAMPLE",
  "eyJ",
  "abcd.efgh.",
  "Bearer ",
  "basic ",
  "://",
  "user:",
  "@",
  "-----BEGIN ",
  "RSA ",
  "PRIVATE KEY-----",
  "ünï",
  "secretName",
  "ttl",
];

/** A deterministic generator (xorshift), so a failure names a reproducible text. */
function* texts(count: number): Generator<string> {
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    const n = 1 + Math.floor(next() * 14);
    for (let j = 0; j < n; j++) parts.push(FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] as string);
    yield parts.join("");
  }
}

/** The spans a plain global search with the detector's pattern finds (the definition the shortcuts must cover). */
function globalSpans(text: string): [number, number][] {
  const re = new RegExp(KEY_VALUE.pattern.source, "dgi");
  const out: [number, number][] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const range = m.indices?.groups?.s;
    if (range && KEY_VALUE.accept?.(text.slice(range[0], range[1]), m)) out.push([range[0], range[1]]);
  }
  return out;
}

describe("detector shortcuts find everything the plain patterns find", () => {
  test("TRIGGER matches wherever a built-in detector's hint does", () => {
    const samples = [
      "AKIA",
      "ASIA",
      "ABIA",
      "ACCA",
      "PRIVATE KEY",
      "eyJ",
      "Bearer",
      "BASIC",
      "://",
      '"auth',
      "passw",
      "PWD",
      "private_key",
      "privatekey",
      "private-key",
      "secret",
      "token",
      "api_key",
      "apikey",
      "api-key",
      "access_key",
      "accesskey",
      "credential",
      "auth",
    ];
    for (const s of samples) {
      const hinted = BUILTIN_DETECTORS.filter((d) => d.hint?.test(`x ${s} x`));
      assert.ok(hinted.length > 0, `${s} is some detector's hint`);
      assert.ok(TRIGGER.test(`x ${s} x`), `TRIGGER misses ${s}`);
    }
  });

  test("key-value: every match of a global search is inside a span the token-anchored search finds", () => {
    for (const text of texts(4000)) {
      const found = findSecrets(text, [KEY_VALUE]);
      for (const [start, end] of globalSpans(text)) {
        assert.ok(
          found.some((s) => s.start <= start && s.end >= end),
          `missed ${JSON.stringify(text.slice(start, end))} in ${JSON.stringify(text)}`,
        );
      }
    }
  });

  test("key-value: the partial match searched from partialStart holds from the same place", () => {
    for (const text of texts(4000)) {
      const whole = KEY_VALUE.partial.exec(text);
      const from = Math.max(0, (KEY_VALUE.partialStart?.(text) ?? 0) - 1);
      const tail = KEY_VALUE.partial.exec(text.slice(from));
      const at = (m: RegExpExecArray | null, base: number) =>
        m ? (m.indices?.groups?.h?.[0] ?? m.index) + base : -1;
      assert.equal(at(tail, from), at(whole, 0), JSON.stringify(text));
    }
  });

  test("without its hint, a detector's partial match is never longer than its partialBound", () => {
    for (const text of texts(4000)) {
      for (const d of BUILTIN_DETECTORS) {
        if (d.partialBound === undefined || d.hint?.test(text)) continue;
        const whole = d.partial.exec(text);
        const from = Math.max(0, text.length - d.partialBound - 1);
        const tail = d.partialBound === 0 ? null : d.partial.exec(text.slice(from));
        const at = (m: RegExpExecArray | null, base: number) =>
          m ? (m.indices?.groups?.h?.[0] ?? m.index) + base : -1;
        assert.equal(at(tail, from), at(whole, 0), `${d.name}: ${JSON.stringify(text)}`);
      }
    }
  });
});
