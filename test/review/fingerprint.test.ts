// The fingerprint an approval is bound to: the same request always gives the same one; any change in who, where,
// what, the body bytes, the Content-Type, the exec argv or flags, or the justification gives another.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { canonicalQuery, requestFingerprint } from "../../src/review/fingerprint.ts";

function fp(
  opts: {
    method?: string;
    url?: string;
    body?: string;
    identityId?: string;
    cluster?: string;
    contentType?: string;
    contentEncoding?: string;
    justification?: string | null;
  } = {},
): string {
  const method = opts.method ?? "DELETE";
  const cluster = opts.cluster ?? "prod-cluster";
  const classified = classifyRequest(
    method,
    opts.url ?? "/apis/apps/v1/namespaces/prod/deployments/web",
    cluster,
  );
  assert.ok(classified.ok);
  return requestFingerprint({
    identityId: opts.identityId ?? "id-agent",
    cluster,
    kube: classified.value,
    body: opts.body === undefined ? undefined : Buffer.from(opts.body),
    contentType: "contentType" in opts ? opts.contentType : "application/json",
    contentEncoding: opts.contentEncoding,
    justification: "justification" in opts ? opts.justification : "rotate the pods",
  });
}

const EXEC = "/api/v1/namespaces/prod/pods/web-1/exec?container=app&stdout=true&stderr=true";

describe("request fingerprint", () => {
  test("the same request gives the same fingerprint, whatever the query order", () => {
    assert.equal(
      fp({ body: '{"propagationPolicy":"Background"}' }),
      fp({ body: '{"propagationPolicy":"Background"}' }),
    );
    assert.match(fp(), /^[0-9a-f]{64}$/);
    assert.equal(
      fp({ url: `${EXEC}&command=ls&command=-l` }),
      fp({ url: `${EXEC.replace("container=app&", "")}&command=ls&command=-l&container=app` }),
    );
  });

  const base = { body: '{"propagationPolicy":"Background"}' };
  const variants: [string, Parameters<typeof fp>[0]][] = [
    ["another name", { ...base, url: "/apis/apps/v1/namespaces/prod/deployments/api" }],
    ["another namespace", { ...base, url: "/apis/apps/v1/namespaces/staging/deployments/web" }],
    ["another resource", { ...base, url: "/apis/apps/v1/namespaces/prod/statefulsets/web" }],
    ["another API group", { ...base, url: "/apis/extensions/v1beta1/namespaces/prod/deployments/web" }],
    ["a subresource", { ...base, url: "/apis/apps/v1/namespaces/prod/deployments/web/scale" }],
    ["another body", { body: '{"propagationPolicy":"Foreground"}' }],
    ["the same body with other whitespace", { body: '{"propagationPolicy": "Background"}' }],
    ["no body", {}],
    ["another identity", { ...base, identityId: "id-other" }],
    ["another cluster", { ...base, cluster: "staging-cluster" }],
    ["another verb", { ...base, method: "PATCH" }],
    ["a read of the same object", { ...base, method: "GET" }],
    ["a dry run", { ...base, url: "/apis/apps/v1/namespaces/prod/deployments/web?dryRun=All" }],
    [
      "a strategic-merge patch instead of a merge patch",
      { ...base, contentType: "application/strategic-merge-patch+json" },
    ],
    ["another spelling of the Content-Type", { ...base, contentType: "application/json; charset=utf-8" }],
    ["no Content-Type", { ...base, contentType: undefined }],
    ["a Content-Encoding", { ...base, contentEncoding: "gzip" }],
    ["another justification", { ...base, justification: "rotate the pods (already approved by alice)" }],
    ["no justification", { ...base, justification: null }],
  ];
  for (const [what, opts] of variants) {
    test(`${what} gives another fingerprint`, () => {
      assert.notEqual(fp(opts), fp(base));
    });
  }

  test("another exec argv gives another fingerprint, even one argument apart", () => {
    const ls = fp({ method: "GET", url: `${EXEC}&command=ls&command=-l` });
    assert.notEqual(ls, fp({ method: "GET", url: `${EXEC}&command=ls&command=-la` }));
    assert.notEqual(ls, fp({ method: "GET", url: `${EXEC}&command=ls` }));
    assert.notEqual(ls, fp({ method: "GET", url: `${EXEC}&command=-l&command=ls` }), "argv order matters");
  });

  test("another exec container, stdin or tty flag gives another fingerprint", () => {
    const plain = fp({ method: "GET", url: `${EXEC}&command=sh` });
    const flags = [
      EXEC.replace("container=app", "container=sidecar"),
      `${EXEC}&stdin=true`,
      `${EXEC}&tty=true`,
      `${EXEC}&stdin=true&tty=true`,
      EXEC.replace("&stderr=true", ""),
    ];
    const seen = new Set([plain]);
    for (const url of flags) seen.add(fp({ method: "GET", url: `${url}&command=sh` }));
    assert.equal(seen.size, flags.length + 1, "each flag set has its own fingerprint");
  });

  test("exec over a WebSocket GET and its SPDY POST fallback are the same request", () => {
    const url = `${EXEC}&command=ls`;
    assert.equal(fp({ method: "GET", url }), fp({ method: "POST", url }));
  });

  test("canonicalQuery sorts by name and keeps repeated values in the order sent", () => {
    assert.deepEqual(canonicalQuery(new URLSearchParams("b=2&a=9&a=1")), [
      ["a", "9"],
      ["a", "1"],
      ["b", "2"],
    ]);
  });
});
