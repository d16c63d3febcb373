import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson } from "../../src/audit/canonical.ts";
import { checkRecord, GENESIS_HASH, linkRecord, NOTE_TYPE } from "../../src/audit/chain.ts";

for (const [value, expected] of [
  [{ b: 1, a: [true, null, "x"] }, '{"a":[true,null,"x"],"b":1}'],
  [{ é: 1, z: 2, A: 3, _: 4 }, '{"A":3,"_":4,"z":2,"é":1}'],
  [{ nested: { y: "\u2028", x: '\n"' } }, '{"nested":{"x":"\\n\\"","y":"\u2028"}}'],
  [{ skip: undefined, keep: 0 }, '{"keep":0}'],
  [[], "[]"],
  [-42, "-42"],
] as const) {
  test(`canonical JSON of ${JSON.stringify(value)} is ${expected}`, () => {
    assert.equal(canonicalJson(value), expected);
  });
}

for (const value of [0.5, Number.NaN, 2 ** 60, 1n, new Date(0), [undefined], () => 1]) {
  test(`canonical JSON refuses ${String(value)} rather than encode it ambiguously`, () => {
    assert.throws(() => canonicalJson(value));
  });
}

test("a linked record hashes its canonical body, and checkRecord accepts it only at its seq after its prev", () => {
  const first = linkRecord(
    { seq: 0, hash: GENESIS_HASH },
    "policy.changed",
    "r1",
    "2026-03-01T10:00:00.000Z",
    { a: 1 },
  );
  const second = linkRecord(
    { seq: first.seq, hash: first.hash },
    "policy.changed",
    "r2",
    "2026-03-01T10:00:01.000Z",
    {},
  );
  assert.equal(first.seq, 1);
  assert.equal(first.prevHash, GENESIS_HASH);
  assert.equal(second.prevHash, first.hash);
  assert.equal(checkRecord(first, 1, GENESIS_HASH).ok, true);
  assert.equal(checkRecord(second, 2, first.hash).ok, true);
  assert.match((checkRecord(second, 2, GENESIS_HASH) as { message: string }).message, /does not link/);
  assert.match(
    (checkRecord(second, 1, GENESIS_HASH) as { message: string }).message,
    /records 1\.\.1 were removed/,
  );
  assert.match(
    (checkRecord({ ...first, ref: "other" }, 1, GENESIS_HASH) as { message: string }).message,
    /columns differ/,
  );
  assert.match(
    (checkRecord({ ...first, body: `${first.body} ` }, 1, GENESIS_HASH) as { message: string }).message,
    /hash/,
  );
});

for (const [type, ok] of [
  ["review.approved", true],
  ["identity.credential-rotated", true],
  ["session.exec.started", true],
  ["request", false],
  ["request.completed", false],
  ["requests.made", true],
  ["Review.approved", false],
  ["approved", false],
  ["review..approved", false],
] as const) {
  test(`note type "${type}" is ${ok ? "accepted" : "refused"}`, () => {
    assert.equal(NOTE_TYPE.test(type), ok);
  });
}
