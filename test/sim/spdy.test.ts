// The simulator's own SPDY/3.1 codec (packages/sim/src/streams/spdy/): frames split anywhere reassemble, header
// blocks compressed the way Go's framer compresses them (one zlib stream, SPDY dictionary, sync flush per block) read
// back across blocks, what the simulator writes reads with one streaming zlib reader as kubectl's framer does, and
// malformed input is an error; and it interoperates with the gateway's own codec (src/shared/spdy) both ways.
// kubectl port-forward itself runs in kubectl-streams-interactive.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constants, createDeflate, createInflate } from "node:zlib";
import { DICTIONARY } from "@airlock/sim/streams/spdy/dictionary.ts";
import {
  dataFrame,
  FrameSplitter,
  goawayFrame,
  pingFrame,
  rstStreamFrame,
  synReplyFrame,
} from "@airlock/sim/streams/spdy/frames.ts";
import {
  DICTIONARY_ID,
  decodeNameValues,
  encodeNameValues,
  HeaderReader,
  HeaderWriter,
} from "@airlock/sim/streams/spdy/headers.ts";
import fc from "fast-check";
import {
  FLAG_FIN as GATEWAY_FIN,
  writeDataFrame as gatewayDataFrame,
  writeGoaway as gatewayGoaway,
  writePing as gatewayPing,
  writeRstStream as gatewayRstStream,
  writeSynStream as gatewaySynStream,
  SpdyFrameReader,
} from "../../src/shared/spdy/frames.ts";
import {
  encodeHeaderBlock,
  HeaderDeflater as GatewayHeaderDeflater,
  HeaderInflater as GatewayHeaderInflater,
} from "../../src/shared/spdy/headers.ts";

/** A control frame laid out byte by byte (independent of the writers under test). */
const control = (type: number, payload: number[] | Buffer, flags = 0) => {
  const p = Buffer.from(payload);
  return Buffer.concat([
    Buffer.from([0x80, 0x03, 0x00, type, flags, p.length >> 16, (p.length >> 8) & 0xff, p.length & 0xff]),
    p,
  ]);
};
const synStream = (stream: number, headerBlock: Buffer) =>
  control(1, Buffer.concat([Buffer.from([0, 0, 0, stream, 0, 0, 0, 0, 0, 0]), headerBlock]));

/** Go's framer: one deflate stream with the SPDY dictionary, a sync flush after each header block. */
async function goCompress(blocks: Buffer[]): Promise<Buffer[]> {
  const deflate = createDeflate({ dictionary: DICTIONARY, level: 9 });
  const out: Buffer[] = [];
  for (const block of blocks) {
    const chunks: Buffer[] = [];
    const take = (c: Buffer) => chunks.push(c);
    deflate.on("data", take);
    deflate.write(block);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    deflate.off("data", take);
    out.push(Buffer.concat(chunks));
  }
  deflate.close();
  return out;
}

const portForwardHeaders = (type: string, id: number) =>
  encodeNameValues([
    ["streamtype", type],
    ["port", "8080"],
    ["requestid", String(id)],
  ]);

