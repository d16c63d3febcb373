import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "@airlock/sim/contracts.ts";
import { applyJsonPatch, applyMergePatch } from "@airlock/sim/patch/index.ts";
import { StatusError } from "@airlock/sim/status.ts";

const cm = (): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm1", namespace: "default", labels: { app: "demo" }, finalizers: ["a", "b"] },
  data: { a: "1", "x/y": "slash", "t~n": "tilde" },
});

function rejects(fn: () => unknown, reason: string, code: number, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.status.reason, reason);
    assert.equal(err.status.code, code);
    if (detail) {
      const text = [err.status.message, ...(err.status.details?.causes ?? []).map((c) => c.message)].join(
        "\n",
      );
      assert.match(text, detail);
    }
    return true;
  });
}

test("each JSON patch operation applies as RFC 6902 says", () => {
  const cases: [string, unknown[], (o: KubeObject) => void][] = [
    [
      "add a key",
      [{ op: "add", path: "/data/b", value: "2" }],
      (o) => assert.equal((o.data as Record<string, string>).b, "2"),
    ],
    [
      "add replaces an existing key",
      [{ op: "add", path: "/data/a", value: "9" }],
      (o) => assert.equal((o.data as Record<string, string>).a, "9"),
    ],
    [
      "add inserts into a list",
      [{ op: "add", path: "/metadata/finalizers/1", value: "z" }],
      (o) => assert.deepEqual(o.metadata.finalizers, ["a", "z", "b"]),
    ],
    [
      "add with - appends",
      [{ op: "add", path: "/metadata/finalizers/-", value: "c" }],
      (o) => assert.deepEqual(o.metadata.finalizers, ["a", "b", "c"]),
    ],
    [
      "add at the list's length appends",
      [{ op: "add", path: "/metadata/finalizers/2", value: "c" }],
      (o) => assert.deepEqual(o.metadata.finalizers, ["a", "b", "c"]),
    ],
    [
      "remove a key",
      [{ op: "remove", path: "/metadata/labels/app" }],
      (o) => assert.deepEqual(o.metadata.labels, {}),
    ],
    [
      "remove a list element",
      [{ op: "remove", path: "/metadata/finalizers/0" }],
      (o) => assert.deepEqual(o.metadata.finalizers, ["b"]),
    ],
    [
      "replace a value",
      [{ op: "replace", path: "/data/a", value: "2" }],
      (o) => assert.equal((o.data as Record<string, string>).a, "2"),
    ],
    [
      "~1 escapes a slash",
      [{ op: "replace", path: "/data/x~1y", value: "s" }],
      (o) => assert.equal((o.data as Record<string, string>)["x/y"], "s"),
    ],
    [
      "~0 escapes a tilde",
      [{ op: "remove", path: "/data/t~0n" }],
      (o) => assert.equal(Object.hasOwn(o.data as object, "t~n"), false),
    ],
    [
      "move a value",
      [{ op: "move", from: "/data/a", path: "/data/moved" }],
      (o) => assert.deepEqual(o.data, { moved: "1", "x/y": "slash", "t~n": "tilde" }),
    ],
    [
      "copy a value",
      [{ op: "copy", from: "/metadata/labels", path: "/metadata/annotations" }],
      (o) => assert.deepEqual(o.metadata.annotations, { app: "demo" }),
    ],
    [
      "a passing test changes nothing",
      [{ op: "test", path: "/data/a", value: "1" }],
      (o) => assert.deepEqual(o, cm()),
    ],
    [
      "operations apply in order",
      [
        { op: "test", path: "/metadata/labels/app", value: "demo" },
        { op: "replace", path: "/metadata/labels/app", value: "web" },
        { op: "add", path: "/metadata/labels/tier", value: "front" },
      ],
      (o) => assert.deepEqual(o.metadata.labels, { app: "web", tier: "front" }),
    ],
  ];
  for (const [name, ops, check] of cases) {
    const input = cm();
    const out = applyJsonPatch(input, ops);
    check(out);
    assert.deepEqual(input, cm(), `${name}: input was mutated`);
  }
});

