// No client can crash the gateway: clients that abort at every phase of a request (TLS handshake, headers, request
// body, a masked response, a watch, an exec session, an MCP call, a review wait) cost only their own request. The
// timings come from a seeded random source (RELIABILITY_SEED replays a run). After each phase the gateway still
// answers, and every request it admitted has its completion record.
//
// An unhandled rejection or uncaught exception anywhere in the gateway (it runs in this process) fails this file:
// see test/helpers/fail-on-unhandled.ts, loaded by `npm run test:unit`, and the runner's own accounting.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { connect as netConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type Random, seededRandom, testSeed } from "../helpers/random.ts";
import { allAuditEvents, openAuditEvents } from "./support.ts";

const DEMO_POLICY = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
const rnd: Random = seededRandom(testSeed(16_001));

let gw: TestGateway;
let token: string;
let host: string;
let port: number;
let podName: string;

/** A raw HTTP/1.1 request over TLS that the client cuts after `abortAfterMs` (or at its first byte of answer). */
function abortingRequest(
  text: string,
  abortAfterMs: number,
  opts: { onFirstData?: boolean; cutAt?: number } = {},
): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] }, () => {
      s.write(opts.cutAt === undefined ? text : text.slice(0, opts.cutAt));
    });
    const timer = setTimeout(() => s.destroy(), abortAfterMs);
    s.on("data", () => {
      if (opts.onFirstData) s.destroy();
    });
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The same over HTTP/2: a stream reset (RST_STREAM) or the whole session dropped, at random. */
function abortingH2(
  path: string,
  abortAfterMs: number,
  method = "GET",
  headers: Record<string, string> = {},
): Promise<void> {
  return new Promise((resolve) => {
    const session = http2.connect(`https://${host}:${port}`, { ca: gw.gateway.caPem });
    session.on("error", () => {});
    const stream = session.request({
      ...headers,
      ":path": path,
      ":method": method,
      authorization: `Bearer ${token}`,
    });
    stream.on("error", () => {});
    stream.on("data", () => {});
    stream.on("close", () => {
      session.destroy();
      resolve();
    });
    stream.end();
    const resetStream = rnd.next() < 0.5;
    setTimeout(() => {
      if (resetStream) stream.close(http2.constants.NGHTTP2_CANCEL);
      else session.destroy();
    }, abortAfterMs);
  });
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nUser-Agent: abort-test\r\n\r\n`;
}

/** Audit records seen by earlier phases: what is not in here is the current phase's. */
const seen = new Set<string>();

/**
 * Every request the gateway admitted has its completion record; where the phase's requests reach the gateway whole
 * (`opened`), some of them were audited at all (else "none open" would hold vacuously); and the gateway still serves.
 */
async function assertHealthyAndAudited(phase: string, opened?: RegExp): Promise<void> {
  const open = await openAuditEvents(gw.gateway.store);
  assert.deepEqual(open, [], `${phase}: requests without a completion record`);
  const fresh = (await allAuditEvents(gw.gateway.store)).filter((e) => !seen.has(e.id));
  if (opened) {
    const mine = fresh.filter((e) => opened.test(e.path));
    assert.ok(mine.length > 0, `${phase}: no audit record for ${opened} among ${fresh.length} new ones`);
    assert.ok(
      mine.every((e) => e.completedAt !== null),
      `${phase}: each record has its completion`,
    );
  }
  const live = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
  assert.equal(live.code, 200, `${phase}: the gateway still answers`);
  for (const e of await allAuditEvents(gw.gateway.store)) seen.add(e.id);
}

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO_POLICY] });
  ({ token } = await gw.addIdentity("demo-agent", "agent", ["agents"]));
  const url = new URL(gw.gateway.url);
  host = url.hostname;
  port = Number(url.port);
  const pods = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
  podName = pods.body.items[0].metadata.name;
});
after(() => gw.close());

describe("clients that abort at any moment cost only their own request", () => {
  test("aborts during the TLS handshake (raw bytes and half handshakes)", async () => {
    const tries: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const delay = rnd.int(0, 6);
      if (rnd.next() < 0.5) {
        tries.push(
          new Promise((resolve) => {
            const s = tlsConnect({ host, port, ca: gw.gateway.caPem });
            s.on("error", () => {});
            s.on("close", () => resolve());
            setTimeout(() => s.destroy(), delay);
          }),
        );
      } else {
        tries.push(
          new Promise((resolve) => {
            const s = netConnect({ host, port }, () => {
              // A TLS record header announcing a handshake, then garbage of random length.
              const junk = Buffer.alloc(rnd.int(1, 300), rnd.int(0, 255));
              s.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), junk]));
            });
            s.on("error", () => {});
            s.on("close", () => resolve());
            setTimeout(() => s.destroy(), delay + 5);
          }),
        );
      }
    }
    await Promise.all(tries);
    await assertHealthyAndAudited("TLS handshake");
  });

  test("aborts while sending the request headers", async () => {
    const text = get("/api/v1/namespaces/prod/secrets");
    const tries = Array.from({ length: 40 }, () =>
      abortingRequest(text, rnd.int(0, 20), { cutAt: rnd.int(0, text.length - 1) }),
    );
    await Promise.all(tries);
    await assertHealthyAndAudited("headers");
  });

  test("aborts while sending a request body", async () => {
    const body = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "abort-me" },
      data: { k: "v".repeat(1000) },
    });
    const head =
      `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const tries = Array.from({ length: 40 }, () =>
      abortingRequest(head + body, rnd.int(0, 30), { cutAt: head.length + rnd.int(0, body.length - 1) }),
    );
    await Promise.all(tries);
    // Cut inside the body, no request is ever whole: nothing reaches policy, so there is nothing to audit.
    await assertHealthyAndAudited("request body");
  });

  test("64 clients aborting masked responses for two seconds (HTTP/1.1 and HTTP/2)", async () => {
    const paths = [
      "/api/v1/namespaces/prod/secrets",
      "/api/v1/namespaces/prod/secrets/db-credentials",
      "/api/v1/namespaces/prod/pods",
      "/apis/apps/v1/deployments",
      `/api/v1/namespaces/prod/pods/${podName}/log`,
    ];
    const end = Date.now() + 2000;
    let requests = 0;
    const worker = async () => {
      while (Date.now() < end) {
        const path = rnd.pick(paths);
        const delay = rnd.int(0, 150);
        requests++;
        if (rnd.next() < 0.8) await abortingRequest(get(path), delay, { onFirstData: rnd.next() < 0.1 });
        else await abortingH2(path, delay);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    assert.ok(requests > 64, `clients sent ${requests} requests`);
    await assertHealthyAndAudited("masked responses", /\/(secrets|pods|deployments)\b/);
  });

  test("aborts during watches and log follows", async () => {
    const paths = [
      "/api/v1/namespaces/prod/pods?watch=1",
      "/api/v1/namespaces/prod/secrets?watch=true",
      "/apis/apps/v1/namespaces/prod/deployments?watch=1&allowWatchBookmarks=true",
      `/api/v1/namespaces/prod/pods/${podName}/log?follow=true`,
    ];
    const tries = Array.from({ length: 30 }, () =>
      rnd.next() < 0.5
        ? abortingH2(rnd.pick(paths), rnd.int(0, 300))
        : abortingRequest(get(rnd.pick(paths)), rnd.int(0, 300)),
    );
    await Promise.all(tries);
    await assertHealthyAndAudited("watch", /\/(pods|secrets|deployments)\b/);
  });

  test("aborts during exec sessions (handshake, output, mid-frame)", async () => {
    const exec =
      `/api/v1/namespaces/prod/pods/${podName}/exec?command=sh&command=-c&command=env%3Bsleep%200.2%3Benv` +
      "&stdout=true&stderr=true";
    const upgrade =
      `GET ${exec} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\n` +
      "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
    const tries = Array.from({ length: 24 }, () => {
      const cut = rnd.next() < 0.3 ? rnd.int(0, upgrade.length - 1) : undefined;
      return abortingRequest(upgrade, rnd.int(0, 400), cut === undefined ? {} : { cutAt: cut });
    });
    await Promise.all(tries);
    await assertHealthyAndAudited("exec", /\/exec$/);
  });

  test("aborts during MCP tool calls", async () => {
    const call = (id: number) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "k8s_list", arguments: { resource: "secrets", namespace: "prod" } },
      });
    const tries = Array.from({ length: 30 }, (_, i) => {
      const body = call(i);
      const text =
        `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      return abortingRequest(
        text,
        rnd.int(0, 120),
        rnd.next() < 0.3 ? { cutAt: rnd.int(0, text.length) } : {},
      );
    });
    await Promise.all(tries);
    // Known gap (see notes/h-tests.md): none of these aborted calls reaches an audited Kubernetes request, so this
    // phase proves only that the gateway survives and leaves nothing open.
    await assertHealthyAndAudited("MCP call");
  });

  test("aborts while waiting for a review", async () => {
    // The demo policy holds prod writes for review once they carry the justification it requires (without one they
    // are refused at once and never wait).
    const reason = encodeURIComponent("INC-9: client-aborts test waits for a review");
    const tries = Array.from({ length: 12 }, (_, i) =>
      rnd.next() < 0.5
        ? abortingH2(`/apis/apps/v1/namespaces/prod/deployments/web-${i}`, rnd.int(20, 300), "DELETE", {
            "airlock-justification": reason,
          })
        : abortingRequest(
            `DELETE /api/v1/namespaces/prod/configmaps/cm-${i} HTTP/1.1\r\nHost: ${host}\r\n` +
              `Authorization: Bearer ${token}\r\nAirlock-Justification: ${reason}\r\n\r\n`,
            rnd.int(20, 300),
          ),
    );
    await Promise.all(tries);
    // Whether any of these twelve is audited before its client leaves depends on timing (notes/h-tests.md).
    await assertHealthyAndAudited("review wait");
  });
});
