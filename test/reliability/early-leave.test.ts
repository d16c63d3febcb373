// A client that leaves while the gateway is still preparing its request — here, reading the Secrets a pod uses before
// relaying its log or exec — costs only that request, and the request still gets its completion record (499). Found
// by client-aborts.test.ts: an HTTP/2 response has no `destroyed`/`closed` of its own (its stream says so), and an
// upgrade relay registered its socket's close listener only after an await, so both were forwarded after the client
// had left and never completed.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import type { AuditEvent } from "../../src/audit/types.ts";
import { eventually } from "../helpers/eventually.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { allAuditEvents, openAuditEvents } from "./support.ts";

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

/**
 * Opens a log request over HTTP/2 and leaves `ms` after its HEADERS went out (the stream is ready once the session
 * is up): a stream reset, or the whole session dropped. Timed from the start instead, a drop could come before
 * the TLS handshake ended, so the gateway never saw the request and the test held vacuously.
 */
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
    stream.once("ready", () =>
      setTimeout(
        () => (how === "reset" ? stream.close(http2.constants.NGHTTP2_CANCEL) : session.destroy()),
        ms,
      ),
    );
  });
}

/**
 * The audit records of the requests matching `path` opened since `before`, once each has its completion: at least
 * one must exist, or "nothing left open" would hold for a gateway that never audited them.
 */
async function auditedAndCompleted(before: Set<string>, path: RegExp): Promise<AuditEvent[]> {
  return eventually(
    `audit records for ${path}, each with its completion`,
    async () => (await allAuditEvents(gw.gateway.store)).filter((e) => !before.has(e.id)),
    { until: (fresh) => fresh.some((e) => path.test(e.path)) && fresh.every((e) => e.completedAt !== null) },
  );
}

const auditIds = async () => new Set((await allAuditEvents(gw.gateway.store)).map((e) => e.id));

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
    const before = await auditIds();
    for (const ms of [0, 2, 10, 30]) await leaveExec(ms);
    await auditedAndCompleted(before, /\/exec$/);
    assert.deepEqual(await openAuditEvents(gw.gateway.store), []);
    const live = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    assert.equal(live.code, 200, "the gateway still answers");
  });

  for (const how of ["reset", "drop"] as const) {
    test(`a ${how === "reset" ? "stream reset" : "dropped session"} during the Secret lookup of a log request still completes it`, async () => {
      const before = await auditIds();
      for (const ms of [0, 2, 10]) await leave(how, ms);
      await auditedAndCompleted(before, /\/log$/);
      assert.deepEqual(await openAuditEvents(gw.gateway.store), []);
      const live = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
      assert.equal(live.code, 200, "the gateway still answers");
    });
  }
});
