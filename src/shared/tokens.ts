// Airlock bearer tokens: generation, hashing and constant-time comparison (DESIGN.md invariant 7).
//
// A token is `airlock_` + 32 random bytes in base64url. Only its SHA-256 (hex) is ever stored: tokens are
// high-entropy, so a fast unsalted hash cannot be brute-forced and lets the store look a token up by its hash.
// Comparisons go through timingSafeEqual so that a lookup hit cannot be refined byte by byte by timing.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const TOKEN_PREFIX = "airlock_";
const TOKEN_BYTES = 32;
const HASH_HEX = /^[0-9a-f]{64}$/;

/** A fresh random token. Shown to its owner once; never stored. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString("base64url");
}

/** SHA-256 of the token's UTF-8 bytes, lower-case hex: the only form a token is kept in. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** True when `hash` has the shape hashToken produces (64 lower-case hex digits). */
export function isTokenHash(hash: string): boolean {
  return HASH_HEX.test(hash);
}

/**
 * Compares two token hashes in constant time. Anything that is not a well-formed hash compares unequal, so a
 * malformed input never reaches timingSafeEqual with buffers of different lengths (which would throw).
 */
export function tokenHashesEqual(a: string, b: string): boolean {
  if (!isTokenHash(a) || !isTokenHash(b)) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/** Does the presented token match the stored hash? Hashes first, so the time taken does not depend on the secret. */
export function tokenMatches(token: string, storedHash: string): boolean {
  return tokenHashesEqual(hashToken(token), storedHash);
}

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. Only the token68 alphabet is accepted, so a
 * header with spaces, commas or control characters is refused rather than guessed at.
 */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  return match?.[1];
}
