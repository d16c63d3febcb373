// A client that leaves while the gateway is still preparing its request — here, reading the Secrets a pod uses before
// relaying its log or exec — costs only that request, and the request still gets its completion record (499). Found
// by client-aborts.test.ts: an HTTP/2 response has no `destroyed`/`closed` of its own (its stream says so), and an
// upgrade relay registered its socket's close listener only after an await, so both were forwarded after the client
// had left and never completed.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { openAuditEvents } from "./support.ts";

const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let token: string;
let podName: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO_POLICY] });
  ({ token } = await gw.addIdentity("demo-agent", "agent", ["agents"]));
  const pods = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
  podName = pods.body.items[0].metadata.name;
});
after(() => gw.close());

/** Opens a log request over HTTP/2 and leaves after `ms`: a stream reset, or the whole session dropped. */
function leave(how: "reset" | "drop", ms: number): Promise<void> {
  return new Promise((resolve) => {
    const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
    session.on("error", () => {});
    const stream = session.request({
      ":path": `/api/v1/namespaces/prod/pods/${podName}/log`,
      ":method": "GET",
      authorization: `Bearer ${token}`,
    });
    stream.on("error", () => {});
    stream.on("data", () => {});
    stream.on("close", () => {
      session.destroy();
      resolve();
    });
    stream.end();
    setTimeout(
      () => (how === "reset" ? stream.close(http2.constants.NGHTTP2_CANCEL) : session.destroy()),
      ms,
    );
  });
}

async function openAfterSettling(): Promise<string[]> {
  const until = Date.now() + 3000;
  let open = await openAuditEvents(gw.gateway.store);
  while (open.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    open = await openAuditEvents(gw.gateway.store);
  }
  return open;
}

/** Sends an exec WebSocket upgrade over HTTP/1.1 and closes the connection `ms` after the last header byte. */
function leaveExec(ms: number): Promise<void> {
  const url = new URL(gw.gateway.url);
  const path = `/api/v1/namespaces/prod/pods/${podName}/exec?command=env&stdout=true&stderr=true`;
  const text =
    `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\n` +
    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
  return new Promise((resolve) => {
    const s = tlsConnect(
      { host: url.hostname, port: Number(url.port), ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] },
      () => {
        s.write(text);
        setTimeout(() => s.destroy(), ms);
      },
    );
    s.on("error", () => {});
    s.on("close", () => resolve());
  });
}

describe("a client that leaves before its request is forwarded", () => {
  test("an exec upgrade whose client leaves during the Secret lookup is completed, not left open", async () => {
    for (const ms of [0, 2, 10, 30]) await leaveExec(ms);
    assert.deepEqual(await openAfterSettling(), []);
    const live = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    assert.equal(live.code, 200, "the gateway still answers");
  });

  for (const how of ["reset", "drop"] as const) {
    test(`a ${how === "reset" ? "stream reset" : "dropped session"} during the Secret lookup of a log request still completes it`, async () => {
      for (const ms of [0, 2, 10]) await leave(how, ms);
      assert.deepEqual(await openAfterSettling(), []);
      const live = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
      assert.equal(live.code, 200, "the gateway still answers");
    });
  }
});
