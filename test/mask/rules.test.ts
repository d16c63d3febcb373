// Table tests for the pure parts: profiles, placeholders, Accept rewriting, field rules, and the fail-closed paths.
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { jsonAccept, planResponse } from "../../src/gateway/transform/index.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import {
  BUILTIN_PROFILES,
  compileProfiles,
  createPlaceholders,
  JsonDocumentMasker,
  loadMaskKey,
  MaskingError,
  maskDocument,
  TextStreamMasker,
  WatchStreamMasker,
} from "../../src/mask/index.ts";

const ph = createPlaceholders(Buffer.alloc(32, 1));
const def = BUILTIN_PROFILES.get("default")!;
const ctx = () => ({ profile: def, ph, counts: new Map<string, number>() });

describe("placeholders", () => {
  test("the same value gets the same marker; another key gives another marker", () => {
    assert.equal(ph.marker("x"), ph.marker("x"));
    assert.notEqual(ph.marker("x"), ph.marker("y"));
    assert.notEqual(ph.marker("x"), createPlaceholders(Buffer.alloc(32, 2)).marker("x"));
    assert.match(ph.marker("x"), /^‹masked:[0-9a-f]{8}›$/);
    assert.equal(Buffer.from(ph.base64Marker(Buffer.from("x")), "base64").toString(), ph.marker("x"));
  });

  test("the key file is created 0600 once and reused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "airlock-maskkey-"));
    const a = await loadMaskKey(dir);
    const b = await loadMaskKey(dir);
    assert.deepEqual(a, b);
    assert.equal((await stat(join(dir, "mask.key"))).mode & 0o777, 0o600);
    await rm(dir, { recursive: true });
  });
});

describe("profiles", () => {
  test("a profile extends default, adds a pattern and switches on Secret names", () => {
    const r = compileProfiles([
      {
        apiVersion: "airlock.dev/v1alpha1",
        kind: "MaskingProfile",
        metadata: { name: "strict" },
        spec: { secretNames: true, patterns: [{ name: "ticket", regex: "TICKET-[0-9]{6}" }] },
      },
    ]);
    assert.ok(r.ok);
    const strict = r.profiles.get("strict")!;
    assert.equal(strict.secretNames, true);
    const counts = new Map();
    assert.equal(
      strict.detectors.maskString("see TICKET-123456 now", ph, counts).includes("TICKET-123456"),
      false,
    );
    assert.equal(counts.get("custom:ticket"), 1);
  });

  test("bad documents are all reported: unknown key, bad regex, unknown base, redefining default", () => {
    const doc = (name: string, spec: unknown) => ({
      apiVersion: "airlock.dev/v1alpha1",
      kind: "MaskingProfile",
      metadata: { name },
      spec,
    });
    const r = compileProfiles([
      doc("a", { colour: "red" }),
      doc("b", { patterns: [{ name: "p", regex: "(" }] }),
      doc("c", { extends: "nope" }),
      doc("default", {}),
    ]);
    assert.ok(!r.ok);
    const all = r.errors.join("\n");
    for (const want of [/colour/, /MaskingProfile b/, /unknown profile "nope"/, /cannot be redefined/])
      assert.match(all, want);
  });
});

describe("field rules", () => {
  // biome-ignore lint/suspicious/noExplicitAny: the accessors read arbitrary decoded JSON
  type Json = Record<string, any>;
  const cases: [string, unknown, (o: Json) => unknown, RegExp | string][] = [
    [
      "Secret data stays valid base64",
      { kind: "Secret", data: { a: "aGk=" } },
      (o) => Buffer.from(o.data.a, "base64").toString(),
      /^‹masked:/,
    ],
    [
      "ConfigMap keys matching the pattern",
      { kind: "ConfigMap", data: { API_KEY: "v1", LOG_LEVEL: "info" } },
      (o) => `${o.data.API_KEY}|${o.data.LOG_LEVEL}`,
      /^‹masked:[0-9a-f]{8}›\|info$/,
    ],
    [
      "env values by name in a CronJob",
      {
        kind: "CronJob",
        spec: {
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  containers: [
                    {
                      env: [
                        { name: "DB_PASSWORD", value: "p" },
                        { name: "MODE", value: "fast" },
                      ],
                    },
                  ],
                },
              },
            },
          },
        },
      },
      (o) =>
        JSON.stringify(
          o.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: { value: string }) => e.value),
        ),
      /^\["‹masked:[0-9a-f]{8}›","fast"\]$/,
    ],
    [
      "secret-sounding properties in any object (CRDs)",
      { kind: "Widget", spec: { adminPassword: "open-sesame", replicas: "3" } },
      (o) => `${o.spec.adminPassword}|${o.spec.replicas}`,
      /^‹masked:[0-9a-f]{8}›\|3$/,
    ],
    [
      "secret references stay unless a profile asks",
      { kind: "Pod", spec: { volumes: [{ secret: { secretName: "db" } }] } },
      (o) => o.spec.volumes[0].secret.secretName,
      "db",
    ],
  ];
  for (const [name, input, read, want] of cases) {
    test(name, () => {
      const out = read(maskDocument(structuredClone(input), ctx()) as Record<string, unknown>);
      if (typeof want === "string") assert.equal(out, want);
      else assert.match(String(out), want);
    });
  }
});