test("kubectl patch --type=json's request body replaces the replica count", () => {
  const deploy: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { replicas: 1 },
  };
  const out = applyJsonPatch(deploy, JSON.parse('[{"op":"replace","path":"/spec/replicas","value":3}]'));
  assert.deepEqual(out.spec, { replicas: 3 });
});

test("a failed test operation or a missing path is 422 Invalid and applies nothing", () => {
  const input = cm();
  const cases: [unknown[], RegExp][] = [
    [[{ op: "test", path: "/data/a", value: "2" }], /testing value \/data\/a failed: test failed/],
    [
      [{ op: "replace", path: "/data/nope", value: "2" }],
      /replace operation does not apply: doc is missing key: \/data\/nope/,
    ],
    [[{ op: "remove", path: "/data/nope" }], /Unable to remove nonexistent key: nope/],
    [
      [{ op: "add", path: "/spec/x/y", value: 1 }],
      /add operation does not apply: doc is missing path: "\/spec\/x\/y"/,
    ],
    [[{ op: "add", path: "/metadata/finalizers/5", value: "x" }], /Unable to access invalid index: 5/],
    [
      [{ op: "move", from: "/data/nope", path: "/data/b" }],
      /move operation does not apply: doc is missing from path: \/data\/nope/,
    ],
    [
      [{ op: "copy", from: "/data/nope", path: "/data/b" }],
      /copy operation does not apply: doc is missing from path: \/data\/nope/,
    ],
    [
      [
        { op: "replace", path: "/data/a", value: "changed" },
        { op: "test", path: "/data/a", value: "1" },
      ],
      /testing value \/data\/a failed/,
    ],
  ];
  for (const [ops, msg] of cases) rejects(() => applyJsonPatch(input, ops), "Invalid", 422, msg);
  assert.deepEqual(input, cm());
});

test("a malformed JSON patch or an unknown operation is 400 BadRequest", () => {
  const cases: [unknown, RegExp][] = [
    [{ op: "add", path: "/a", value: 1 }, /cannot unmarshal object/],
    ["nope", /cannot unmarshal string/],
    [[42], /cannot unmarshal operation 0/],
    [[{ op: "frobnicate", path: "/a" }], /Unexpected kind: frobnicate/],
    [[{ path: "/a" }], /Unexpected kind: unknown/],
    [[{ op: "add", value: 1 }], /missing "path"/],
    [[{ op: "add", path: "/a" }], /missing "value"/],
    [[{ op: "move", path: "/a" }], /missing "from"/],
    [[{ op: "add", path: "a", value: 1 }], /JSON pointer must be empty or start with '\/'/],
  ];
  for (const [ops, msg] of cases) rejects(() => applyJsonPatch(cm(), ops), "BadRequest", 400, msg);
});

test("a JSON merge patch merges maps, deletes with null and replaces lists", () => {
  const input = cm();
  const out = applyMergePatch(input, {
    metadata: { labels: { app: null, x: "y" }, finalizers: ["only"] },
    data: { a: "2", b: "3" },
  });
  assert.deepEqual(out.metadata.labels, { x: "y" });
  assert.deepEqual(out.metadata.finalizers, ["only"]);
  assert.deepEqual(out.data, { a: "2", b: "3", "x/y": "slash", "t~n": "tilde" });
  assert.deepEqual(input, cm());
  // kubectl label cm cm1 x=y
  assert.deepEqual(applyMergePatch(cm(), { metadata: { labels: { x: "y" } } }).metadata.labels, {
    app: "demo",
    x: "y",
  });
  // a nested object appears where there was none
  assert.deepEqual(applyMergePatch(cm(), { spec: { a: { b: 1 } } }).spec, { a: { b: 1 } });
  assert.equal(Object.hasOwn(applyMergePatch(cm(), { data: null }), "data"), false);
});

test("a merge patch that is not an object is 400 BadRequest", () => {
  rejects(() => applyMergePatch(cm(), [1]), "BadRequest", 400, /cannot unmarshal array/);
  rejects(() => applyMergePatch(cm(), "x"), "BadRequest", 400, /cannot unmarshal string/);
});
