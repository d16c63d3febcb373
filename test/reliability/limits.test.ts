// Bounded resources: one identity's long-running streams are limited (limits.maxStreamsPerIdentity). Beyond the
// limit a watch (HTTP/2) or an exec (WebSocket upgrade) is answered 429 with a Status that names the limit, counted in
// airlock_limit_refusals_total; other identities are not affected, and closing a stream frees its place.
import assert from "node:assert/strict";
import http2, { type ClientHttp2Session } from "node:http2";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let agent: string;
let other: string;
const sessions: ClientHttp2Session[] = [];

/** Opens a watch; resolves with its status and a close function once the head arrived. */
function watch(token: string): Promise<{ status: number; body: () => string; close(): void }> {
  const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
  sessions.push(session);
  session.on("error", () => {});
  const stream = session.request({
    ":path": "/api/v1/namespaces/prod/pods?watch=1",
    authorization: `Bearer ${token}`,
  });
  stream.on("error", () => {});
  let text = "";
  stream.setEncoding("utf8").on("data", (d: string) => {
    text += d;
  });
  return new Promise((resolve) =>
    stream.on("response", (h) =>
      resolve({ status: Number(h[":status"]), body: () => text, close: () => session.destroy() }),
    ),
  );
}

before(async () => {
  gw = await startTestGateway({ limits: { maxStreamsPerIdentity: 2 } });
  ({ token: agent } = await gw.addIdentity("busy-agent", "agent", ["agents"]));
  ({ token: other } = await gw.addIdentity("other-agent", "agent", ["agents"]));
});
after(async () => {
  for (const s of sessions) s.destroy();
  await gw.close();
});

const registered = async (n: number) => {
  for (let i = 0; i < 50 && gw.gateway.runtime.streams.count() < n; i++)
    await new Promise((r) => setTimeout(r, 50));
};

test("a third stream of one identity is refused with 429 naming the limit; others are not affected", async () => {
  const first = await watch(agent);
  const second = await watch(agent);
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  await registered(2);

  const third = await watch(agent);
  assert.equal(third.status, 429);
  await new Promise((r) => setTimeout(r, 100));
  const status = JSON.parse(third.body());
  assert.equal(status.kind, "Status");
  assert.match(status.message, /busy-agent already has 2 open streams.*limits\.maxStreamsPerIdentity/);

  // An exec upgrade counts against the same limit.
  const pods = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", agent);
  const pod = pods.body.items[0].metadata.name;
  const url = new URL(gw.gateway.url);
  const answer = await new Promise<string>((resolve) => {
    const s = tlsConnect(
      { host: url.hostname, port: Number(url.port), ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] },
      () =>
        s.write(
          `GET /api/v1/namespaces/prod/pods/${pod}/exec?command=true&stdout=true HTTP/1.1\r\nHost: x\r\n` +
            `Authorization: Bearer ${agent}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
        ),
    );
    let text = "";
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
    });
    s.on("error", () => {});
    s.on("close", () => resolve(text));
  });
  assert.match(answer, /^HTTP\/1\.1 429 /);

  // Another identity still watches; closing one of the first two frees a place.
  assert.equal((await watch(other)).status, 200);
  first.close();
  let again = await watch(agent);
  for (let i = 0; i < 20 && again.status === 429; i++) {
    await new Promise((r) => setTimeout(r, 100));
    again = await watch(agent);
  }
  assert.equal(again.status, 200);

  const metrics = await new Promise<string>((resolve, reject) => {
    const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
    sessions.push(session);
    const s = session.request({ ":path": "/metrics" });
    let text = "";
    s.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
  assert.match(metrics, /airlock_limit_refusals_total\{limit="maxStreamsPerIdentity"\} [2-9]/);
});
