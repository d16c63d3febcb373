// One reading of every request body (issue 13 §1, issue 12 §4): YAML read as kube-apiserver reads it (sigs.k8s.io/yaml
// over go-yaml v2, YAML 1.1 — the expectations below are go-yaml v2's resolve() and decode merge semantics), strict
// JSON, and the media types that are accepted, converted or refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readRequestBody } from "../../src/kube/classify/body.ts";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { MAX_JSON_DEPTH, readJson } from "../../src/kube/classify/json.ts";
import { readYamlText, resolvePlain } from "../../src/kube/classify/yaml11.ts";

const yaml = (text: string) => {
  const r = readYamlText(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const refusedYaml = (text: string): string => {
  const r = readYamlText(text);
  assert.equal(r.ok, false, `expected refusal of ${JSON.stringify(text)}`);
  return r.ok ? "" : r.error;
};

test("YAML 1.1 booleans and nulls resolve as go-yaml v2 resolves them", () => {
  for (const t of ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"]) {
    assert.equal(resolvePlain(t), true, t);
  }
  for (const f of ["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"]) {
    assert.equal(resolvePlain(f), false, f);
  }
  for (const n of ["", "~", "null", "Null", "NULL"]) assert.equal(resolvePlain(n), null, n);
  // Not in go-yaml v2's table: stay strings.
  for (const s of ["yES", "tRUE", "nULL", "Yeah", "o", "t", "f"]) assert.equal(resolvePlain(s), s, s);
  assert.deepEqual(yaml("privileged: yes\nhostNetwork: on\nreadOnly: n\n"), {
    privileged: true,
    hostNetwork: true,
    readOnly: false,
  });
});

test("YAML 1.1 integers follow Go's ParseInt(s, 0, 64) after removing underscores", () => {
  const cases: [string, unknown][] = [
    ["0b0", 0n],
    ["0b101", 5n],
    ["-0b101", -5n],
    ["0o17", 15n],
    ["0777", 511n], // a leading 0 is octal
    ["0x1F", 31n],
    ["0X1f", 31n],
    ["+5", 5n],
    ["-0", 0n],
    ["1_000", 1000n],
    ["0x_1F", 31n],
    ["08", 8], // not octal: ParseInt fails, the float reading gives 8
    ["1e3", 1000],
    ["1.5", 1.5],
    [".5", 0.5],
    ["1:30", "1:30"], // sexagesimal is not supported by go-yaml v2
    ["0x", "0x"],
    ["12abc", "12abc"],
  ];
  for (const [text, want] of cases) assert.equal(resolvePlain(text), want, text);
  assert.deepEqual(yaml("spec:\n  replicas: 0b0\n"), { spec: { replicas: 0 } });
  assert.deepEqual(yaml("a: 0777\nb: '0777'\nc: \"0x10\"\n"), { a: 511, b: "0777", c: "0x10" });
});

test("YAML timestamps become RFC 3339 strings, as Go's time.Time marshals them", () => {
  assert.deepEqual(
    yaml("a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43\nd: '2001-12-14'\n"),
    {
      a: "2001-12-14T00:00:00Z",
      b: "2001-12-14T21:59:43.1-05:00",
      c: "2001-12-14T21:59:43Z",
      d: "2001-12-14",
    },
  );
  assert.equal(resolvePlain("2001-13-45"), "2001-13-45");
});

test("keys are converted as sigs.k8s.io/yaml converts them; quoted scalars and explicit !!str stay strings", () => {
  assert.deepEqual(yaml("yes: 1\n1: a\n'no': b\nx: !!str yes\nz: !!int '7'\n"), {
    true: 1,
    "1": "a",
    no: "b",
    x: "yes",
    z: 7,
  });
  assert.match(refusedYaml("x: !!int abc\n"), /not a !!int/);
  assert.match(refusedYaml("x: !custom 1\n"), /tag !custom is not accepted/);
});

test("<< merge keys are honoured; a key both written and merged is refused", () => {
  assert.deepEqual(yaml("base: &b {privileged: yes, a: 1}\nc:\n  <<: *b\n  x: 2\n"), {
    base: { privileged: true, a: 1 },
    c: { privileged: true, a: 1, x: 2 },
  });
  // A list: earlier maps take precedence (go-yaml v2 merges them backwards).
  assert.deepEqual(yaml("a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n"), {
    a: { k: 1 },
    b: { k: 2, j: 3 },
    c: { k: 1, j: 3 },
  });
  assert.match(refusedYaml("a: &a {k: 1}\nc:\n  k: 2\n  <<: *a\n"), /duplicate key "k"/);
  assert.match(refusedYaml("c:\n  <<: 5\n"), /merge key needs a map/);
  // A quoted "<<" is an ordinary key.
  assert.deepEqual(yaml("'<<': {a: 1}\n"), { "<<": { a: 1 } });
});

test("duplicate keys, second documents, directives, BOMs, NaN and huge integers are refused", () => {
  assert.match(refusedYaml("a: 1\na: 2\n"), /duplicate key "a"/);
  assert.match(refusedYaml("yes: 1\ntrue: 2\n"), /duplicate key "true"/);
  assert.match(refusedYaml("a: 1\n---\nb: 2\n"), /more than one YAML document/);
  assert.match(refusedYaml("%YAML 1.1\n---\na: 1\n"), /directives/);
  assert.match(refusedYaml("\uFEFFa: 1\n"), /byte-order mark/);
  assert.match(refusedYaml("a: .nan\n"), /no JSON form/);
  assert.match(refusedYaml("a: 0x7fffffffffffffffff\n"), /too large/);
  assert.match(refusedYaml("a: 9007199254740993\n"), /too large/);
  assert.match(refusedYaml("? [a]\n: 1\n"), /key must be a scalar/);
});

test("alias bombs and deep nesting are refused, not expanded", () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(", ")}]`,
    );
  assert.match(refusedYaml(`${bomb.join("\n")}\n`), /more than 200000 nodes/);
  const deep = `${"[".repeat(MAX_JSON_DEPTH + 5)}${"]".repeat(MAX_JSON_DEPTH + 5)}`;
  assert.match(refusedYaml(`a: ${deep}\n`), /nested/);
  const deeper = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  assert.equal(readYamlText(deeper).ok, false);
});

test("JSON: depth limit, duplicate keys, lone surrogates, BOM, invalid UTF-8 and inexact integers are refused", () => {
  const deep = Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
  const d = readJson(deep);
  assert.equal(d.ok, false);
  assert.match(d.ok ? "" : d.error, new RegExp(`deeper than ${MAX_JSON_DEPTH}`));
  assert.equal(readJson(Buffer.from(`${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`)).ok, true);
  const cases: [string | Buffer, RegExp][] = [
    ['{"spec":{"replicas":0,"replicas":3}}', /duplicate key "replicas"/],
    ['{"a":1,"\\u0061":2}', /duplicate key "a"/],
    ['{"a":"\\ud800"}', /lone UTF-16 surrogate/],
    ['\uFEFF{"a":1}', /byte-order mark/],
    [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), /not valid UTF-8/],
    ['{"a":9007199254740993}', /too large/],
    ['{"a":1e400}', /out of range/],
  ];
  for (const [text, re] of cases) {
    const r = readJson(typeof text === "string" ? Buffer.from(text) : text);
    assert.equal(r.ok, false, String(text));
    assert.match(r.ok ? "" : r.error, re);
  }
  // Same key in different objects, and keys that only look alike, are fine.
  assert.deepEqual(readJson(Buffer.from('{"a":{"a":1},"b":[{"a":1},{"a":2}],"A":3}')), {
    ok: true,
    value: { a: { a: 1 }, b: [{ a: 1 }, { a: 2 }], A: 3 },
  });
});

function kubeFor(method: string, target: string) {
  const c = classifyRequest(method, target, "c");
  if (!c.ok) throw new Error(c.status.message);
  return c.value;
}

test("media types: a body without Content-Type, of an unknown type, or with games in it is 415", () => {
  const put = kubeFor("PUT", "/api/v1/namespaces/a/configmaps/x");
  const body = Buffer.from('{"data":{}}');
  const status = (ct: string | undefined, enc?: string, method = "PUT", kube = put) => {
    const r = readRequestBody(method, kube, { contentType: ct, contentEncoding: enc }, body);
    return r.ok ? 200 : r.status.code;
  };
  assert.equal(status(undefined), 415);
  assert.equal(status("text/plain"), 415);
  assert.equal(status("application/json; charset=utf-16"), 415);
  assert.equal(status("application/json; stream=watch"), 415);
  assert.equal(status("application/json", "gzip"), 415);
  assert.equal(status("application/cbor"), 415);
  assert.equal(status("application/json"), 200);
  assert.equal(status("Application/JSON; charset=UTF-8"), 200);
  assert.equal(status("application/vnd.kubernetes.protobuf"), 200);
  const patch = kubeFor("PATCH", "/apis/apps/v1/namespaces/a/deployments/x");
  assert.equal(status("application/json", undefined, "PATCH", patch), 415);
  assert.equal(status("application/apply-patch+cbor", undefined, "PATCH", patch), 415);
  assert.equal(status("application/vnd.kubernetes.protobuf", undefined, "PATCH", patch), 415);
  const del = kubeFor("DELETE", "/api/v1/namespaces/a/configmaps/x");
  assert.equal(status("application/vnd.kubernetes.protobuf", undefined, "DELETE", del), 415);
  // No body: nothing to read, whatever the headers say.
  const empty = readRequestBody(
    "PUT",
    put,
    { contentType: undefined, contentEncoding: undefined },
    undefined,
  );
  assert.equal(empty.ok, true);
});

test("YAML bodies are forwarded as the JSON the gateway read (application/json; apply keeps its type)", () => {
  const post = kubeFor("POST", "/api/v1/namespaces/a/pods");
  const r = readRequestBody(
    "POST",
    post,
    { contentType: "application/yaml", contentEncoding: undefined },
    Buffer.from("kind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext: {privileged: yes}\n"),
  );
  assert.ok(r.ok);
  assert.equal(r.contentType, "application/json");
  assert.deepEqual(JSON.parse(String(r.body)), {
    kind: "Pod",
    spec: { containers: [{ name: "c", securityContext: { privileged: true } }] },
  });
  const apply = readRequestBody(
    "PATCH",
    kubeFor("PATCH", "/apis/apps/v1/namespaces/a/deployments/x"),
    { contentType: "application/apply-patch+yaml", contentEncoding: undefined },
    Buffer.from("spec:\n  replicas: 0b0\n"),
  );
  assert.ok(apply.ok);
  assert.equal(apply.contentType, "application/apply-patch+yaml");
  assert.equal(String(apply.body), '{"spec":{"replicas":0}}');
});
