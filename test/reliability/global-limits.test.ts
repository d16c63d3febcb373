// The gateway-wide limits (issue 16 §6): connections in total (limits.maxConnections) and ordinary requests in
// flight in total (limits.maxInFlightRequests), whoever opens them; and a TCP client that never starts its TLS
// handshake is cut after limits.requestHeaderTimeoutSeconds. Each refusal is a Status naming the limit; the gateway
// serves again once the load is gone.
import assert from "node:assert/strict";
import http2, { type ClientHttp2Session } from "node:http2";
import { connect as netConnect } from "node:net";
import { after, before, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let first: string;
let second: string;
const open: { destroy(): void }[] = [];

before(async () => {
  gw = await startTestGateway({
    limits: {
      maxConnections: 4,
      maxInFlightRequests: 2,
      maxInFlightPerIdentity: 10,
      requestHeaderTimeoutSeconds: 1,
    },
  });
  ({ token: first } = await gw.addIdentity("first-agent", "agent", ["agents"]));
  ({ token: second } = await gw.addIdentity("second-agent", "agent", ["agents"]));
});
after(async () => {
  for (const o of open) o.destroy();
  await gw.close();
});

function h2(): ClientHttp2Session {
  const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
  session.on("error", () => {});
  open.push(session);
  return session;
}

function get(session: ClientHttp2Session, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":path": "/api/v1/namespaces/prod/pods",
      authorization: `Bearer ${token}`,
    });
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
  });
}

test("limits.maxInFlightRequests counts every identity's requests together", async () => {
  const session = h2();
  // Two requests of two identities whose bodies are still arriving fill the gateway's two places.
  const held = [first, second].map((token) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/api/v1/namespaces/prod/configmaps",
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.write("{");
    return stream;
  });
  await new Promise((r) => setTimeout(r, 400));
  const third = await get(session, second);
  assert.equal(third.status, 429);
  assert.match(JSON.parse(third.text).message, /handling 2 requests.*limits\.maxInFlightRequests = 2/);
  for (const s of held) s.close();
  await eventually("a place in flight again", async () => (await get(session, second)).status === 200);
  session.close();
});

test("limits.maxConnections counts every client's connections together; a silent TCP client is cut", async () => {
  const url = new URL(gw.gateway.url);
  const held: TLSSocket[] = [];
  for (let i = 0; i < 4; i++) {
    held.push(
      await new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect(
          { host: url.hostname, port: Number(url.port), ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] },
          () => resolve(s),
        );
        open.push(s);
        s.on("error", reject);
      }),
    );
  }
  const session = h2();
  const refused = await get(session, first);
  assert.equal(refused.status, 429);
  assert.match(JSON.parse(refused.text).message, /limits\.maxConnections\)/);
  for (const s of held) s.destroy();

  // A TCP connection that never starts TLS does not stay.
  const t0 = Date.now();
  const silent = netConnect({ host: url.hostname, port: Number(url.port) });
  open.push(silent);
  silent.on("error", () => {});
  await new Promise((resolve) => silent.on("close", resolve));
  assert.ok(Date.now() - t0 < 4000, `silent connection closed after ${Date.now() - t0} ms`);

  await eventually(
    "the gateway serving again",
    async () => (await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", first)).code === 200,
  );
});
