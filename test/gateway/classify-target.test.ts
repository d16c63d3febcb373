import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkRequestTarget } from "../../src/kube/classify/index.ts";
import { loadVectors, REFUSED_BY_HYGIENE } from "./classify-vectors.ts";

const P = "/api/v1/namespaces/default/pods";

/** [raw target, a fragment the refusal message must contain]. Each one is refused with a 400 BadRequest Status. */
const AMBIGUOUS: [string, string][] = [
  // dot segments, raw and encoded in every spelling
  [`${P}/../secrets`, 'dot segment ".."'],
  [`${P}/./nginx`, 'dot segment "."'],
  [`/api/v1/namespaces/default/..`, 'dot segment ".."'],
  [`/api/v1/namespaces/default/.`, 'dot segment "."'],
  [`/..`, 'dot segment ".."'],
  [`${P}/%2e%2e/secrets`, 'encoded "."'],
  [`${P}/%2E%2E/secrets`, 'encoded "."'],
  [`${P}/.%2e/secrets`, 'encoded "."'],
  [`${P}/%2e./secrets`, 'encoded "."'],
  [`${P}/%2E/nginx`, 'encoded "."'],
  [`${P}/nginx%2Elog`, 'encoded "."'],
  // empty segments
  [`/api/v1/namespaces//pods`, "empty path segment"],
  [`//api/v1/pods`, "empty path segment"],
  [`${P}//nginx`, "empty path segment"],
  [`${P}//`, "empty path segment"],
  [`//`, "empty path segment"],
  // encoded slash and backslash
  [`/api/v1/namespaces/default/configmaps/a%2Fb`, 'encoded "/"'],
  [`/api/v1/namespaces/default/configmaps/a%2fb`, 'encoded "/"'],
  [`/api%2Fv1/pods`, 'encoded "/"'],
  [`${P}/a\\b`, '"\\" in path'],
  [`${P}\\..\\secrets`, '"\\" in path'],
  [`${P}/a%5Cb`, 'encoded "\\"'],
  [`${P}/a%5cb`, 'encoded "\\"'],
  // NUL and control characters, raw and encoded
  [`${P}/nginx%00`, "encoded NUL"],
  [`${P}/nginx\u0000`, "NUL byte"],
  [`${P}/nginx%0A`, "encoded control character"],
  [`${P}/nginx%0d`, "encoded control character"],
  [`${P}/nginx%7F`, "encoded control character"],
  [`${P}/nginx\tx`, "control character"],
  [`${P}/nginx\r\nX-Injected: 1`, "control character"],
  [`${P}/ngi nx`, "space"],
  // invalid percent-encoding
  [`${P}/%`, "invalid percent-encoding"],
  [`${P}/%G1`, "invalid percent-encoding"],
  [`${P}/%2`, "invalid percent-encoding"],
  [`${P}/a%zz`, "invalid percent-encoding"],
  // percent-encoded bytes that are not UTF-8, and raw non-ASCII
  [`${P}/%C0%AF`, "not valid UTF-8"],
  [`${P}/%FF`, "not valid UTF-8"],
  [`${P}/%E2%82`, "not valid UTF-8"],
  [`${P}/%ED%A0%80`, "not valid UTF-8"],
  [`${P}/ngin\u00ff`, "raw non-ASCII"],
  [`${P}/ngin\u00c3\u00a9`, "raw non-ASCII"],
  // needless encoding of unreserved characters and of "%" itself
  [`${P}/%6Eginx`, 'needless percent-encoding of "n"'],
  [`/api/v1/namespaces/default/pods/nginx%2Dx`, 'needless percent-encoding of "-"'],
  [`${P}/a%25b`, 'encoded "%"'],
  [`${P}/a%252Fb`, 'encoded "%"'],
  // request-target forms other than origin-form
  ["http://evil.example/api/v1/pods", "not origin-form"],
  ["https://127.0.0.1:6443/api/v1/pods", "not origin-form"],
  ["*", "not origin-form"],
  ["127.0.0.1:6443", "not origin-form"],
  ["", "not origin-form"],
  ["api/v1/pods", "not origin-form"],
  // fragments, matrix parameters and characters outside RFC 3986
  [`${P}/nginx#frag`, 'fragment ("#")'],
  [`${P}?watch=1#x`, 'fragment ("#")'],
  [`${P}/nginx;jsessionid=1`, '";" in path'],
  [`${P};/secrets`, '";" in path'],
  [`${P}/a%3Bb`, 'encoded ";"'],
  [`${P}/a"b`, 'character """'],
  [`${P}/a<b>`, 'character "<"'],
  [`${P}/a{b}`, 'character "{"'],
  [`${P}/a|b`, 'character "|"'],
  [`${P}/a[0]`, 'character "["'],
  [`${P}/a^b`, 'character "^"'],
  [`${P}/a\`b`, 'character "`"'],
  // overlong
  [`/api/v1/namespaces/default/pods/${"a".repeat(8200)}`, "path longer than 8192"],
  [`${P}?labelSelector=${"a".repeat(17000)}`, "longer than 16384"],
  // query: invalid encodings, ";" separators, NUL, duplicates
  [`${P}?watch=%`, "invalid percent-encoding"],
  [`${P}?watch=%G1`, "invalid percent-encoding"],
  [`${P}?labelSelector=%FF`, "not valid UTF-8"],
  [`${P}?la%C0belSelector=a`, "not valid UTF-8"],
  [`${P}?watch=false;watch=true`, '";" in query'],
  [`${P}?labelSelector=a%00b`, "NUL in query"],
  [`${P}?watch=false&watch=true`, 'duplicate query parameter "watch"'],
  [`${P}?fieldSelector=a%3Db&fieldSelector=c%3Dd`, 'duplicate query parameter "fieldSelector"'],
  [`${P}?labelSelector=a&labelSelector=b`, 'duplicate query parameter "labelSelector"'],
  [`${P}?dryRun=All&dryRun=`, 'duplicate query parameter "dryRun"'],
  [`${P}/x/exec?container=a&container=b`, 'duplicate query parameter "container"'],
  [`${P}/x/exec?tty=false&tty=true`, 'duplicate query parameter "tty"'],
  [`${P}/x/exec?stdin=0&stdin=1`, 'duplicate query parameter "stdin"'],
  [`${P}?limit=1&lim%69t=2`, 'duplicate query parameter "limit"'],
  [`${P}?watch=true&wat%63h=false`, 'duplicate query parameter "watch"'],
  [`${P}?a=b"c`, 'character """'],
  [`${P}?a=b\\c`, 'character "\\"'],
];

