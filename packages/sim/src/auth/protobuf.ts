// Decodes the protobuf request bodies kubectl's typed clients send (`k8s\0` + runtime.Unknown) into the JSON shapes
// the review and token handlers read.
//
// Field numbers are those of k8s.io/api authorization/v1 and authentication/v1 generated.proto. The kinds kubectl's
// typed `create` commands send go to the schema tables of packages/sim/src/proto; any other kind gets 415
// UnsupportedMediaType rather than a half-decoded object.
// Empty strings are dropped, as Go's `omitempty` would drop them from the JSON form.

import type { KubeObject, ObjectMeta } from "../contracts.ts";
import { decodeKubeObject } from "../proto/index.ts";
import { failure, StatusError } from "../status.ts";
import { Message } from "./protowire.ts";

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Json = Record<string, unknown>;

/** Copies the non-empty values into a fresh object, so absent fields stay absent in the JSON shape. */
function compact(entries: Record<string, unknown>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

function stringMap(entries: Message[]): Record<string, string> | undefined {
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) out[e.string(1) ?? ""] = e.string(2) ?? "";
  return out;
}

function extraMap(entries: Message[]): Record<string, string[]> | undefined {
  if (entries.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const e of entries) out[e.string(1) ?? ""] = e.message(2)?.strings(1) ?? [];
  return out;
}

function objectMeta(m: Message | undefined): ObjectMeta {
  if (!m) return {};
  return compact({
    name: m.string(1),
    generateName: m.string(2),
    namespace: m.string(3),
    uid: m.string(5),
    labels: stringMap(m.messages(11)),
    annotations: stringMap(m.messages(12)),
  }) as ObjectMeta;
}

function selectorAttributes(m: Message | undefined): Json | undefined {
  if (!m) return undefined;
  const requirements = m
    .messages(2)
    .map((r) => compact({ key: r.string(1), operator: r.string(2), values: r.strings(3) }));
  return compact({ rawSelector: m.string(1), requirements });
}

function resourceAttributes(m: Message | undefined): Json | undefined {
  if (!m) return undefined;
  return compact({
    namespace: m.string(1),
    verb: m.string(2),
    group: m.string(3),
    version: m.string(4),
    resource: m.string(5),
    subresource: m.string(6),
    name: m.string(7),
    fieldSelector: selectorAttributes(m.message(8)),
    labelSelector: selectorAttributes(m.message(9)),
  });
}

function nonResourceAttributes(m: Message | undefined): Json | undefined {
  if (!m) return undefined;
  return compact({ path: m.string(1), verb: m.string(2) });
}

function userInfo(m: Message | undefined): Json {
  if (!m) return {};
  return compact({
    username: m.string(1),
    uid: m.string(2),
    groups: m.strings(3),
    extra: extraMap(m.messages(4)),
  });
}

type SpecDecoder = (spec: Message | undefined, top: Message) => Json;

function accessReviewSpec(spec: Message | undefined): Json {
  if (!spec) return {};
  return compact({
    resourceAttributes: resourceAttributes(spec.message(1)),
    nonResourceAttributes: nonResourceAttributes(spec.message(2)),
    user: spec.string(3),
    groups: spec.strings(4),
    extra: extraMap(spec.messages(5)),
    uid: spec.string(6),
  });
}

/** Decoders by "group/Kind": each returns the fields after metadata (spec, or status for SelfSubjectReview). */
const DECODERS: Record<string, SpecDecoder> = {
  "authorization.k8s.io/SelfSubjectAccessReview": (spec) => ({ spec: accessReviewSpec(spec) }),
  "authorization.k8s.io/SubjectAccessReview": (spec) => ({ spec: accessReviewSpec(spec) }),
  "authorization.k8s.io/LocalSubjectAccessReview": (spec) => ({ spec: accessReviewSpec(spec) }),
  "authorization.k8s.io/SelfSubjectRulesReview": (spec) => ({
    spec: compact({ namespace: spec?.string(1) }),
  }),
  // SelfSubjectReview has no spec: field 2 is its status, which clients leave empty.
  "authentication.k8s.io/SelfSubjectReview": (_spec, top) => {
    const status = top.message(2);
    return status?.has(1) ? { status: { userInfo: userInfo(status.message(1)) } } : {};
  },
  "authentication.k8s.io/TokenRequest": (spec) => {
    if (!spec) return { spec: {} };
    const ref = spec.message(3);
    return {
      spec: compact({
        audiences: spec.strings(1),
        expirationSeconds: spec.int(4),
        boundObjectRef: ref
          ? compact({
              kind: ref.string(1),
              apiVersion: ref.string(2),
              name: ref.string(3),
              uid: ref.string(4),
            })
          : undefined,
      }),
    };
  },
  "authentication.k8s.io/TokenReview": (spec) => ({
    spec: compact({ token: spec?.string(1), audiences: spec?.strings(2) ?? [] }),
  }),
};

/** Decodes a `k8s\0` protobuf body; throws 415 for kinds the simulator does not decode, 400 for malformed bytes. */
export function decodeProtobuf(body: Buffer): KubeObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw StatusError.of("BadRequest", "protobuf body does not start with the k8s\\0 magic");
  }
  const unknown = new Message(body.subarray(MAGIC.length));
  const typeMeta = unknown.message(1);
  const apiVersion = typeMeta?.string(1) ?? "";
  const kind = typeMeta?.string(2) ?? "";
  const encoding = unknown.string(3);
  if (encoding) {
    throw new StatusError(
      failure(
        "UnsupportedMediaType",
        `protobuf content encoding "${encoding}" is not supported by the simulator`,
      ),
    );
  }
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const decoder = DECODERS[`${group}/${kind}`];
  // Any other kind goes to the schema-table decoder, which answers 415 for kinds it has no schema for.
  if (!decoder) return decodeKubeObject(apiVersion, kind, unknown.bytes(2) ?? Buffer.alloc(0));
  const raw = new Message(unknown.bytes(2) ?? Buffer.alloc(0));
  return { apiVersion, kind, metadata: objectMeta(raw.message(1)), ...decoder(raw.message(2), raw) };
}
