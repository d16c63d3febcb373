// The port-forward guard (src/gateway/forward/port-guard.ts) on client bytes as kubectl sends them: WebSocket frames
// (masked) carrying SPDY/3.1 whose SYN_STREAM names the pod port. A stream to a listed port passes, byte for byte; one
// to another port is refused before the frame that completes it is relayed, however the bytes are cut; garbage and
// the channel protocol without query ports are refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { portGuard } from "../../src/gateway/forward/port-guard.ts";
import { writeDataFrame, writeSynStream } from "../../src/shared/spdy/frames.ts";
import { encodeHeaderBlock, HeaderDeflater } from "../../src/shared/spdy/headers.ts";

const SPDY = "SPDY/3.1+portforward.k8s.io";

/** A masked client WebSocket binary frame. */
function wsFrame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x82, 0x80 | len])
      : Buffer.concat([Buffer.from([0x82, 0x80 | 126]), Buffer.from([len >> 8, len & 0xff])]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, mask, body]);
}

function session() {
  const deflater = new HeaderDeflater();
  let id = 1;
  return (port: string, type = "data") => {
    id += 2;
    const headers = encodeHeaderBlock([
      ["streamtype", type],
      ["port", port],
      ["requestid", "0"],
    ]);
    return writeSynStream(id, deflater.deflate(headers));
  };
}

function feed(guard: ReturnType<typeof portGuard>, bytes: Buffer, cut = bytes.length) {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += cut) {
    const r = guard.check(bytes.subarray(at, at + cut));
    if (!r.ok) return { refused: r.reason, forwarded: Buffer.concat(out) };
    out.push(r.forward);
  }
  return { refused: undefined, forwarded: Buffer.concat(out) };
}

test("streams to listed ports pass byte for byte, whatever the chunking", () => {
  for (const cut of [1, 3, 7, 1000]) {
    const syn = session();
    const bytes = Buffer.concat([
      wsFrame(syn("80", "error")),
      wsFrame(syn("80")),
      wsFrame(writeDataFrame(3, Buffer.from("GET / HTTP/1.1\r\n\r\n"))),
      wsFrame(syn("8080")),
    ]);
    const r = feed(portGuard(SPDY, [80, 8080], []), bytes, cut);
    assert.equal(r.refused, undefined);
    assert.deepEqual(r.forwarded, bytes, `cut ${cut}`);
  }
});

test("a stream to another port is refused before its SYN_STREAM frame is relayed", () => {
  for (const cut of [1, 5, 1000]) {
    const syn = session();
    const allowed = wsFrame(syn("80"));
    const bytes = Buffer.concat([allowed, wsFrame(syn("22")), wsFrame(syn("80"))]);
    const r = feed(portGuard(SPDY, [80], []), bytes, cut);
    assert.match(r.refused ?? "", /a connection to port 22 is not allowed \(allowed: 80\)/);
    assert.ok(r.forwarded.length <= allowed.length, `cut ${cut}: nothing of the refused frame passed`);
  }
});

test("a SYN_STREAM without a port, garbage, and the channel protocol without query ports are refused", () => {
  const deflater = new HeaderDeflater();
  const noPort = writeSynStream(1, deflater.deflate(encodeHeaderBlock([["streamtype", "data"]])));
  assert.match(feed(portGuard(SPDY, [80], []), wsFrame(noPort)).refused ?? "", /port \(none\)/);
  assert.match(
    feed(portGuard(SPDY, [80], []), wsFrame(Buffer.from([0x80, 0x03, 0x00, 0x01, 0, 0, 0, 4, 1, 2, 3, 4])))
      .refused ?? "",
    /could not be read/,
  );
  assert.match(
    feed(portGuard("v4.channel.k8s.io", [80], []), Buffer.from([1])).refused ?? "",
    /must name its ports/,
  );
  assert.equal(feed(portGuard("v4.channel.k8s.io", [80], [80]), Buffer.from([1, 2])).refused, undefined);
  assert.match(
    feed(portGuard("v4.channel.k8s.io", [80], [22]), Buffer.from([1])).refused ?? "",
    /port 22 is not allowed/,
  );
});

test("a large frame arriving a byte at a time is held in pieces and relayed once, whole, with its last byte", () => {
  const syn = session();
  const big = wsFrame(writeDataFrame(3, randomBytes(60_000)));
  const guard = portGuard(SPDY, [80], []);
  const first = feed(guard, wsFrame(syn("80")));
  assert.equal(first.refused, undefined);
  let relayed = 0;
  for (let i = 0; i < big.length; i++) {
    const r = guard.check(big.subarray(i, i + 1));
    assert.ok(r.ok);
    if (r.forward.length) {
      assert.equal(i, big.length - 1, "nothing is relayed before the frame is whole");
      assert.deepEqual(r.forward, big);
      relayed++;
    }
  }
  assert.equal(relayed, 1);
});
