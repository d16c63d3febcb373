// Bounded resources at the listener and per request (issue 16 §6): connections per client address, a slowloris
// client (request head a byte at a time; a TLS session that never sends a request), oversized headers (HTTP/1.1 and
// HTTP/2), an oversized and a too-deep body, a body that never finishes, too many requests in flight for one
// identity, simultaneous stream opens, idle keep-alive connections and HTTP/2 sessions. Each refusal is a Kubernetes
// Status naming the limit, counted in airlock_limit_refusals_total{limit}; after each, the gateway serves others.
import assert from "node:assert/strict";
import http2, { type ClientHttp2Session } from "node:http2";
import { after, before, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let agent: string;
let other: string;
const open: { destroy(): void }[] = [];

const LIMITS = {
  maxConnectionsPerClient: 8,
  maxInFlightPerIdentity: 2,
  maxStreamsPerIdentity: 2,
  maxHeaderBytes: 4096,
  maxRequestBodyBytes: 4096,
  requestHeaderTimeoutSeconds: 1,
  requestTimeoutSeconds: 1.5,
  idleTimeoutSeconds: 1.5,
};

before(async () => {
  gw = await startTestGateway({ limits: LIMITS });
  ({ token: agent } = await gw.addIdentity("busy-agent", "agent", ["agents"]));
  ({ token: other } = await gw.addIdentity("other-agent", "agent", ["agents"]));
});
after(async () => {
  for (const o of open) o.destroy();
  await gw.close();
});

function tlsH1(): Promise<TLSSocket> {
  const url = new URL(gw.gateway.url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect(
      { host: url.hostname, port: Number(url.port), ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] },
      () => resolve(s),
    );
    open.push(s);
    s.on("error", reject);
  });
}

/** Everything the server sends until it closes the connection, and when it closed (ms after the call). */
function untilClosed(s: TLSSocket): Promise<{ text: string; afterMs: number }> {
  const t0 = Date.now();
  let text = "";
  s.on("data", (d: Buffer) => {
    text += d.toString("latin1");
  });
  return new Promise((resolve) => s.on("close", () => resolve({ text, afterMs: Date.now() - t0 })));
}

function statusOf(raw: string): { code: number; status: { kind: string; message: string; code: number } } {
  const code = Number(raw.slice(9, 12));
  const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  return { code, status: JSON.parse(body) };
}

function h2(): ClientHttp2Session {
  const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
  session.on("error", () => {});
  open.push(session);
  return session;
}

/** One HTTP/2 request; resolves with status and body once the stream ends. */
function h2Request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let text = "";
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    stream.on("end", () => resolve({ status, text }));
    stream.on("error", reject);
    stream.end(body);
  });
}

