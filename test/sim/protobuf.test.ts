import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeProtobuf } from "@airlock/sim/auth/protobuf.ts";
import {
  encodeBytesField as bytes,
  readFields,
  encodeVarintField as varint,
} from "@airlock/sim/auth/protowire.ts";
import { StatusError } from "@airlock/sim/status.ts";

// Bodies captured from kubectl v1.32.4 (a loopback HTTPS stub saved the raw POST bodies).
const CAPTURED = {
  // kubectl auth can-i update deployments/scale -n prod  (resource/name)
  canIScale:
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577124c0a100a0012001a0022002a00320038004200122e0a2c0a0470726f6412067570646174651a046170707322002a0b6465706c6f796d656e747332003a057363616c651a08080012001a0020001a002200",
  // kubectl auth can-i get /healthz
  canIPath:
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577122f0a100a0012001a0022002a003200380042001211120f0a082f6865616c74687a12036765741a08080012001a0020001a002200",
  // kubectl auth can-i --list -n prod
  canIList:
    "6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a65637452756c657352657669657712200a100a0012001a0022002a0032003800420012060a0470726f641a04180022001a002200",
  // kubectl auth whoami
  whoami:
    "6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200",
  // kubectl create token mcp-server -n prod --duration=20m --audience=a1 --audience=a2
  //   --bound-object-kind=Pod --bound-object-name=web-1 --bound-object-uid=u-1
  createToken:
    "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374123c0a100a0012001a0022002a0032003800420012220a0261310a0261321a150a03506f64120276311a057765622d312203752d3120b0091a040a0012001a002200",
};
const decode = (hex: string) => decodeProtobuf(Buffer.from(hex, "hex"));

