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
}

export function createPlaceholders(key: Uint8Array): Placeholders {
  if (key.length < 16) throw new Error("mask key: at least 16 bytes are needed");
  // One KeyObject, not a raw key per call: importing the key dominated the cost of a marker.
  const keyObject = createSecretKey(key);
  // Recent markers by value (memory only, bounded): lists repeat the same values across items.
  const recent = new Map<string, string>();
  const marker = (value: string | Uint8Array) => {
    const text = typeof value === "string" ? value : undefined;
    if (text !== undefined && text.length <= 256) {
      const hit = recent.get(text);
      if (hit) return hit;
    }
    const out = `‹masked:${createHmac("sha256", keyObject).update(value).digest("hex").slice(0, 8)}›`;
    if (text !== undefined && text.length <= 256) {
      if (recent.size >= 4096) recent.clear();
      recent.set(text, out);
    }
    return out;
  };
  return {
    marker,
    base64Marker: (decoded) => Buffer.from(marker(decoded), "utf8").toString("base64"),
  };
}

/** True when a string is one of our markers (or contains one): masking is idempotent and never re-masks them. */
export const MARKER_PATTERN = /‹masked:[0-9a-f]{8}›/;

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