describe("Accept rewriting", () => {
  const cases: [string | undefined, string][] = [
    ["application/vnd.kubernetes.protobuf,application/json", "application/json"],
    [
      "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io",
      "application/json;as=Table;v=v1;g=meta.k8s.io",
    ],
    ["application/cbor", "application/json"],
    ["application/vnd.kubernetes.protobuf;stream=watch", "application/json"],
    [undefined, "application/json"],
  ];
  for (const [input, want] of cases) test(`${input} → ${want}`, () => assert.equal(jsonAccept(input), want));
});

describe("fail closed", () => {
  const kube = (verb: string, resource = "secrets") =>
    ({ info: { verb, resource, subresource: "" }, query: new URLSearchParams() }) as unknown as KubeRequest;
  const m = { profile: def, placeholders: ph, counts: new Map(), detectors: def.detectors };

  test("a protobuf or compressed answer is refused, not relayed", () => {
    const proto = planResponse(m, kube("get"), { "content-type": "application/vnd.kubernetes.protobuf" });
    assert.ok(!proto.ok && /masking failed/.test(proto.status.message ?? "") && proto.status.code === 502);
    const gz = planResponse(m, kube("get"), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    assert.ok(!gz.ok);
  });

  test("malformed JSON, truncated documents and oversized elements throw", () => {
    assert.throws(
      () => new JsonDocumentMasker(ctx(), undefined).push(Buffer.from('{"kind":"Secret"}}')),
      MaskingError,
    );
    const truncated = new JsonDocumentMasker(ctx(), undefined);
    truncated.push(Buffer.from('{"kind":"SecretList","items":[{"a":1}'));
    assert.throws(() => truncated.end(), MaskingError);
    assert.throws(
      () =>
        new JsonDocumentMasker(ctx(), undefined, 10).push(Buffer.from('{"kind":"x","data":"0123456789"}')),
      MaskingError,
    );
    const watch = new WatchStreamMasker(ctx(), undefined);
    assert.throws(() => watch.push(Buffer.from("not json\n")), MaskingError);
  });

  test("a list streams: the header and each item come out before the list ends", () => {
    const masker = new JsonDocumentMasker(ctx(), undefined);
    const out = masker.push(
      Buffer.from('{"kind":"SecretList","metadata":{},"items":[{"data":{"a":"aGk="}},{"data":'),
    );
    assert.equal(
      Buffer.concat(out)
        .toString()
        .startsWith('{"kind":"SecretList","metadata":{},"items":[{"data":{"a":"4oC5'),
      true,
    );
  });

  test("a text stream holds back only what may be a secret", () => {
    const t = new TextStreamMasker(def.detectors, ph, new Map());
    assert.equal(t.push(Buffer.from("plain line\n$ ")).toString(), "plain line\n$ ");
    assert.equal(t.push(Buffer.from("token=")).toString(), "token=");
    assert.equal(t.push(Buffer.from("abc")).toString(), "");
    assert.equal(t.held, 3);
  });
});

describe("credentials the cluster minted", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln";
  const cert = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n").toString(
    "base64",
  );
  test("a TokenRequest's token and a CSR's issued certificate are masked, alone and in a list", () => {
    const c = ctx();
    const tr = maskDocument(
      { kind: "TokenRequest", status: { token: jwt, expirationTimestamp: "x" } },
      c,
    ) as {
      status: { token: string };
    };
    assert.match(tr.status.token, /^‹masked:[0-9a-f]{8}›$/);
    const list = {
      kind: "CertificateSigningRequestList",
      items: [{ metadata: { name: "c" }, status: { certificate: cert } }],
    };
    const masker = new JsonDocumentMasker(c, undefined);
    const out = Buffer.concat([
      ...masker.push(Buffer.from(JSON.stringify(list))),
      ...masker.end(),
    ]).toString();
    assert.ok(!out.includes(cert), out);
    assert.equal(c.counts.get("certificate"), 1);
  });
});