describe("the simulator's SPDY/3.1 codec", () => {
  it("the dictionary is SPDY/3's: 1423 bytes, Adler-32 0xe3c6a7c2", () => {
    assert.equal(DICTIONARY.length, 1423);
    assert.equal(DICTIONARY_ID, 0xe3c6a7c2);
    assert.deepEqual([...DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from("options")]);
    assert.ok(DICTIONARY.toString("latin1").endsWith("charset=iso-8859-1,utf-,*,enq=0."));
  });

  it("a SYN_STREAM cut at every byte boundary reassembles into one frame whose headers read back", async () => {
    const [compressed] = await goCompress([portForwardHeaders("error", 0)]);
    const wire = synStream(1, compressed as Buffer);
    for (let cut = 0; cut <= wire.length; cut++) {
      const splitter = new FrameSplitter();
      const frames = [
        ...splitter.push(wire.subarray(0, cut)).frames,
        ...splitter.push(wire.subarray(cut)).frames,
      ];
      assert.equal(frames.length, 1, `cut at ${cut}`);
      const frame = frames[0];
      assert.ok(frame?.kind === "syn_stream");
      assert.equal(frame.stream, 1);
      const headers = new HeaderReader().read(frame.headerBlock);
      assert.deepEqual(
        headers,
        new Map([
          ["streamtype", ["error"]],
          ["port", ["8080"]],
          ["requestid", ["0"]],
        ]),
      );
    }
  });

  it("several frames in one chunk come out in order; a partial tail waits for its rest", () => {
    const wire = Buffer.concat([
      dataFrame(3, Buffer.from("ab"), false),
      pingFrame(7),
      dataFrame(3, Buffer.from("c"), true),
    ]);
    const splitter = new FrameSplitter();
    const first = splitter.push(wire.subarray(0, wire.length - 2)).frames;
    assert.deepEqual(first, [
      { kind: "data", stream: 3, fin: false, payload: Buffer.from("ab") },
      { kind: "ping", id: 7 },
    ]);
    assert.deepEqual(splitter.push(wire.subarray(wire.length - 2)).frames, [
      { kind: "data", stream: 3, fin: true, payload: Buffer.from("c") },
    ]);
  });

  it("header blocks are one zlib stream: later blocks refer back to earlier ones and still read", async () => {
    const blocks = [0, 0, 1, 1].map((id, i) => portForwardHeaders(i % 2 ? "data" : "error", id));
    const compressed = await goCompress(blocks);
    assert.ok((compressed[2] as Buffer).length < (compressed[0] as Buffer).length, "block 3 reuses block 1");
    const reader = new HeaderReader();
    compressed.forEach((c, i) => {
      assert.deepEqual(reader.read(c), decodeNameValues(blocks[i] as Buffer), `block ${i}`);
    });
    const fresh = new HeaderReader();
    assert.equal(typeof fresh.read(compressed[0] as Buffer), "object");
    assert.equal(
      typeof new HeaderReader().read(compressed[2] as Buffer),
      "string",
      "a later block alone is no stream",
    );
  });

  it("what the simulator writes reads with one streaming zlib reader holding the SPDY dictionary (Go's framer)", async () => {
    const writer = new HeaderWriter();
    const blocks = [encodeNameValues([]), encodeNameValues([[":status", "200"]]), encodeNameValues([])];
    const inflate = createInflate({ dictionary: DICTIONARY });
    const out: Buffer[] = [];
    inflate.on("data", (c: Buffer) => out.push(c));
    for (const b of blocks) inflate.write(writer.write(b));
    await new Promise<void>((resolve) => inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    inflate.close();
    assert.deepEqual(Buffer.concat(out), Buffer.concat(blocks));
  });

  it("frames the simulator writes have SPDY/3's byte layout", () => {
    assert.deepEqual([...dataFrame(1, Buffer.from("a"), false)], [0, 0, 0, 1, 0, 0, 0, 1, 0x61]);
    assert.deepEqual([...dataFrame(5, Buffer.alloc(0), true)], [0, 0, 0, 5, 1, 0, 0, 0]);
    assert.deepEqual(synReplyFrame(3, Buffer.from([9])), control(2, [0, 0, 0, 3, 9]));
    assert.deepEqual(rstStreamFrame(7, 6), control(3, [0, 0, 0, 7, 0, 0, 0, 6]));
    assert.deepEqual(pingFrame(9), control(6, [0, 0, 0, 9]));
    assert.deepEqual(goawayFrame(11, 1), control(7, [0, 0, 0, 11, 0, 0, 0, 1]));
  });

  it("the frames a client sends parse to what they say; frames a server ignores are read and dropped", () => {
    const read = (wire: Buffer) => new FrameSplitter().push(wire);
    assert.deepEqual(read(control(3, [0, 0, 0, 5, 0, 0, 0, 5])).frames, [
      { kind: "rst_stream", stream: 5, code: 5 },
    ]);
    assert.deepEqual(read(control(7, [0, 0, 0, 9, 0, 0, 0, 0])).frames, [
      { kind: "goaway", lastGood: 9, code: 0 },
    ]);
    assert.deepEqual(read(control(4, [0, 0, 0, 0])).frames, [{ kind: "ignored", type: 4 }]);
    assert.deepEqual(read(control(9, [0, 0, 0, 1, 0, 0, 1, 0])).frames, [{ kind: "ignored", type: 9 }]);
  });

  it("another version, a short control frame, DATA on stream 0 or an oversized frame fails the splitter for good", () => {
    const v2 = Buffer.from([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]);
    assert.match(new FrameSplitter().push(v2).error ?? "", /version 2/);
    assert.match(new FrameSplitter().push(control(1, [0, 0, 0, 1])).error ?? "", /too short/);
    assert.match(new FrameSplitter().push(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])).error ?? "", /stream 0/);
    const splitter = new FrameSplitter();
    assert.match(splitter.push(Buffer.from([0, 0, 0, 1, 0, 0x7f, 0xff, 0xff])).error ?? "", /1 MiB/);
    assert.ok(splitter.push(pingFrame(1)).error, "stays failed");
  });

  it("a corrupt block, a foreign dictionary or a malformed name/value block is an error, not a guess", async () => {
    const [good] = await goCompress([portForwardHeaders("data", 0)]);
    const foreign = Buffer.from(good as Buffer);
    foreign.writeUInt32BE(0x01020304, 2);
    assert.match(String(new HeaderReader().read(foreign)), /dictionary/);
    assert.match(String(new HeaderReader().read(Buffer.from([0x12, 0x34]))), /zlib/);
    assert.equal(
      typeof new HeaderReader().read(Buffer.from([0x78, 0xbb, 0xe3, 0xc6, 0xa7, 0xc2, 1, 2, 3])),
      "string",
    );
    assert.match(String(decodeNameValues(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61]))), /runs past/);
    assert.match(String(decodeNameValues(encodeNameValues([["x", "1"]]).fill(0x58, 8, 9))), /lower case/);
    const twice = encodeNameValues([
      ["port", "1"],
      ["port", "2"],
    ]);
    assert.match(String(decodeNameValues(twice)), /twice/);
    assert.match(String(decodeNameValues(Buffer.concat([encodeNameValues([]), Buffer.from([0])]))), /follow/);
    assert.deepEqual(decodeNameValues(encodeNameValues([["a", "1\u00002"]])), new Map([["a", ["1", "2"]]]));
  });
});

