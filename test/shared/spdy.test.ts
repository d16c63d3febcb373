// The gateway's SPDY/3.1 frame and header codecs (src/shared/spdy), which its port-forward guard and recorder read
// kubectl's port-forward with. (The simulator has its own, tested in test/sim/spdy.test.ts.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constants, createDeflate, createInflate } from "node:zlib";
import { SPDY3_DICTIONARY } from "../../src/shared/spdy/dictionary.ts";
import {
  FLAG_FIN,
  parseFrame,
  SpdyFrameReader,
  writeDataFrame,
  writeGoaway,
  writePing,
  writeRstStream,
  writeSynReply,
  writeSynStream,
} from "../../src/shared/spdy/frames.ts";
import {
  adler32,
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderDeflater,
  HeaderInflater,
} from "../../src/shared/spdy/headers.ts";

/** A SYN_STREAM built byte by byte from the SPDY/3 layout, independent of the writer under test. */
function handBuiltSynStream(streamId: number, headerBlock: Buffer): Buffer {
  const payload = Buffer.concat([
    Buffer.from([0, 0, 0, streamId, 0, 0, 0, 0, 0, 0]), // stream id, associated id, priority, slot
    headerBlock,
  ]);
  const len = payload.length;
  return Buffer.concat([
    Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, len >> 16, (len >> 8) & 0xff, len & 0xff]),
    payload,
  ]);
}

/** What Go's spdy framer does: one zlib stream (SPDY dictionary) across blocks, sync-flushed after each. */
async function streamingCompress(blocks: Buffer[]): Promise<Buffer[]> {
  const deflate = createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const out: Buffer[] = [];
  for (const block of blocks) {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    deflate.on("data", onData);
    deflate.write(block);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    deflate.off("data", onData);
    out.push(Buffer.concat(chunks));
  }
  deflate.close();
  return out;
}

describe("SPDY/3.1 codec", () => {
  it("the dictionary is the SPDY/3 one (1423 bytes, DICTID 0xe3c6a7c2)", () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    assert.equal(adler32(SPDY3_DICTIONARY), 0xe3c6a7c2);
  });

  it("a hand-built SYN_STREAM split at every byte boundary reassembles into one frame with its headers", async () => {
    const [compressed] = await streamingCompress([
      encodeHeaderBlock([
        ["streamtype", "error"],
        ["port", "8080"],
        ["requestid", "0"],
      ]),
    ]);
    const wire = handBuiltSynStream(1, compressed as Buffer);
    for (let cut = 1; cut < wire.length; cut++) {
      const reader = new SpdyFrameReader();
      const first = reader.push(wire.subarray(0, cut));
      const second = reader.push(wire.subarray(cut));
      const frames = [...first.frames, ...second.frames];
      assert.equal(frames.length, 1, `cut at ${cut}`);
    }
    const frame = new SpdyFrameReader().push(wire).frames[0];
    assert.equal(frame?.type, "syn_stream");
    if (frame?.type !== "syn_stream") return;
    assert.equal(frame.streamId, 1);
    const inflated = new HeaderInflater().inflate(frame.headerBlock);
    assert.ok(inflated.ok);
    const headers = decodeHeaderBlock(inflated.block);
    assert.ok(headers.ok);
    assert.deepEqual(Object.fromEntries(headers.headers), {
      streamtype: ["error"],
      port: ["8080"],
      requestid: ["0"],
    });
  });

  it("the inflater follows one zlib stream across header blocks (later blocks refer back to earlier ones)", async () => {
    const blocks = ["error", "data", "error", "data"].map((t, i) =>
      encodeHeaderBlock([
        ["streamtype", t],
        ["port", "80"],
        ["requestid", String(i >> 1)],
      ]),
    );
    const compressed = await streamingCompress(blocks);
    assert.ok(
      (compressed[1] as Buffer).length < (compressed[0] as Buffer).length,
      "second block reuses the first",
    );
    const inflater = new HeaderInflater();
    for (const [i, c] of compressed.entries()) {
      const r = inflater.inflate(c);
      assert.ok(r.ok, `block ${i}`);
      assert.deepEqual(r.block, blocks[i]);
    }
  });

  it("the deflater's blocks inflate with a single streaming zlib reader, as Go's framer reads them", async () => {
    const deflater = new HeaderDeflater();
    const blocks = [encodeHeaderBlock([]), encodeHeaderBlock([["status", "200"]]), encodeHeaderBlock([])];
    const inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
    const out: Buffer[] = [];
    inflate.on("data", (c: Buffer) => out.push(c));
    for (const b of blocks) inflate.write(deflater.deflate(b));
    await new Promise<void>((resolve) => inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    inflate.close();
    assert.deepEqual(Buffer.concat(out), Buffer.concat(blocks));
  });

  it("a corrupt header block or a foreign dictionary is an error, not a guess", () => {
    assert.equal(new HeaderInflater().inflate(Buffer.from([0x78, 0xbb, 1, 2, 3, 4, 5])).ok, false);
    assert.equal(new HeaderInflater().inflate(Buffer.from([0x12, 0x34])).ok, false);
    assert.equal(decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61])).ok, false);
    assert.equal(
      decodeHeaderBlock(encodeHeaderBlock([["x", "1"]]).fill(0x41, 8, 9)).ok,
      false,
      "upper-case name",
    );
  });

  it("written frames parse back: SYN_REPLY, DATA with FIN, RST_STREAM, PING, GOAWAY", () => {
    const parsed = (b: Buffer) => {
      const r = parseFrame(b);
      assert.ok(r.ok);
      return r.frame;
    };
    assert.deepEqual(parsed(writeSynReply(3, Buffer.from([1, 2]))), {
      type: "syn_reply",
      streamId: 3,
      flags: 0,
      headerBlock: Buffer.from([1, 2]),
    });
    assert.deepEqual(parsed(writeDataFrame(5, Buffer.from("hi"), FLAG_FIN)), {
      type: "data",
      streamId: 5,
      flags: FLAG_FIN,
      data: Buffer.from("hi"),
    });
    assert.deepEqual(parsed(writeRstStream(7, 5)), { type: "rst_stream", streamId: 7, status: 5 });
    assert.deepEqual(parsed(writePing(9)), { type: "ping", id: 9 });
    assert.deepEqual(parsed(writeGoaway(11, 0)), { type: "goaway", lastGoodStreamId: 11, status: 0 });
    const syn = parsed(writeSynStream(1, Buffer.from([9]), FLAG_FIN));
    assert.equal(syn.type, "syn_stream");
    // DATA frame header is byte-exact: stream id, flags, 24-bit length
    assert.deepEqual([...writeDataFrame(1, Buffer.from("a"))], [0, 0, 0, 1, 0, 0, 0, 1, 0x61]);
  });

  it("another SPDY version or an oversized frame fails the reader for good", () => {
    const v2 = Buffer.from([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]);
    assert.match(new SpdyFrameReader().push(v2).error ?? "", /version 2/);
    const reader = new SpdyFrameReader();
    assert.match(reader.push(Buffer.from([0, 0, 0, 1, 0, 0x7f, 0xff, 0xff])).error ?? "", /exceeds/);
    assert.ok(reader.push(writePing(1)).error, "stays failed");
  });
});
