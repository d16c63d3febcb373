// A `kubectl cp` download's stdout is a tar archive: the exec output masker must deliver it byte for byte or stop it,
// never hand kubectl an altered archive. Random binary data holds text a detector masks often enough (`pwd=` and a
// few value bytes: about one 4 MiB file in 20) that a marker in its place silently changed copied files (shorter or
// longer: a different file, or a misaligned tar header) while kubectl reported success.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  BUILTIN_PROFILES,
  ChannelFrameMasker,
  createPlaceholders,
  MaskingError,
} from "../../src/mask/index.ts";
import { isCpDownload } from "../../src/recording/cp.ts";

const profile = BUILTIN_PROFILES.get("default")!;
const ph = createPlaceholders(Buffer.alloc(32, 7));

/** Deterministic "random" bytes (SHA-256 in counter mode), so every run sees the same data. */
function noise(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, n = 0; i < length; i += 32, n++) {
    createHash("sha256").update(`${seed}:${n}`).digest().copy(out, i);
  }
  return out;
}

// Binary data with a key=value a detector masks in the middle (what a random file contains now and then).
const MATCH = Buffer.from("\x01pwd=\xf3\x9a\x10\x7f\xee\x00", "latin1");
const DATA = Buffer.concat([noise(60_000, "a"), MATCH, noise(60_000, "b")]);

/** Stdout frames in `size`-byte pieces through a masker; what was sent, and whether the masker stopped it. */
function relay(data: Buffer, size: number, intact: boolean): { sent: Buffer; error?: Error } {
  const masker = new ChannelFrameMasker(profile, ph, new Map(), "v5.channel.k8s.io", undefined, intact);
  const sent: Buffer[] = [];
  const take = (frames: { data: Buffer | string }[]) => {
    for (const f of frames) {
      const b = f.data as Buffer;
      if (b[0] === 1) sent.push(b.subarray(1));
    }
  };
  try {
    for (let i = 0; i < data.length; i += size)
      take(masker.transform(Buffer.concat([Buffer.from([1]), data.subarray(i, i + size)]), true));
    take(masker.transform(Buffer.from([3, ...Buffer.from('{"status":"Success"}')]), true));
  } catch (error) {
    return { sent: Buffer.concat(sent), error: error as Error };
  }
  return { sent: Buffer.concat(sent) };
}

describe("a cp download's archive reaches kubectl unaltered or not at all", () => {
  test("without intact (any other exec), the match is replaced and the bytes change length: the hazard", () => {
    const { sent, error } = relay(DATA, 65_536, false);
    assert.equal(error, undefined);
    assert.notEqual(sent.length, DATA.length);
    assert.match(sent.toString("utf8"), /pwd=‹masked:[0-9a-f]{8}›/);
  });

  test("with intact, the masker stops the stream instead, at every chunking, and sends only unaltered bytes", () => {
    for (const size of [1, 7, 512, 4096, 65_536, 1 << 20]) {
      const { sent, error } = relay(DATA, size, true);
      assert.ok(error instanceof MaskingError, `chunks of ${size}: stopped`);
      assert.match(error.message, /rule key-value .*would change the file, so the copy was stopped/);
      assert.ok(sent.length < DATA.length, `chunks of ${size}: not all sent`);
      assert.ok(
        sent.equals(DATA.subarray(0, sent.length)),
        `chunks of ${size}: what was sent is the file's start`,
      );
      assert.ok(!sent.includes(MATCH.subarray(1, 6)), `chunks of ${size}: the match itself was not sent`);
    }
  });

  test("with intact, a file without a match passes byte for byte at every chunking", () => {
    const clean = Buffer.concat([noise(60_000, "a"), noise(60_000, "b")]);
    // The noise holds no text any detector masks (checked: the plain masker leaves it unchanged).
    assert.ok(relay(clean, 65_536, false).sent.equals(clean));
    for (const size of [1, 7, 512, 4096, 65_536, 1 << 20]) {
      const { sent, error } = relay(clean, size, true);
      assert.equal(error, undefined);
      assert.ok(sent.equals(clean), `chunks of ${size}`);
    }
  });

  test("a match held back at the end (flushed by the error channel) stops the copy too", () => {
    const tail = Buffer.concat([noise(10_000, "c"), Buffer.from("\x00password=hunter2xy", "latin1")]);
    const { sent, error } = relay(tail, 4096, true);
    assert.ok(error instanceof MaskingError);
    assert.ok(sent.equals(tail.subarray(0, sent.length)));
  });

  test("the cp download forms are recognised; other execs are not", () => {
    assert.equal(isCpDownload(["tar", "cf", "-", "/tmp/big.bin"], false, false), true);
    assert.equal(isCpDownload(["sh", "-c", "tar cf - /tmp/big.bin | tail -c+1025"], false, false), true);
    assert.equal(isCpDownload(["tar", "cf", "-", "/tmp/big.bin"], false, true), false);
    assert.equal(isCpDownload(["cat", "/tmp/big.bin"], false, false), false);
    assert.equal(isCpDownload(["sh", "-c", "tar cf - /tmp/x | tail -c+1; cat /etc/x"], false, false), false);
  });
});
