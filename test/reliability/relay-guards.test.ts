// The masked relay when the client is already gone: the race behind issue 16's crash (ERR_STREAM_UNABLE_TO_PIPE),
// pinned down deterministically. A real HTTP server's response whose client disconnected is handed a masked upstream
// answer that completes afterwards; the relay must end the request (hooks.done) and throw nothing.
import assert from "node:assert/strict";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { forwardHttp } from "../../src/gateway/forward/http.ts";
import { MaskingTransform, relayMasked } from "../../src/gateway/transform/index.ts";
import type { KubeRequest } from "../../src/kube/request.ts";
import { BUILTIN_PROFILES, createPlaceholders, WatchStreamMasker } from "../../src/mask/index.ts";
import type { Upstream } from "../../src/upstream/index.ts";

const profile = BUILTIN_PROFILES.get("default");
const kube = {
  info: { verb: "list", resource: "secrets", subresource: "" },
  query: new URLSearchParams(),
} as unknown as KubeRequest;

/** A server response whose client has disconnected (the request arrived, then the socket was destroyed). */
async function orphanedResponse(): Promise<{ res: ServerResponse; close(): void }> {
  let resolveRes: (res: ServerResponse) => void = () => {};
  const got = new Promise<ServerResponse>((r) => {
    resolveRes = r;
  });
  const server = http.createServer((_req, res) => resolveRes(res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const client = http.get({ port, host: "127.0.0.1", path: "/" });
  client.on("error", () => {});
  const res = await got;
  client.destroy();
  await once(res, "close");
  return { res, close: () => server.close() };
}

function upstreamAnswer(): IncomingMessage {
  const body = new PassThrough();
  Object.assign(body, { headers: { "content-type": "application/json" }, statusCode: 200 });
  return body as unknown as IncomingMessage;
}

test("a masked answer that completes after its client left ends the request without throwing", {
  timeout: 10_000,
}, async () => {
  assert.ok(profile);
  const { res, close } = await orphanedResponse();
  const upstream = upstreamAnswer();
  const done = new Promise<{ status: number; error?: string }>((resolve) => {
    relayMasked(
      {
        profile,
        placeholders: createPlaceholders(Buffer.alloc(32, 1)),
        counts: new Map(),
        detectors: profile.detectors,
      },
      kube,
      upstream,
      res,
      200,
      {},
      { onBytes: () => {}, done: (status, error) => resolve({ status, ...(error ? { error } : {}) }) },
    );
  });
  (upstream as unknown as PassThrough).end(
    JSON.stringify({ kind: "SecretList", items: [{ kind: "Secret", data: { p: "c2VjcmV0" } }] }),
  );
  const result = await done;
  assert.equal(result.status, 499);
  assert.match(result.error ?? "", /client closed the connection/);
  assert.ok(upstream.destroyed, "the upstream answer is released");
  close();
});

test("a client that leaves while the upstream request is being opened: nothing is sent, nothing escapes", {
  timeout: 10_000,
}, async () => {
  let resolveRes: (res: ServerResponse) => void = () => {};
  const got = new Promise<ServerResponse>((r) => {
    resolveRes = r;
  });
  const server = http.createServer((_req, res) => resolveRes(res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const client = http.get({ port, host: "127.0.0.1", path: "/" });
  client.on("error", () => {});
  const res = await got;
  let sent = 0;
  const upstream = {
    name: "sim",
    invalidate() {},
    // The credential takes a moment (an exec plugin, an EKS token): the client leaves meanwhile.
    async requestOptions() {
      client.destroy();
      await once(res, "close");
      sent++;
      return {
        host: "127.0.0.1",
        port,
        path: "/",
        method: "GET",
        headers: [] as string[],
        rejectUnauthorized: false,
      };
    },
  } as unknown as Upstream;
  const result = await forwardHttp("GET", res, {
    upstream,
    pathAndQuery: "/",
    headers: [],
    body: undefined,
    timeoutMs: 1000,
    onOpen: () => () => {},
  });
  assert.equal(result.status, 499);
  assert.match(result.upstreamError ?? "", /client closed the connection before the request was sent/);
  // The cancelled upstream request's own error has an owner: give it a turn to escape (the preload would fail us).
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sent, 1);
  server.close();
});

/** A server response whose client stays connected; `received` settles with what the client got. */
async function connectedResponse(): Promise<{
  res: ServerResponse;
  received: Promise<{ status: number; body: string; complete: boolean }>;
  close(): void;
}> {
  let resolveRes: (res: ServerResponse) => void = () => {};
  const got = new Promise<ServerResponse>((r) => {
    resolveRes = r;
  });
  const server = http.createServer((_req, res) => resolveRes(res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const received = new Promise<{ status: number; body: string; complete: boolean }>((resolve) => {
    const client = http.get({ port, host: "127.0.0.1", path: "/" }, (r) => {
      let body = "";
      r.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      r.on("error", () => {});
      r.on("close", () => resolve({ status: r.statusCode ?? 0, body, complete: r.complete }));
    });
    client.on("error", () => resolve({ status: 0, body: "", complete: false }));
  });
  return { res: await got, received, close: () => server.close() };
}

function relay(kind: KubeRequest, upstream: IncomingMessage, res: ServerResponse) {
  assert.ok(profile);
  return new Promise<{ status: number; error?: string }>((resolve) => {
    relayMasked(
      {
        profile,
        placeholders: createPlaceholders(Buffer.alloc(32, 1)),
        counts: new Map(),
        detectors: profile.detectors,
      },
      kind,
      upstream,
      res,
      200,
      { "content-type": "application/json" },
      { onBytes: () => {}, done: (status, error) => resolve({ status, ...(error ? { error } : {}) }) },
    );
  });
}

test("a masked watch whose upstream breaks off mid-stream is cut at the client, never ended as complete", {
  timeout: 10_000,
}, async () => {
  const { res, received, close } = await connectedResponse();
  const upstream = upstreamAnswer();
  const watch = {
    info: { verb: "watch", resource: "secrets", subresource: "" },
    query: new URLSearchParams("watch=1"),
  } as unknown as KubeRequest;
  const done = relay(watch, upstream, res);
  const secret = { kind: "Secret", metadata: { name: "a" }, data: { p: "c2VjcmV0" } };
  (upstream as unknown as PassThrough).write(
    `${JSON.stringify({ type: "ADDED", object: secret })}\n{"type":"ADD`,
  );
  await new Promise((r) => setTimeout(r, 50));
  upstream.destroy(); // the cluster's connection broke: no 'end'
  const result = await done;
  assert.match(result.error ?? "", /masking stopped the response: the cluster's response ended early/);
  const got = await received;
  assert.equal(got.status, 200);
  assert.equal(got.complete, false, "the client must see a cut response, not a complete one");
  assert.ok(!got.body.includes("c2VjcmV0"), "the first event went out masked");
  close();
});

test("a masked object whose upstream breaks off mid-body is answered 502, not a truncated 200", {
  timeout: 10_000,
}, async () => {
  const { res, received, close } = await connectedResponse();
  const upstream = upstreamAnswer();
  const done = relay(kube, upstream, res);
  (upstream as unknown as PassThrough).write(
    '{"kind":"SecretList","items":[{"kind":"Secret","data":{"p":"c2Vj',
  );
  await new Promise((r) => setTimeout(r, 50));
  upstream.destroy();
  const result = await done;
  assert.equal(result.status, 502);
  const got = await received;
  assert.equal(got.status, 502);
  assert.match(got.body, /masking failed/);
  close();
});

test("a masked watch writes the events of one upstream chunk as one chunk (one write per read, not per event)", async () => {
  assert.ok(profile);
  const counts = new Map();
  const t = new MaskingTransform(
    new WatchStreamMasker({ profile, ph: createPlaceholders(Buffer.alloc(32, 1)), counts }, "Secret"),
    { profile: "default", counts, stream: true, bufferLimit: 1024 },
  );
  const chunks: Buffer[] = [];
  t.on("data", (c: Buffer) => chunks.push(c));
  const event = (name: string) =>
    `${JSON.stringify({ type: "ADDED", object: { kind: "Secret", metadata: { name }, data: { p: "c2VjcmV0" } } })}\n`;
  t.write(Buffer.from(event("a") + event("b") + event("c")));
  t.end();
  await once(t, "end");
  assert.equal(chunks.length, 1, `one chunk for one upstream read, got ${chunks.length}`);
  const lines = Buffer.concat(chunks).toString().trim().split("\n");
  assert.equal(lines.length, 3);
  assert.ok(!lines.join("").includes("c2VjcmV0"), "masked");
});
