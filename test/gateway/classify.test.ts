import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classifyRequest } from "../../src/kube/classify/index.ts";
import { loadVectors, REFUSED_BY_HYGIENE } from "./classify-vectors.ts";

describe("classifyRequest", () => {
  for (const v of loadVectors()) {
    if (REFUSED_BY_HYGIENE[v.url] || v.error !== undefined) continue;
    test(`classifies vector ${v.method} ${v.url} like the apiserver`, () => {
      const got = classifyRequest(v.method, v.url, "prod");
      assert.ok(got.ok, got.ok ? "" : got.status.message);
      if (!got.ok) return;
      assert.equal(got.value.cluster, "prod");
      assert.equal(got.value.info.verb, v.verb);
      assert.equal(got.value.info.name, v.name);
      assert.equal(got.value.info.namespace, v.namespace);
      assert.equal(got.value.info.resource, v.resource);
      assert.equal(got.value.info.subresource, v.subresource);
    });
  }

  test("the vector with an encoded '/' is refused before RequestInfo", () => {
    const got = classifyRequest("GET", "/api/v1/namespaces/default/configmaps/a%2Fb", "prod");
    assert.equal(got.ok, false);
    if (!got.ok)
      assert.equal(got.status.message, 'airlock: refused ambiguous request path: encoded "/" in path (%2F)');
  });

  test("the apiserver's RequestInfo error comes back as its 500 Status", () => {
    const got = classifyRequest("GET", "/api/v1/watch", "prod");
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 500);
  });

  test("exec over WebSocket carries argv, container and flags, as action exec", () => {
    const got = classifyRequest(
      "GET",
      "/api/v1/namespaces/default/pods/nginx/exec?command=sh&command=-c&command=id&container=c&stdin=true&stdout=true&tty=true",
      "prod",
    );
    assert.ok(got.ok);
    if (!got.ok) return;
    assert.equal(got.value.action, "exec");
    assert.equal(got.value.info.verb, "get");
    assert.deepEqual(got.value.exec, {
      command: ["sh", "-c", "id"],
      container: "c",
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    });
  });

  test("exec over SPDY (POST) is the same action with the same argv", () => {
    const got = classifyRequest(
      "POST",
      "/api/v1/namespaces/default/pods/nginx/exec?command=ls&stdout=true",
      "prod",
    );
    assert.ok(got.ok);
    if (!got.ok) return;
    assert.equal(got.value.action, "exec");
    assert.equal(got.value.info.verb, "create");
    assert.deepEqual(got.value.exec?.command, ["ls"]);
  });

  test("attach carries flags and no argv; an argv on attach is refused", () => {
    const got = classifyRequest(
      "GET",
      "/api/v1/namespaces/default/pods/nginx/attach?stdin=true&stdout=true",
      "c",
    );
    assert.ok(got.ok);
    if (got.ok) assert.deepEqual(got.value.exec?.command, []);
    const bad = classifyRequest(
      "GET",
      "/api/v1/namespaces/default/pods/nginx/attach?command=sh&stdout=true",
      "c",
    );
    assert.equal(bad.ok, false);
  });

  test("an exec flag the apiserver reads differently is refused", () => {
    const got = classifyRequest("POST", "/api/v1/namespaces/default/pods/nginx/exec?command=sh&stdin=f", "c");
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 400);
  });

  test("an exec argv element with NUL is refused (the runtime would truncate what policy saw)", () => {
    const got = classifyRequest("POST", "/api/v1/namespaces/default/pods/nginx/exec?command=rm%00x", "c");
    assert.equal(got.ok, false);
  });

  test("non-exec requests carry no exec info, and the query is kept for later stages", () => {
    const got = classifyRequest(
      "GET",
      "/api/v1/namespaces/default/pods/nginx/log?follow=true&container=c",
      "c",
    );
    assert.ok(got.ok);
    if (!got.ok) return;
    assert.equal(got.value.exec, undefined);
    assert.equal(got.value.action, "get");
    assert.equal(got.value.query.get("follow"), "true");
  });
});
