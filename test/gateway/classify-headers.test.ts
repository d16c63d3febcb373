import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IMPERSONATION_REFUSED, inspectClientHeaders } from "../../src/kube/classify/index.ts";

const KUBECTL = [
  "Host",
  "127.0.0.1:8443",
  "User-Agent",
  "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07",
  "Authorization",
  "Bearer secret-token",
  "Accept",
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
  "Kubectl-Command",
  "kubectl get",
  "Kubectl-Session",
  "5b0f1c2e-uuid",
  "Accept-Encoding",
  "gzip",
];

describe("inspectClientHeaders", () => {
  test("kubectl's ordinary headers are forwarded in order; credentials, Host and Accept-Encoding dropped", () => {
    const got = inspectClientHeaders(KUBECTL);
    assert.deepEqual(got, {
      ok: true,
      value: {
        forward: [
          ["User-Agent", "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07"],
          ["Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"],
          ["Kubectl-Command", "kubectl get"],
          ["Kubectl-Session", "5b0f1c2e-uuid"],
        ],
      },
    });
  });

  for (const name of [
    "Impersonate-User",
    "impersonate-user",
    "IMPERSONATE-GROUP",
    "Impersonate-Uid",
    "Impersonate-Extra-Reason",
    "Impersonate-Extra-Scopes.example.com%2fticket",
  ]) {
    test(`a client-supplied ${name} is refused with 403`, () => {
      const got = inspectClientHeaders([...KUBECTL, name, "system:admin"]);
      assert.equal(got.ok, false);
      if (got.ok) return;
      assert.equal(got.status.code, 403);
      assert.equal(got.status.reason, "Forbidden");
      assert.equal(got.status.message, IMPERSONATION_REFUSED);
    });
  }

  const dropped = [
    "X-Remote-User",
    "x-remote-group",
    "X-Remote-Extra-Scopes",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "Forwarded",
    "X-Real-Ip",
    "X-Airlock-Identity",
    "Airlock-Decision",
    "AIRLOCK-REVIEW",
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Host",
    "Content-Length",
  ];
  for (const name of dropped) {
    test(`${name} is not forwarded`, () => {
      const got = inspectClientHeaders(["Accept", "*/*", name, "x", "User-Agent", "ua"]);
      assert.deepEqual(got, {
        ok: true,
        value: {
          forward: [
            ["Accept", "*/*"],
            ["User-Agent", "ua"],
          ],
        },
      });
    });
  }

  test("headers named by Connection are hop-by-hop and not forwarded", () => {
    const got = inspectClientHeaders([
      "Connection",
      "keep-alive, X-Secret-Hop ,Upgrade",
      "X-Secret-Hop",
      "1",
      "Upgrade",
      "websocket",
      "X-Stream-Protocol-Version",
      "v5.channel.k8s.io",
    ]);
    assert.deepEqual(got, {
      ok: true,
      value: { forward: [["X-Stream-Protocol-Version", "v5.channel.k8s.io"]] },
    });
  });

  test("connection-scoped headers are not forwarded: HTTP/2 pseudo-headers, WebSocket handshake, Expect, Accept-Encoding", () => {
    const got = inspectClientHeaders([
      ":authority",
      "127.0.0.1:8443",
      "Sec-WebSocket-Key",
      "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Protocol",
      "v5.channel.k8s.io",
      "Expect",
      "100-continue",
      "Accept-Encoding",
      "gzip",
      "Accept",
      "application/json",
    ]);
    assert.deepEqual(got, { ok: true, value: { forward: [["Accept", "application/json"]] } });
  });

  test("a duplicate Content-Type is refused with 400", () => {
    const got = inspectClientHeaders([
      "Content-Type",
      "application/json",
      "content-type",
      "application/yaml",
    ]);
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 400);
  });

  test("a duplicate Content-Length is refused with 400", () => {
    const got = inspectClientHeaders(["Content-Length", "0", "Content-Length", "0"]);
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 400);
  });

  test("repeated ordinary headers (X-Stream-Protocol-Version) stay visible, each as its own line", () => {
    const got = inspectClientHeaders([
      "X-Stream-Protocol-Version",
      "v5.channel.k8s.io",
      "X-Stream-Protocol-Version",
      "v4.channel.k8s.io",
      "Content-Type",
      "application/json",
    ]);
    assert.deepEqual(got, {
      ok: true,
      value: {
        forward: [
          ["X-Stream-Protocol-Version", "v5.channel.k8s.io"],
          ["X-Stream-Protocol-Version", "v4.channel.k8s.io"],
          ["Content-Type", "application/json"],
        ],
      },
    });
  });

  test("a header value carrying CR, LF or NUL is refused", () => {
    for (const v of ["a\r\nX-Injected: 1", "a\nb", "a\0b"]) {
      const got = inspectClientHeaders(["Accept", v]);
      assert.equal(got.ok, false, JSON.stringify(v));
    }
  });

  test("impersonation is refused even when Connection tries to declare it hop-by-hop", () => {
    const got = inspectClientHeaders(["Connection", "Impersonate-User", "Impersonate-User", "admin"]);
    assert.equal(got.ok, false);
    if (!got.ok) assert.equal(got.status.code, 403);
  });
});
