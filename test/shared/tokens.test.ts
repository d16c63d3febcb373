import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bearerToken,
  generateToken,
  hashToken,
  isTokenHash,
  tokenHashesEqual,
  tokenMatches,
} from "../../src/shared/tokens.ts";

test("a token is airlock_ plus 32 random bytes in base64url, different every time", () => {
  const tokens = new Set(Array.from({ length: 50 }, generateToken));
  assert.equal(tokens.size, 50);
  for (const token of tokens) {
    assert.match(token, /^airlock_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token.slice("airlock_".length), "base64url").length, 32);
  }
});

test("a token hash is the SHA-256 hex of the token's UTF-8 bytes", () => {
  // sha256("abc"), from FIPS 180-2.
  assert.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.ok(isTokenHash(hashToken(generateToken())));
});

test("hash comparison accepts only equal well-formed hashes", () => {
  const a = hashToken("a");
  const cases: [string, string, boolean][] = [
    [a, a, true],
    [a, hashToken("b"), false],
    [a, a.toUpperCase(), false],
    [a, a.slice(0, 62), false],
    ["", "", false],
    ["zz".repeat(32), "zz".repeat(32), false],
  ];
  for (const [x, y, expected] of cases) assert.equal(tokenHashesEqual(x, y), expected, `${x} vs ${y}`);
  assert.equal(tokenMatches("a", a), true);
  assert.equal(tokenMatches("b", a), false);
});

test("only a well-formed Bearer header yields a token", () => {
  const cases: [string | string[] | undefined, string | undefined][] = [
    ["Bearer airlock_abc-_", "airlock_abc-_"],
    ["bearer tok==", "tok=="],
    ["Bearer  tok ", "tok"],
    ["Basic dXNlcjpwYXNz", undefined],
    ["Bearer", undefined],
    ["Bearer a b", undefined],
    ["Bearer a,b", undefined],
    ["Bearer a\nb", undefined],
    [["Bearer a", "Bearer b"], undefined],
    [undefined, undefined],
  ];
  for (const [header, expected] of cases) assert.equal(bearerToken(header), expected, JSON.stringify(header));
});
