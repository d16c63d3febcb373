import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveRequestInfo } from "../../src/kube/classify/index.ts";
import { loadVectors } from "./classify-vectors.ts";

const vectors = loadVectors();

/** Go's URL.Path and URL.Query() for a vector's URL (the vectors include one %2F that only Go-style decoding sees). */
function goRequest(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  return { path: decodeURIComponent(rawPath), query: new URLSearchParams(q === -1 ? "" : url.slice(q + 1)) };
}

describe("resolveRequestInfo agrees with kube-apiserver on every shared vector", () => {
  test("the vector file holds the 66 vectors of wire-protocol §1.2", () => {
    assert.equal(vectors.length, 66);
  });

  for (const [i, v] of vectors.entries()) {
    test(`vector ${i + 1}: ${v.method} ${v.url} (${v.note})`, () => {
      const { path, query } = goRequest(v.url);
      const got = resolveRequestInfo(v.method, path, query);
      if (v.error !== undefined) {
        assert.equal(got.ok, false, "the apiserver fails this request, so must we");
        if (got.ok) return;
        assert.equal(got.status.code, 500);
        assert.equal(got.status.reason, "InternalError");
        assert.equal(got.status.message, `failed to create RequestInfo: ${v.error}`);
        return;
      }
      assert.ok(got.ok, got.ok ? "" : got.status.message);
      if (!got.ok) return;
      const info = got.value;
      assert.deepEqual(
        {
          isResourceRequest: info.isResourceRequest,
          verb: info.verb,
          apiPrefix: info.apiPrefix,
          apiGroup: info.apiGroup,
          apiVersion: info.apiVersion,
          namespace: info.namespace,
          resource: info.resource,
          subresource: info.subresource,
          name: info.name,
          // Go leaves Parts nil on non-resource requests; our contract type is string[], so nil reads as [].
          parts: info.parts,
          fieldSelector: info.fieldSelector,
          labelSelector: info.labelSelector,
        },
        {
          isResourceRequest: v.isResourceRequest,
          verb: v.verb,
          apiPrefix: v.apiPrefix,
          apiGroup: v.apiGroup,
          apiVersion: v.apiVersion,
          namespace: v.namespace,
          resource: v.resource,
          subresource: v.subresource,
          name: v.name,
          parts: v.parts ?? [],
          fieldSelector: v.fieldSelector,
          labelSelector: v.labelSelector,
        },
      );
      assert.equal(info.path, path);
    });
  }
});

describe("resolveRequestInfo beyond the vectors", () => {
  const cases: [string, string, string, Partial<Record<string, unknown>>][] = [
    ["a watch value of FALSE is a list", "GET", "/api/v1/pods?watch=FALSE", { verb: "list" }],
    [
      "a watch value of 'no' is a watch (only 0 and false are false)",
      "GET",
      "/api/v1/pods?watch=no",
      { verb: "watch" },
    ],
    [
      "a bad labelSelector drops the field-selector name",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Dx&labelSelector=a%3D%3D%3Db",
      { verb: "list", name: "" },
    ],
    [
      "a valid labelSelector keeps the field-selector name",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Dx&labelSelector=app+in+(a,b),!tier",
      { verb: "list", name: "x", labelSelector: "app in (a,b),!tier" },
    ],
    [
      "timeoutSeconds that is not an int64 drops the name",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Dx&timeoutSeconds=9223372036854775808",
      { name: "" },
    ],
    [
      "limit=-5 still decodes (ParseInt accepts a sign)",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Dx&limit=-5",
      { name: "x" },
    ],
    [
      "an empty limit is a decode error",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Dx&limit=",
      { name: "" },
    ],
    [
      "a decode error keeps a raw watch",
      "GET",
      "/api/v1/pods?watch=true&limit=abc",
      { verb: "watch", name: "" },
    ],
    [
      "two name terms: the bytewise-first sorted term wins",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Db,metadata.name%3Da",
      { name: "a" },
    ],
    [
      "a field-selector name with % is not taken",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Da%25b",
      { name: "" },
    ],
    [
      "a field-selector name of .. is not taken",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3D..",
      { name: "" },
    ],
    [
      "an escaped comma in a field value belongs to the value",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Da%5C,b",
      { name: "a,b" },
    ],
    [
      "an unescaped = in a field value is a decode error",
      "GET",
      "/api/v1/pods?fieldSelector=metadata.name%3Da%3Db",
      { name: "" },
    ],
    [
      "the legacy watch path ignores selectors",
      "GET",
      "/api/v1/watch/pods?labelSelector=a%3Db",
      { verb: "watch", labelSelector: "" },
    ],
    [
      "deletecollection exposes the label selector",
      "DELETE",
      "/apis/apps/v1/namespaces/x/deployments?labelSelector=a%3Db",
      { verb: "deletecollection", labelSelector: "a=b" },
    ],
    [
      "a proxy path prefix with only a resource has no name",
      "GET",
      "/api/v1/proxy/nodes",
      { verb: "proxy", resource: "nodes", name: "" },
    ],
    ["a lower-case method is not mapped (Go compares exactly)", "get", "/api/v1/pods", { verb: "" }],
    [
      "a namespace's status keeps the namespace as name",
      "PUT",
      "/api/v1/namespaces/ns/status",
      { resource: "namespaces", name: "ns", subresource: "status", namespace: "ns" },
    ],
  ];
  for (const [title, method, url, want] of cases) {
    test(title, () => {
      const { path, query } = goRequest(url);
      const got = resolveRequestInfo(method, path, query);
      assert.ok(got.ok);
      if (!got.ok) return;
      for (const [k, v] of Object.entries(want))
        assert.deepEqual(got.value[k as keyof typeof got.value], v, k);
    });
  }

  test("a non-ASCII watch value is refused: the apiserver's two readings of it disagree", () => {
    const got = resolveRequestInfo("GET", "/api/v1/pods", new URLSearchParams("watch=fal%C5%BFe"));
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 400);
  });

  test("/apis/apps/v1/watch alone is the apiserver's 500", () => {
    const got = resolveRequestInfo("GET", "/apis/apps/v1/watch", new URLSearchParams());
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 500);
  });
});
