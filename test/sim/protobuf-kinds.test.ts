import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { decodeProtobuf } from "@airlock/sim/auth/protobuf.ts";
import { encodeBytesField as bytes, encodeVarintField as varint } from "@airlock/sim/auth/protowire.ts";
import { StatusError } from "@airlock/sim/status.ts";

// Bodies kubectl v1.32 POSTs for its typed `create` commands, with the JSON kubectl prints for the same object
// (`--dry-run=client -o json`). Regenerate with `npx node test/sim/capture-protobuf-fixtures.ts`.
const FIXTURES = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "protobuf-create.json"), "utf8"),
) as Record<string, { args: string[]; body: string; json: unknown }>;

/** kubectl's JSON prints Go's zero time as null; the decoder leaves such fields out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytes(1, apiVersion), bytes(2, kind)]);
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), bytes(1, typeMeta), bytes(2, raw)]);
}

function refusal(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${e}`);
    return e;
  }
  assert.fail("expected a refusal");
}

describe("protobuf bodies of kubectl's typed create commands decode to kubectl's own JSON", () => {
  assert.ok(Object.keys(FIXTURES).length >= 19);
  for (const [name, fixture] of Object.entries(FIXTURES)) {
    test(`kubectl create ${fixture.args.slice(0, 2).join(" ")} (${name})`, () => {
      const decoded = decodeProtobuf(Buffer.from(fixture.body, "hex"));
      assert.deepEqual(decoded, withoutNulls(fixture.json));
    });
  }
});

describe("protobuf decoding rules", () => {
  test("a pointer field keeps its zero value and a plain field drops it (Go omitempty)", () => {
    // DeploymentSpec: replicas (*int32) = 0 stays; minReadySeconds (int32) = 0 goes.
    const spec = Buffer.concat([varint(1, 0), varint(5, 0)]);
    const raw = Buffer.concat([bytes(1, bytes(1, "d")), bytes(2, spec)]);
    const obj = decodeProtobuf(envelope("apps/v1", "Deployment", raw));
    assert.deepEqual(obj.spec, { replicas: 0 });
  });

  test("a negative int32 (a 10-byte varint) decodes as a negative number", () => {
    const minusOne = Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const raw = Buffer.concat([bytes(1, bytes(1, "pc")), minusOne]);
    const obj = decodeProtobuf(envelope("scheduling.k8s.io/v1", "PriorityClass", raw));
    assert.equal(obj.value, -1);
  });

  test("a field the schema does not know, carrying a value, is refused with 415 naming it", () => {
    const raw = Buffer.concat([bytes(1, bytes(1, "cm")), bytes(9, "surprise")]);
    const err = refusal(() => decodeProtobuf(envelope("v1", "ConfigMap", raw)));
    assert.equal(err.status.code, 415);
    assert.match(err.status.message ?? "", /field 9 of ConfigMap/);
  });

  test("an unknown field left at its zero value is ignored, as a newer client's empty field would be", () => {
    const raw = Buffer.concat([bytes(1, bytes(1, "cm")), bytes(9, ""), varint(10, 0)]);
    assert.deepEqual(decodeProtobuf(envelope("v1", "ConfigMap", raw)).metadata, { name: "cm" });
  });

  test("a kind without a schema is 415, never half-decoded", () => {
    const err = refusal(() => decodeProtobuf(envelope("apps/v1", "DaemonSet", bytes(1, bytes(1, "x")))));
    assert.equal(err.status.code, 415);
    assert.match(err.status.message ?? "", /kind "DaemonSet"/);
  });

  test("Secret data is bytes on the wire and base64 in JSON", () => {
    const entry = Buffer.concat([bytes(1, "k"), bytes(2, Buffer.from([0, 255, 1]))]);
    const raw = Buffer.concat([bytes(1, bytes(1, "s")), bytes(2, entry)]);
    assert.deepEqual(decodeProtobuf(envelope("v1", "Secret", raw)).data, { k: "AP8B" });
  });
});