describe("checkRequestTarget refuses ambiguous targets with 400", () => {
  test("the corpus holds at least 40 ambiguous targets", () => {
    assert.ok(AMBIGUOUS.length >= 40, `${AMBIGUOUS.length}`);
  });
  for (const [raw, why] of AMBIGUOUS) {
    test(`refuses ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 60)}…` : raw)}`, () => {
      const got = checkRequestTarget(raw);
      assert.equal(got.ok, false, "must be refused");
      if (got.ok) return;
      assert.equal(got.status.code, 400);
      assert.equal(got.status.reason, "BadRequest");
      assert.equal(got.status.kind, "Status");
      assert.match(got.status.message ?? "", /^airlock: refused ambiguous (request path|query string): /);
      assert.ok(
        got.status.message?.includes(why),
        `message ${JSON.stringify(got.status.message)} lacks ${why}`,
      );
    });
  }
});

describe("checkRequestTarget passes clean targets unchanged", () => {
  for (const v of loadVectors()) {
    if (REFUSED_BY_HYGIENE[v.url]) continue;
    test(`vector ${v.method} ${v.url}`, () => {
      const got = checkRequestTarget(v.url);
      assert.ok(got.ok, got.ok ? "" : got.status.message);
      if (!got.ok) return;
      const q = v.url.indexOf("?");
      const rawPath = q === -1 ? v.url : v.url.slice(0, q);
      assert.equal(got.value.rawPath, rawPath);
      assert.equal(got.value.path, rawPath, "clean vector paths contain no percent-encoding");
      assert.equal(
        got.value.query.toString(),
        new URLSearchParams(q === -1 ? "" : v.url.slice(q + 1)).toString(),
      );
    });
  }

  for (const [raw, why] of Object.entries(REFUSED_BY_HYGIENE)) {
    test(`the vector ${raw} is refused on purpose (${why})`, () => {
      const got = checkRequestTarget(raw);
      assert.equal(got.ok, false);
      if (!got.ok) assert.ok(got.status.message?.includes(why));
    });
  }

  const clean: [string, string, Record<string, string[]>?][] = [
    ["/", "/"],
    ["/api/", "/api/"],
    ["/api/v1/namespaces/default/pods/nginx/", "/api/v1/namespaces/default/pods/nginx/"],
    [
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregate-to-admin",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregate-to-admin",
    ],
    // @kubernetes/client-node encodes ":" with encodeURIComponent
    [
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aaggregate-to-admin",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregate-to-admin",
    ],
    [
      "/api/v1/namespaces/default/services/web:8080/proxy/",
      "/api/v1/namespaces/default/services/web:8080/proxy/",
    ],
    [
      "/api/v1/namespaces/default/services/https:web:443/proxy/a",
      "/api/v1/namespaces/default/services/https:web:443/proxy/a",
    ],
    ["/api/v1/namespaces/default/configmaps/caf%C3%A9", "/api/v1/namespaces/default/configmaps/café"],
    ["/api/v1/namespaces/default/configmaps/a%20b", "/api/v1/namespaces/default/configmaps/a b"],
    ["/api/v1/namespaces/default/configmaps/a%3Fb", "/api/v1/namespaces/default/configmaps/a?b"],
    ["/api/v1/namespaces/default/pods/x.y.z", "/api/v1/namespaces/default/pods/x.y.z"],
    ["/api/v1/namespaces/default/pods/...", "/api/v1/namespaces/default/pods/..."],
    [
      "/api/v1/namespaces/default/pods/nginx/exec?command=sh&command=-c&command=echo+a%0Aecho+b&container=c&stdin=true",
      "/api/v1/namespaces/default/pods/nginx/exec",
      { command: ["sh", "-c", "echo a\necho b"], container: ["c"] },
    ],
    [
      "/api/v1/pods?labelSelector=app+in+(a,b)&fieldSelector=status.phase!%3DRunning",
      "/api/v1/pods",
      { labelSelector: ["app in (a,b)"], fieldSelector: ["status.phase!=Running"] },
    ],
    ["/api/v1/pods?", "/api/v1/pods", {}],
    ["/api/v1/pods?&&watch=1&", "/api/v1/pods", { watch: ["1"] }],
    ["/version?timeout=32s", "/version", { timeout: ["32s"] }],
  ];
  for (const [raw, path, params] of clean) {
    test(`accepts ${raw}`, () => {
      const got = checkRequestTarget(raw);
      assert.ok(got.ok, got.ok ? "" : got.status.message);
      if (!got.ok) return;
      assert.equal(got.value.path, path);
      for (const [k, v] of Object.entries(params ?? {})) assert.deepEqual(got.value.query.getAll(k), v, k);
    });
  }
});
