// Pure codecs of the simulator's streams: remote-command channel framing (SPDY: test/sim/spdy.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHANNEL,
  chooseProtocol,
  decodeFrame,
  EXEC_PROTOCOLS,
  encodeFrame,
  encodeStatusPayload,
  exitStatus,
  parseResize,
  protocolFeatures,
} from "@airlock/sim/streams/channel.ts";

const v5 = protocolFeatures("v5.channel.k8s.io");
const v4 = protocolFeatures("v4.channel.k8s.io");

describe("remote-command channel framing", () => {
  it("the client's first supported offer is chosen, in the client's order", () => {
    const table: [string[], string | undefined][] = [
      [["v5.channel.k8s.io"], "v5.channel.k8s.io"],
      [["v4.channel.k8s.io", "v5.channel.k8s.io"], "v4.channel.k8s.io"],
      [["base64.channel.k8s.io", "channel.k8s.io"], "channel.k8s.io"],
      [["SPDY/3.1+portforward.k8s.io"], undefined],
      [[], undefined],
    ];
    for (const [offered, want] of table)
      assert.equal(chooseProtocol(offered, EXEC_PROTOCOLS), want, offered.join());
  });

  it("frames carry the channel in byte 0 and the payload after it", () => {
    assert.deepEqual([...encodeFrame(CHANNEL.stdout, "hi")], [1, 0x68, 0x69]);
    assert.deepEqual([...encodeFrame(CHANNEL.error, Buffer.alloc(0))], [3]);
    const decoded = decodeFrame(Buffer.from([0, 0x61, 0x62]), v5);
    assert.equal(decoded.kind, "data");
    if (decoded.kind === "data") {
      assert.equal(decoded.channel, 0);
      assert.equal(decoded.payload.toString(), "ab");
    }
  });

  it("[255, 0] is stdin EOF on v5 and invalid before v5", () => {
    assert.deepEqual(decodeFrame(Buffer.from([255, 0]), v5), { kind: "close", channel: 0 });
    assert.equal(decodeFrame(Buffer.from([255, 0]), v4).kind, "invalid");
    assert.equal(decodeFrame(Buffer.from([255]), v5).kind, "invalid");
    assert.equal(decodeFrame(Buffer.alloc(0), v5).kind, "invalid");
  });

  it("resize payloads parse as kubectl sends them and garbage is ignored", () => {
    assert.deepEqual(parseResize(Buffer.from('{"Width":100,"Height":30}\n')), { width: 100, height: 30 });
    assert.equal(parseResize(Buffer.from("{")), undefined);
    assert.equal(parseResize(Buffer.from('{"Width":-1,"Height":30}')), undefined);
    assert.equal(parseResize(Buffer.from('{"Width":"80","Height":30}')), undefined);
  });

  it("a non-zero exit becomes NonZeroExitCode with an ExitCode cause; success is a bare Success", () => {
    assert.deepEqual(exitStatus(["true"], 0), { metadata: {}, status: "Success" });
    const failed = exitStatus(["sh", "-c", "exit 3"], 3);
    assert.equal(failed.reason, "NonZeroExitCode");
    assert.deepEqual(failed.details?.causes, [{ reason: "ExitCode", message: "3" }]);
  });

  it("v4+ sends the Status as JSON; older protocols send only a failure's message", () => {
    const failed = exitStatus(["x"], 2);
    assert.equal(JSON.parse(String(encodeStatusPayload(failed, v4))).reason, "NonZeroExitCode");
    const v2 = protocolFeatures("v2.channel.k8s.io");
    assert.equal(encodeStatusPayload({ metadata: {}, status: "Success" }, v2), undefined);
    assert.match(String(encodeStatusPayload(failed, v2)), /exited with 2/);
    assert.deepEqual(protocolFeatures("channel.k8s.io"), { close: false, resize: false, statusJson: false });
  });
});