async function refusals(limit: string): Promise<number> {
  const session = h2();
  const { text } = await h2Request(session, { ":path": "/metrics" });
  session.close();
  const m = text.match(new RegExp(`airlock_limit_refusals_total\\{limit="${limit}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

async function stillServes(): Promise<void> {
  const answer = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", other);
  assert.equal(answer.code, 200);
}

test("a client over limits.maxConnectionsPerClient gets a 429 Status on its extra connection; others work after", async () => {
  const held: TLSSocket[] = [];
  for (let i = 0; i < LIMITS.maxConnectionsPerClient; i++) held.push(await tlsH1());
  const extra = await tlsH1();
  const answer = untilClosed(extra);
  extra.write(
    `GET /api/v1/namespaces/prod/pods HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\n\r\n`,
  );
  const { text } = await answer;
  const { code, status } = statusOf(text);
  assert.equal(code, 429);
  assert.equal(status.kind, "Status");
  assert.match(status.message, /limits\.maxConnectionsPerClient/);
  assert.match(text, /\r\nretry-after: 1\r\n/i);
  for (const s of held) s.destroy();
  // Once the held connections are gone, the same address is served again.
  for (let i = 0; ; i++) {
    try {
      await stillServes();
      break;
    } catch (err) {
      if (i > 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok((await refusals("maxConnectionsPerClient")) >= 1);
});

test("slowloris: a request head sent a byte at a time gets a 408 Status after limits.requestHeaderTimeoutSeconds", async () => {
  const s = await tlsH1();
  const answer = untilClosed(s);
  s.write("GET /api/v1/namespaces/prod/pods HTTP/1.1\r\nHost: x\r\n");
  const trickle = setInterval(() => s.writable && s.write("X"), 200);
  const { text, afterMs } = await answer;
  clearInterval(trickle);
  const { code, status } = statusOf(text);
  assert.equal(code, 408);
  assert.match(status.message, /did not arrive within 1 s \(limits\.requestHeaderTimeoutSeconds\)/);
  assert.ok(afterMs < 4000, `closed after ${afterMs} ms`);
  // A TLS session that never opens a stream is closed too.
  const session = h2();
  const closed = await new Promise<number>((resolve) => {
    const t0 = Date.now();
    session.on("close", () => resolve(Date.now() - t0));
  });
  assert.ok(closed < 4000, `HTTP/2 session closed after ${closed} ms`);
  await stillServes();
  assert.ok((await refusals("requestHeaderTimeoutSeconds")) >= 2);
});

test("oversized headers are answered 431 with a Status naming limits.maxHeaderBytes (HTTP/1.1 and HTTP/2)", async () => {
  const s = await tlsH1();
  const answer = untilClosed(s);
  s.write(`GET /api/v1/namespaces/prod/pods HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(6000)}\r\n\r\n`);
  const h1 = statusOf((await answer).text);
  assert.equal(h1.code, 431);
  assert.match(h1.status.message, /exceed 4096 bytes \(limits\.maxHeaderBytes\)/);

  const session = h2();
  const h2Answer = await h2Request(session, {
    ":path": "/api/v1/namespaces/prod/pods",
    authorization: `Bearer ${agent}`,
    "x-big": "a".repeat(6000),
  });
  assert.equal(h2Answer.status, 431);
  assert.match(JSON.parse(h2Answer.text).message, /limits\.maxHeaderBytes/);
  session.close();
  await stillServes();
  assert.ok((await refusals("maxHeaderBytes")) >= 2);
});

test("bodies: too large 413, too deep 400, too slow 408 — each a Status naming what to change", async () => {
  const session = h2();
  const post = (body: string | undefined, extra: Record<string, string> = {}) =>
    h2Request(
      session,
      {
        ":method": "POST",
        ":path": "/api/v1/namespaces/prod/configmaps",
        authorization: `Bearer ${agent}`,
        "content-type": "application/json",
        ...extra,
      },
      body,
    );
  const big = await post(JSON.stringify({ kind: "ConfigMap", data: { a: "x".repeat(8000) } }));
  assert.equal(big.status, 413);
  assert.match(JSON.parse(big.text).message, /exceeds 4096 bytes \(limits\.maxRequestBodyBytes\)/);
  const deep = await post(`${"[".repeat(600)}${"]".repeat(600)}`);
  assert.equal(deep.status, 400);
  assert.match(JSON.parse(deep.text).message, /nested deeper than 512 levels/);

  // A body that never ends: its head arrived, the rest does not.
  const slow = await new Promise<{ status: number; text: string; afterMs: number }>((resolve, reject) => {
    const t0 = Date.now();
    const stream = session.request({
      ":method": "POST",
      ":path": "/api/v1/namespaces/prod/configmaps",
      authorization: `Bearer ${agent}`,
      "content-type": "application/json",
    });
    stream.write('{"kind":');
    let status = 0;
    let text = "";
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    stream.on("end", () => resolve({ status, text, afterMs: Date.now() - t0 }));
    stream.on("error", reject);
  });
  assert.equal(slow.status, 408);
  assert.match(JSON.parse(slow.text).message, /did not arrive within 1\.5 s .*limits\.requestTimeoutSeconds/);
  assert.ok(slow.afterMs < 5000);
  session.close();
  await stillServes();
  assert.ok((await refusals("maxRequestBodyBytes")) >= 1);
  assert.ok((await refusals("requestTimeoutSeconds")) >= 1);
});

test("requests in flight: one identity beyond limits.maxInFlightPerIdentity gets 429; another is served", async () => {
  const session = h2();
  // Two requests whose bodies are still arriving hold the identity's two places.
  const held = [0, 1].map(() => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/api/v1/namespaces/prod/configmaps",
      authorization: `Bearer ${agent}`,
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.write("{");
    return stream;
  });
  await new Promise((r) => setTimeout(r, 400));
  const third = await h2Request(session, {
    ":path": "/api/v1/namespaces/prod/pods",
    authorization: `Bearer ${agent}`,
  });
  assert.equal(third.status, 429);
  assert.match(
    JSON.parse(third.text).message,
    /busy-agent already has 2 requests in flight.*limits\.maxInFlightPerIdentity/,
  );
  await stillServes();
  for (const s of held) s.close();
  // The places are given back when those requests end.
  let again = third;
  for (let i = 0; i < 30 && again.status === 429; i++) {
    await new Promise((r) => setTimeout(r, 100));
    again = await h2Request(session, {
      ":path": "/api/v1/namespaces/prod/pods",
      authorization: `Bearer ${agent}`,
    });
  }
  assert.equal(again.status, 200);
  session.close();
  assert.ok((await refusals("maxInFlightPerIdentity")) >= 1);
});

test("simultaneous stream opens: exactly limits.maxStreamsPerIdentity of them pass", async () => {
  const session = h2();
  const opens = Array.from(
    { length: 8 },
    () =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({
          ":path": "/api/v1/namespaces/prod/pods?watch=1",
          authorization: `Bearer ${agent}`,
        });
        stream.on("response", (h) => resolve(Number(h[":status"])));
        stream.on("error", reject);
        stream.resume();
      }),
  );
  const codes = await Promise.all(opens);
  assert.equal(codes.filter((c) => c === 200).length, LIMITS.maxStreamsPerIdentity, `codes ${codes}`);
  assert.equal(codes.filter((c) => c === 429).length, 8 - LIMITS.maxStreamsPerIdentity);
  // The open watches keep their session alive past the idle timeout: a connection with a stream is not idle.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(session.closed || session.destroyed, false);
  session.destroy();
  await stillServes();
});

test("idle keep-alive connections and HTTP/2 sessions are closed after limits.idleTimeoutSeconds", async () => {
  const s = await tlsH1();
  const answer = untilClosed(s);
  s.write(`GET /api/v1/namespaces/prod/pods HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\n\r\n`);
  const { text, afterMs } = await answer;
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.ok(afterMs >= 1000 && afterMs < 5000, `kept-alive connection closed after ${afterMs} ms`);

  const session = h2();
  const first = await h2Request(session, {
    ":path": "/api/v1/namespaces/prod/pods",
    authorization: `Bearer ${agent}`,
  });
  assert.equal(first.status, 200);
  const t0 = Date.now();
  await new Promise<void>((resolve) => session.on("close", () => resolve()));
  const idle = Date.now() - t0;
  assert.ok(idle >= 1000 && idle < 5000, `idle HTTP/2 session closed after ${idle} ms`);
  await stillServes();
});