describe("the simulator's SPDY codec and the gateway's read each other (two implementations, one protocol)", () => {
  const id = fc.integer({ min: 1, max: 0x7fffffff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const headerPairs = fc.uniqueArray(
    fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), fc.string({ maxLength: 20 })),
    { maxLength: 4, selector: ([name]) => name },
  );
  const cutsOf = (wire: Buffer, cuts: number[]) => {
    const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
    return [...at, wire.length].map((end, i) => wire.subarray(i === 0 ? 0 : at[i - 1], end));
  };

  it("frames and header blocks the gateway writes, cut anywhere, read back the same in the simulator", () => {
    const frame = fc.oneof(
      fc.record({
        kind: fc.constant("data" as const),
        stream: id,
        fin: fc.boolean(),
        payload: fc.uint8Array({ maxLength: 40 }),
      }),
      fc.record({ kind: fc.constant("syn_stream" as const), stream: id, headers: headerPairs }),
      fc.record({ kind: fc.constant("rst_stream" as const), stream: id, code: u32 }),
      fc.record({ kind: fc.constant("ping" as const), id: u32 }),
      fc.record({
        kind: fc.constant("goaway" as const),
        lastGood: fc.integer({ min: 0, max: 0x7fffffff }),
        code: u32,
      }),
    );
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const deflater = new GatewayHeaderDeflater();
          const wire = Buffer.concat(
            frames.map((f) => {
              switch (f.kind) {
                case "data":
                  return gatewayDataFrame(f.stream, f.payload, f.fin ? GATEWAY_FIN : 0);
                case "syn_stream":
                  return gatewaySynStream(f.stream, deflater.deflate(encodeHeaderBlock(f.headers)));
                case "rst_stream":
                  return gatewayRstStream(f.stream, f.code);
                case "ping":
                  return gatewayPing(f.id);
                default:
                  return gatewayGoaway(f.lastGood, f.code);
              }
            }),
          );
          const splitter = new FrameSplitter();
          const read = cutsOf(wire, cuts).flatMap((chunk) => {
            const r = splitter.push(chunk);
            assert.equal(r.error, undefined);
            return r.frames;
          });
          const headerReader = new HeaderReader();
          assert.equal(read.length, frames.length);
          frames.forEach((sent, i) => {
            const got = read[i];
            if (sent.kind === "syn_stream") {
              assert.ok(got?.kind === "syn_stream");
              assert.equal(got.stream, sent.stream);
              assert.deepEqual(
                headerReader.read(got.headerBlock),
                new Map(sent.headers.map(([n, v]) => [n, v.split("\0")])),
              );
            } else if (sent.kind === "data") {
              assert.deepEqual(got, {
                kind: "data",
                stream: sent.stream,
                fin: sent.fin,
                payload: Buffer.from(sent.payload),
              });
            } else assert.deepEqual(got, { ...sent }); // fast-check records have no prototype
          });
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it("frames and header blocks the simulator writes read back the same in the gateway's reader", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, headerPairs, fc.uint8Array({ maxLength: 40 }), u32), {
          minLength: 1,
          maxLength: 6,
        }),
        (rows) => {
          const writer = new HeaderWriter();
          const wire = Buffer.concat(
            rows.flatMap(([stream, headers, payload, n]) => [
              synReplyFrame(stream, writer.write(encodeNameValues(headers))),
              dataFrame(stream, payload, n % 2 === 0),
              rstStreamFrame(stream, n),
              pingFrame(n),
              goawayFrame(stream, n),
            ]),
          );
          const { frames, error } = new SpdyFrameReader().push(wire);
          assert.equal(error, undefined);
          const inflater = new GatewayHeaderInflater();
          rows.forEach(([stream, headers, payload, n], i) => {
            const [reply, data, rst, ping, goaway] = frames.slice(i * 5, i * 5 + 5);
            assert.ok(reply?.type === "syn_reply" && reply.streamId === stream);
            const inflated = inflater.inflate(reply.headerBlock);
            assert.ok(inflated.ok);
            assert.deepEqual(inflated.block, encodeNameValues(headers));
            assert.deepEqual(data, {
              type: "data",
              streamId: stream,
              flags: n % 2 === 0 ? GATEWAY_FIN : 0,
              data: Buffer.from(payload),
            });
            assert.deepEqual(rst, { type: "rst_stream", streamId: stream, status: n });
            assert.deepEqual(ping, { type: "ping", id: n });
            assert.deepEqual(goaway, { type: "goaway", lastGoodStreamId: stream, status: n });
          });
        },
      ),
      { numRuns: 300, seed: 43 },
    );
  });
});
