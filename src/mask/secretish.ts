// When a key names a secret and when a value next to it looks like one: shared by the free-text key=value detector
// and the structured rules (JSON properties, env variables), so text and objects agree.
//
// Stance: over-mask rather than leak. A key that says "password" or "secret" masks any non-trivial value; a key
// that says "token", "key" or "auth" masks values that look random (long, high entropy), because those words also
// name ordinary settings ("tokenTTL: 300", "sortKey: name").
import { isMarker } from "./placeholder.ts";

/** Key words, as a regex source for the key=value detector (the key may carry a prefix and suffix: DB_PASSWORD). */
export const SECRET_KEY_WORDS =
  "passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|credential|auth";

const STRONG = /passw(?:or)?d|passwd|pwd|secret|private[_-]?key|credential/i;
const WEAK = new RegExp(SECRET_KEY_WORDS, "i");
// Keys that name or point at a secret rather than hold one (`secretName`, `secretKeyRef`, `tokenTTLSeconds`).
const REFERENCE =
  /(?:name|names|ref|refs|namespace|path|file|mode|field|kind|type|version|uid|selector|seconds|ttl|expiration|audience|audiences|id)$/i;

export type KeyStrength = "strong" | "weak" | undefined;

/** How strongly a key name suggests its value is a secret. */
export function keyStrength(key: string): KeyStrength {
  if (REFERENCE.test(key)) return undefined;
  if (STRONG.test(key)) return "strong";
  if (WEAK.test(key)) return "weak";
  return undefined;
}

const TRIVIAL =
  /^(?:null|nil|none|true|false|yes|no|empty|undefined|changeme|\*+|x+|<[^>]*>|\$\{[^}]*\}|\$\([^)]*\)|\{\{[^}]*\}\})$/i;

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const freq = new Map<string, number>();
  for (const ch of value) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let bits = 0;
  const n = value.length;
  for (const c of freq.values()) {
    const p = c / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Long, varied and not a plain word: what generated keys and tokens look like. */
export function looksRandom(value: string): boolean {
  if (value.length < 16) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((c) => c.test(value)).length;
  return classes >= 2 && entropy(value) >= 3.3;
}

/** Whether a value found next to a key of this strength should be masked. */
export function valueIsSecret(strength: KeyStrength, value: string): boolean {
  if (!strength) return false;
  if (isMarker(value)) return false;
  if (value.length < 4 || TRIVIAL.test(value)) return false;
  return strength === "strong" ? true : looksRandom(value);
}
