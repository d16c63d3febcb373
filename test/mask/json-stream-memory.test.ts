// Streaming a large list through the masker (json-stream.ts) holds back at most the element being read and the
// chunk it arrived in: never the list. Mechanism-level, not timed: the masker is fed a list chunk by chunk and,
// after every push, the bytes it has taken in but not yet given out are compared with the largest item. The lists
// are ConfigMaps with no value the profile marks, so the output is the input's own bytes and the held-back count is
// exact; a Secret list checks the same bound in items (each output item is counted as it appears).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BUILTIN_PROFILES,
  createPlaceholders,
  JsonDocumentMasker,
  type MaskContext,
} from "../../src/mask/index.ts";

const ph = createPlaceholders(Buffer.alloc(32, 5));
const ctx = (): MaskContext => ({ profile: BUILTIN_PROFILES.get("default")!, ph, counts: new Map() });
const CHUNK = 64 * 1024;
/** Fixed overhead the masker may hold besides the current element: the list header or tail, a comma. */
const SLACK = 1024;

function configMap(i: number, bytes: number): string {
  return JSON.stringify({
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: { name: `cm-${i}`, namespace: "bench", uid: `uid-${i}`, resourceVersion: String(100 + i) },
    data: { blob: Buffer.alloc(Math.floor((bytes * 3) / 4), i % 251).toString("base64") },
  });
}

function list(items: string[]): Buffer {
  return Buffer.from(
    `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[${items.join(",")}]}`,
  );
}

/** Feeds `body` in CHUNK pieces; returns the most bytes ever taken in and not given out, and the output. */
function stream(body: Buffer): { maxHeld: number; out: Buffer } {
  const masker = new JsonDocumentMasker(ctx(), undefined);
  const out: Buffer[] = [];
  let inBytes = 0;
  let outBytes = 0;
  let maxHeld = 0;
  for (let at = 0; at < body.length; at += CHUNK) {
    const chunk = body.subarray(at, at + CHUNK);
    inBytes += chunk.length;
    for (const b of masker.push(chunk)) {
      out.push(b);
      outBytes += b.length;
    }
    maxHeld = Math.max(maxHeld, inBytes - outBytes);
  }
  for (const b of masker.end()) out.push(b);
  return { maxHeld, out: Buffer.concat(out) };
}

describe("masking a large list holds back one element, not the list", () => {
  it("a 20 MB list of 10 KiB items: held back at most one item and one chunk, output byte for byte", () => {
    const items = Array.from({ length: 2000 }, (_, i) => configMap(i, 10 * 1024));
    const body = list(items);
    const largest = Math.max(...items.map((s) => s.length));
    const { maxHeld, out } = stream(body);
    assert.ok(maxHeld <= largest + CHUNK + SLACK, `held ${maxHeld} bytes, largest item ${largest}`);
    assert.ok(maxHeld < body.length / 100, `held ${maxHeld} of a ${body.length}-byte list`);
    assert.ok(out.equals(body), "the list came out as it went in (nothing in it is masked)");
  });

  it("the bound follows the largest item: one 3 MiB item among small ones", () => {
    const items = Array.from({ length: 600 }, (_, i) => configMap(i, i === 300 ? 3 << 20 : 4 * 1024));
    const body = list(items);
    const largest = Math.max(...items.map((s) => s.length));
    const second = Math.max(...items.filter((s) => s.length !== largest).map((s) => s.length));
    const { maxHeld, out } = stream(body);
    assert.ok(maxHeld >= largest - CHUNK, `the big item is held whole before it is masked (${maxHeld})`);
    assert.ok(maxHeld <= largest + CHUNK + SLACK, `held ${maxHeld} bytes, largest item ${largest}`);
    assert.ok(second < 8 * 1024);
    assert.ok(out.equals(body));
  });

  it("a list of Secrets (every value masked): each item is given out before the next one's end arrives", () => {
    const secret = (i: number) =>
      JSON.stringify({
        kind: "Secret",
        apiVersion: "v1",
        metadata: { name: `s-${i}`, namespace: "bench" },
        type: "Opaque",
        data: { password: Buffer.from(`pw-${i}-${"x".repeat(4000)}`).toString("base64") },
      });
    const items = Array.from({ length: 1500 }, (_, i) => secret(i));
    const body = Buffer.from(
      `{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[${items.join(",")}]}`,
    );
    // Where each item ends in the body: after a push that reached it, the item must be out.
    const ends: number[] = [];
    let at = body.indexOf("[") + 1;
    for (const s of items) {
      at += s.length;
      ends.push(at);
      at += 1; // the comma
    }
    const masker = new JsonDocumentMasker(ctx(), undefined);
    let given = 0;
    let taken = 0;
    let worstLag = 0;
    for (let p = 0; p < body.length; p += CHUNK) {
      const chunk = body.subarray(p, p + CHUNK);
      taken += chunk.length;
      for (const b of masker.push(chunk)) given += b.toString().split('"kind":"Secret"').length - 1;
      const complete = ends.filter((e) => e <= taken).length;
      worstLag = Math.max(worstLag, complete - given);
    }
    masker.end();
    assert.equal(given, items.length);
    assert.equal(worstLag, 0, "an item complete in the input was held back");
  });
});
