// Placeholders: what a masked value becomes. `‹masked:2f7c1a9e›` is HMAC-SHA256(key, value) truncated to 32 bits,
// so the same value gives the same marker within a deployment (an agent can tell two values apart, or notice that
// one changed) while the marker says nothing about the value itself: it is keyed, never a plain hash, so a
// dictionary of likely passwords cannot be run against it without the key.
//
// The key is 32 random bytes in `<dataDir>/mask.key`, created 0600 on first use. Rotating it (replace the file and
// restart) changes every marker at once; nothing else depends on it. Failure stance: a key file that exists but is
// unreadable or too short is an error at start-up, never silently replaced (which would change every marker).
import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { chmod, open, readFile } from "node:fs/promises";
import { join } from "node:path";

export const MASK_KEY_FILE = "mask.key";
const KEY_BYTES = 32;

export interface Placeholders {
  /** The marker for a text value. */
  marker(value: string | Uint8Array): string;
  /** The marker for a value that lives base64-encoded (Secret `data`): the encoded marker, so it stays valid base64. */
  base64Marker(decoded: Uint8Array): string;
  /** base64Marker of Buffer.from(encoded, "base64"), remembered by the encoded text. */
  base64MarkerOf(encoded: string): string;
}

/** Values up to this many characters are remembered; longer ones are rare and would make the cache large. */
const CACHE_VALUE_CHARS = 1024;
const CACHE_ENTRIES = 4096;

/**
 * A bounded, approximately least-recently-used map in two generations: hits in the old generation move to the young
 * one, and when the young one is full the old one is dropped whole. O(1) per call; a single Map used as an LRU
 * (delete + re-insert on each hit) spent its time skipping deleted entries.
 */
class Recent {
  #young = new Map<string, string>();
  #old = new Map<string, string>();
  get(key: string): string | undefined {
    const hit = this.#young.get(key);
    if (hit !== undefined) return hit;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }
  set(key: string, value: string): void {
    if (this.#young.size >= CACHE_ENTRIES / 2) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}

export function createPlaceholders(key: Uint8Array): Placeholders {
  if (key.length < 16) throw new Error("mask key: at least 16 bytes are needed");
  // One KeyObject, not a raw key per call: importing the key dominated the cost of a marker.
  const keyObject = createSecretKey(key);
  const hmac = (value: string | Uint8Array) =>
    `‹masked:${createHmac("sha256", keyObject).update(value).digest("hex").slice(0, 8)}›`;
  // Recent markers by value (memory only, bounded): lists repeat the same values across items, so one HMAC per
  // distinct value. The keys are secrets; they live only as long as the process, like the responses themselves.
  const recent = new Recent();
  const recentBase64 = new Recent();
  const marker = (value: string | Uint8Array) => {
    if (typeof value !== "string" || value.length > CACHE_VALUE_CHARS) return hmac(value);
    let out = recent.get(value);
    if (out === undefined) {
      out = hmac(value);
      recent.set(value, out);
    }
    return out;
  };
  const base64Marker = (decoded: Uint8Array) => Buffer.from(hmac(decoded), "utf8").toString("base64");
  return {
    marker,
    base64Marker,
    base64MarkerOf(encoded) {
      if (encoded.length > CACHE_VALUE_CHARS) return base64Marker(Buffer.from(encoded, "base64"));
      let out = recentBase64.get(encoded);
      if (out === undefined) {
        out = base64Marker(Buffer.from(encoded, "base64"));
        recentBase64.set(encoded, out);
      }
      return out;
    },
  };
}

/** True when a string is one of our markers (or contains one): masking is idempotent and never re-masks them. */
export const MARKER_PATTERN = /‹masked:[0-9a-f]{8}›/;

const WHOLE_MARKER = /^‹masked:[0-9a-f]{8}›$/;

/**
 * True when a value is exactly one marker, so it is not masked again. Only the whole value counts: a value that
 * merely starts with a marker ("‹masked:…› password=…") is searched like any other text.
 */
export function isMarker(value: string): boolean {
  return value.length === 17 && WHOLE_MARKER.test(value);
}

/** Reads `<dataDir>/mask.key`, creating it (0600, exclusive create so two starts cannot race) when absent. */
export async function loadMaskKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, MASK_KEY_FILE);
  try {
    const key = await readFile(path);
    if (key.length < KEY_BYTES) throw new Error(`mask key ${path} is shorter than ${KEY_BYTES} bytes`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const key = randomBytes(KEY_BYTES);
  try {
    const handle = await open(path, "wx", 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(path, 0o600);
    return key;
  } catch (err) {
    // Another process created it first: use theirs, so markers agree.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFile(path);
    throw err;
  }
}