/** `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
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

describe("protobuf bodies captured from kubectl", () => {
  // kubectl reads `deployments/scale` as resource/name, so "scale" arrives in field 7 (name), not 6.
  test("auth can-i on resource/name decodes to resourceAttributes", () => {
    assert.deepEqual(decode(CAPTURED.canIScale), {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: {},
      spec: {
        resourceAttributes: {
          namespace: "prod",
          verb: "update",
          group: "apps",
          resource: "deployments",
          name: "scale",
        },
      },
    });
  });

  test("auth can-i on a path decodes to nonResourceAttributes", () => {
    assert.deepEqual(decode(CAPTURED.canIPath).spec, {
      nonResourceAttributes: { path: "/healthz", verb: "get" },
    });
  });

  test("auth can-i --list decodes to a SelfSubjectRulesReview for the namespace", () => {
    const o = decode(CAPTURED.canIList);
    assert.equal(o.kind, "SelfSubjectRulesReview");
    assert.deepEqual(o.spec, { namespace: "prod" });
  });

  test("auth whoami decodes to an empty SelfSubjectReview", () => {
    const o = decode(CAPTURED.whoami);
    assert.equal(o.kind, "SelfSubjectReview");
    assert.equal(o.apiVersion, "authentication.k8s.io/v1");
    assert.deepEqual(o.metadata, {});
  });

  test("create token decodes audiences, expirationSeconds and boundObjectRef", () => {
    assert.deepEqual(decode(CAPTURED.createToken), {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: {},
      spec: {
        audiences: ["a1", "a2"],
        expirationSeconds: 1200,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web-1", uid: "u-1" },
      },
    });
  });
});

describe("hand-encoded protobuf bodies", () => {
  test("field and label selectors on resourceAttributes are decoded (k8s.io/api field numbers 8 and 9)", () => {
    const requirement = (key: string, op: string, values: string[]) =>
      Buffer.concat([bytes(1, key), bytes(2, op), ...values.map((v) => bytes(3, v))]);
    const resourceAttributes = Buffer.concat([
      bytes(1, "default"),
      bytes(2, "list"),
      bytes(5, "pods"),
      bytes(7, "web"),
      bytes(8, Buffer.concat([bytes(1, "spec.nodeName=n1")])),
      bytes(
        9,
        Buffer.concat([
          bytes(2, requirement("app", "In", ["web", "api"])),
          bytes(2, requirement("tier", "DoesNotExist", [])),
        ]),
      ),
    ]);
    const raw = Buffer.concat([bytes(1, bytes(1, "review-1")), bytes(2, bytes(1, resourceAttributes))]);
    assert.deepEqual(decodeProtobuf(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", raw)), {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: { name: "review-1" },
      spec: {
        resourceAttributes: {
          namespace: "default",
          verb: "list",
          resource: "pods",
          name: "web",
          fieldSelector: { rawSelector: "spec.nodeName=n1" },
          labelSelector: {
            requirements: [
              { key: "app", operator: "In", values: ["web", "api"] },
              { key: "tier", operator: "DoesNotExist" },
            ],
          },
        },
      },
    });
  });

  test("a SubjectAccessReview carries user, groups, uid and the extra map", () => {
    const extraEntry = Buffer.concat([
      bytes(1, "reason"),
      bytes(2, Buffer.concat([bytes(1, "on-call"), bytes(1, "t7")])),
    ]);
    const spec = Buffer.concat([
      bytes(2, Buffer.concat([bytes(1, "/metrics"), bytes(2, "get")])),
      bytes(3, "bob"),
      bytes(4, "team-a"),
      bytes(4, "team-b"),
      bytes(5, extraEntry),
      bytes(6, "uid-9"),
    ]);
    const o = decodeProtobuf(envelope("authorization.k8s.io/v1", "SubjectAccessReview", bytes(2, spec)));
    assert.deepEqual(o.spec, {
      nonResourceAttributes: { path: "/metrics", verb: "get" },
      user: "bob",
      groups: ["team-a", "team-b"],
      extra: { reason: ["on-call", "t7"] },
      uid: "uid-9",
    });
  });

  test("varints above 2^31 decode exactly (expirationSeconds is an int64)", () => {
    const spec = Buffer.concat([varint(4, 2 ** 32)]);
    const o = decodeProtobuf(envelope("authentication.k8s.io/v1", "TokenRequest", bytes(2, spec)));
    assert.deepEqual(o.spec, { expirationSeconds: 2 ** 32 });
  });

  test("a TokenReview decodes its token and audiences", () => {
    const spec = Buffer.concat([bytes(1, "abc.def.ghi"), bytes(2, "vault")]);
    const o = decodeProtobuf(envelope("authentication.k8s.io/v1", "TokenReview", bytes(2, spec)));
    assert.deepEqual(o.spec, { token: "abc.def.ghi", audiences: ["vault"] });
  });
});

describe("protobuf refusals", () => {
  test("a kind the simulator does not decode is 415 naming the kind", () => {
    const e = refusal(() => decodeProtobuf(envelope("policy/v1", "Eviction", Buffer.alloc(0))));
    assert.equal(e.status.code, 415);
    assert.equal(e.status.reason, "UnsupportedMediaType");
    assert.match(e.status.message ?? "", /"Eviction" \(policy\/v1\)/);
  });

  test("a body without the k8s\\0 magic is 400", () => {
    assert.equal(refusal(() => decodeProtobuf(Buffer.from("{}"))).status.code, 400);
  });

  test("a length running past the end, a truncated varint or an unknown wire type is 400", () => {
    const good = Buffer.from(CAPTURED.canIPath, "hex");
    assert.equal(refusal(() => decodeProtobuf(good.subarray(0, good.length - 5))).status.code, 400);
    assert.throws(() => readFields(Buffer.from([0x08, 0x80])), StatusError);
    assert.throws(() => readFields(Buffer.from([0x0b])), StatusError);
  });

  test("a field with the wrong wire type is refused rather than misread", () => {
    const spec = varint(1, 5); // namespace must be a string
    const e = refusal(() =>
      decodeProtobuf(envelope("authorization.k8s.io/v1", "SelfSubjectRulesReview", bytes(2, spec))),
    );
    assert.equal(e.status.code, 400);
  });
});
