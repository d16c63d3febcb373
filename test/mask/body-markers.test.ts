// Markers never flow back: findMarkerInBody finds a ‹masked:…› marker in any field and in every encoding a client
// could turn it into, and the encodings helper gives the base64 core of a value in all three alignments.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { findMarkerInBody } from "../../src/mask/body-markers.ts";
import { base64Core, encodedForms } from "../../src/mask/encodings.ts";
import { createPlaceholders } from "../../src/mask/placeholder.ts";

const ph = createPlaceholders(randomBytes(32));
const marker = ph.marker("hunter2-password");
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

describe("base64 of a value inside a longer text, in every alignment", () => {
  test("the core of each alignment is a substring of base64(prefix + value + suffix) for every prefix length", () => {
    const value = Buffer.from("s3cr3t-pa55w0rd-7f1c");
    for (let pre = 0; pre < 9; pre++) {
      for (let post = 0; post < 4; post++) {
        const whole = Buffer.concat([Buffer.from("x".repeat(pre)), value, Buffer.from("y".repeat(post))]);
        const core = base64Core(value, (pre % 3) as 0 | 1 | 2);
        assert.ok(core.length >= 24, core);
        assert.ok(whole.toString("base64").includes(core), `prefix ${pre} suffix ${post}`);
        assert.ok(whole.toString("base64url").includes(base64Core(value, (pre % 3) as 0 | 1 | 2, true)));
      }
    }
  });

  test("forms: raw, base64 ×3, hex both cases, spaced hex, percent, JSON escapes (only when they differ)", () => {
    const forms = encodedForms(Buffer.from('pa"ss wörd'));
    const names = new Set(forms.map((f) => f.form));
    for (const n of ["raw", "base64", "hex", "hex-spaced", "url", "json"]) assert.ok(names.has(n), n);
    assert.ok(forms.some((f) => f.text === "pa%22ss%20w%C3%B6rd"));
    assert.ok(forms.some((f) => f.text === 'pa\\"ss w\\u00f6rd'));
  });
});

describe("a marker in a write body", () => {
  const cases: [string, unknown, string][] = [
    ["stringData value", { kind: "Secret", stringData: { password: marker } }, "stringData.password"],
    [
      "Secret data (base64 of the marker, as kubectl get prints it)",
      { data: { password: b64(marker) } },
      "data.password",
    ],
    ["base64url", { data: { password: Buffer.from(marker).toString("base64url") } }, "data.password"],
    ["inside a longer base64 text, shifted by one byte", { data: { cfg: b64(`x${marker}`) } }, "data.cfg"],
    ["shifted by two bytes", { data: { cfg: b64(`pw: ${marker}\n`) } }, "data.cfg"],
    ["hex", { data: { h: Buffer.from(marker).toString("hex") } }, "data.h"],
    ["percent-encoded", { spec: { url: encodeURIComponent(`?p=${marker}`) } }, "spec.url"],
    [
      "inside an annotation",
      { metadata: { annotations: { a: `prefix ${marker} suffix` } } },
      "metadata.annotations.a",
    ],
    ["in a JSON patch value", [{ op: "replace", path: "/data/password", value: b64(marker) }], "[0].value"],
    ["in a key", { data: { [marker]: "x" } }, `data.${marker}`],
    ["with other digits", { data: { p: "‹masked:zzzzzzzz›" } }, "data.p"],
  ];
  for (const [name, body, where] of cases) {
    test(`is found: ${name}`, () => {
      const found = findMarkerInBody(body, Buffer.from(JSON.stringify(body)));
      assert.equal(found?.where, where);
    });
  }

  test("is found in raw bytes the gateway did not parse (protobuf, JSON \\u escapes)", () => {
    const proto = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a]), Buffer.from(marker)]);
    assert.equal(findMarkerInBody(undefined, proto)?.where, "body");
    const escaped = Buffer.from('{"data":{"p":"\\u2039masked:0011aabb\\u203a"}}');
    assert.equal(findMarkerInBody(undefined, escaped)?.form, "json");
  });

  test("is not found in ordinary bodies", () => {
    const body = {
      kind: "Secret",
      data: { password: b64("masked: not really") },
      metadata: { name: "masked" },
    };
    assert.equal(findMarkerInBody(body, Buffer.from(JSON.stringify(body))), undefined);
  });
});
