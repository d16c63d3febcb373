// The one shape of a justification (src/shared/justification.ts) and the strict header decoding, as tables; and the
// exec plugin's choice between --reason and AIRLOCK_REASON (src/cli/credential.ts reasonOf).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CliError } from "../../src/cli/client.ts";
import { reasonOf } from "../../src/cli/credential.ts";
import {
  checkJustification,
  decodeJustificationHeader,
  encodeJustificationHeader,
} from "../../src/shared/justification.ts";

describe("checkJustification", () => {
  test("one printable line of at most 500 characters is accepted exactly as sent", () => {
    for (const ok of [
      "INC-42: roll back web",
      "  leading and trailing spaces are kept  ",
      "é".repeat(500),
      "😀".repeat(500),
      "a ⟨marker look-alike⟩ is only text",
      "日本語の理由: ロールバック",
    ]) {
      const r = checkJustification(ok);
      assert.deepEqual(r, { ok: true, value: ok }, ok);
    }
  });

  test("anything the renderer would not show as itself is refused, saying which character and where", () => {
    for (const [bad, why] of [
      ["", /empty/],
      ["   ", /empty/],
      ["a\nb", /line break \(U\+000A at character 2\)/],
      ["a\rb", /line break \(U\+000D/],
      ["a\u2028b", /line break \(U\+2028/],
      ["a\u2029b", /line break \(U\+2029/],
      ["a\u0085b", /control character \(U\+0085/],
      ["a\u001b[2Jb", /control character \(U\+001B/],
      ["a\tb", /control character \(U\+0009/],
      ["a\u007fb", /control character \(U\+007F/],
      ["ok \u202Eevil", /bidirectional-text control \(U\+202E/],
      ["ok \u2067x\u2069", /bidirectional-text control \(U\+2067/],
      ["ok \u200Fx", /bidirectional-text control \(U\+200F/],
      ["zero\u200Bwidth", /not shown as itself \(U\+200B/],
      ["bom\uFEFF", /U\+FEFF/],
      ["nbsp\u00A0here", /U\+00A0/],
      ["tag\u{E0041}", /U\+E0041/],
      ["private\uE000", /U\+E000/],
      ["lone \uD800 surrogate", /U\+D800/],
      ["x".repeat(501), /longer than 500 characters/],
      ["😀".repeat(501), /longer than 500 characters/],
    ] as const) {
      const r = checkJustification(bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      assert.match(r.ok ? "" : r.why, why, JSON.stringify(bad));
    }
  });
});

describe("decodeJustificationHeader", () => {
  test("percent-encoded UTF-8 round-trips; printable ASCII may be sent as is; + is a plus", () => {
    for (const text of ["INC-42: roll back web", "vérifié à 100 % — ok", "a+b=c & d?e#f", "😀 emoji"]) {
      assert.deepEqual(decodeJustificationHeader(encodeJustificationHeader(text)), { ok: true, value: text });
    }
    assert.deepEqual(decodeJustificationHeader("INC-1: plain ascii"), {
      ok: true,
      value: "INC-1: plain ascii",
    });
    assert.deepEqual(decodeJustificationHeader("a+b"), { ok: true, value: "a+b" });
    assert.deepEqual(decodeJustificationHeader("%41%62"), { ok: true, value: "Ab" });
  });

  test("malformed encodings are refused, never guessed at", () => {
    for (const [raw, why] of [
      ["100%", /malformed percent-escape at position 4/],
      ["%4", /malformed percent-escape/],
      ["%zz", /malformed percent-escape/],
      ["%%41", /malformed percent-escape/],
      ["caf\u00e9", /raw byte 0xe9/],
      ["tab\there", /raw byte 0x09/],
      ["%C3", /does not decode to UTF-8/],
      ["%C0%AF", /does not decode to UTF-8/],
      ["%ED%A0%80", /does not decode to UTF-8/],
      ["%F4%90%80%80", /does not decode to UTF-8/],
      ["%FF", /does not decode to UTF-8/],
      ["%EF%BB%BFhi", /U\+FEFF/],
      ["%0A", /line break/],
      ["%E2%80%AE", /bidirectional-text control/],
      ["%252e", /^$/], // decodes once to "%2e": allowed text, no second decoding
    ] as const) {
      const r = decodeJustificationHeader(raw);
      if (raw === "%252e") {
        assert.deepEqual(r, { ok: true, value: "%2e" }, "decoded exactly once");
        continue;
      }
      assert.equal(r.ok, false, raw);
      assert.match(r.ok ? "" : r.why, why, raw);
    }
    assert.match(
      (() => {
        const r = decodeJustificationHeader("%41".repeat(2001));
        return r.ok ? "" : r.why;
      })(),
      /longer than 500 characters can be when encoded/,
    );
  });
});

describe("the exec plugin's reason (reasonOf)", () => {
  test("AIRLOCK_REASON is per command; --reason per credential; the same text in both is fine; empty env is unset", () => {
    assert.deepEqual(reasonOf(undefined, "INC-1: x"), { text: "INC-1: x", perCommand: true });
    assert.deepEqual(reasonOf("INC-1: x", undefined), { text: "INC-1: x", perCommand: false });
    assert.deepEqual(reasonOf("INC-1: x", "INC-1: x"), { text: "INC-1: x", perCommand: false });
    assert.deepEqual(reasonOf(undefined, ""), { perCommand: false });
    assert.deepEqual(reasonOf(undefined, undefined), { perCommand: false });
  });

  test("--reason and a different AIRLOCK_REASON are refused; a hostile reason is refused saying which", () => {
    assert.throws(
      () => reasonOf("INC-1: x", "INC-2: y"),
      (e: unknown) => e instanceof CliError && /differ/.test(e.message),
    );
    assert.throws(
      () => reasonOf(undefined, "INC-1\nApproved"),
      (e: unknown) => e instanceof CliError && /AIRLOCK_REASON is refused: .*line break/.test(e.message),
    );
    assert.throws(
      () => reasonOf("x".repeat(501), undefined),
      (e: unknown) => e instanceof CliError && /--reason is refused: .*longer than 500/.test(e.message),
    );
  });
});
