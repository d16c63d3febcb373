// Faults upstream: a TCP fault proxy between the gateway and the simulator refuses, resets mid-response, stalls
// and restarts. The agent gets a Kubernetes Status (502/503/504) naming the cluster, or a cleanly ended
// stream; the gateway recovers by itself once the cluster is back (HTTP/2 sessions and keep-alive sockets
// re-established); every such request has its completion record.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { callGateway, startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { allAuditEvents, openAuditEvents } from "./support.ts";

let gw: TestGateway;
let proxy: FaultProxy;
let token: string;

async function assertRecovers(what: string): Promise<void> {
  proxy.mode = "pass";
  let last = 0;
  for (let i = 0; i < 30; i++) {
    last = (await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token)).code;
    if (last === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, 200, `the gateway recovers by itself after ${what}`);
}

async function assertAllCompleted(): Promise<void> {
  assert.deepEqual(await openAuditEvents(gw.gateway.store), [], "requests without a completion record");
}

function assertClusterStatus(
  res: { code: number; body: { kind?: string; message?: string } },
  codes: number[],
) {
  assert.ok(codes.includes(res.code), `status ${res.code}, one of ${codes}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.kind, "Status");
  assert.match(res.body?.message ?? "", /cluster "sim"/);
}

before(async () => {
  gw = await startTestGateway({
    limits: { upstreamTimeoutSeconds: 1 },
    upstreamPort: async (simPort) => {
      proxy = await startFaultProxy({ port: simPort });
      return proxy.port;
    },
  });
  ({ token } = await gw.addIdentity("agent", "agent", ["agents"]));
  assert.equal((await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token)).code, 200);
});
after(async () => {
  await gw.close();
  await proxy.close();
});

describe("the cluster misbehaves; the agent gets a Status and the gateway recovers", () => {
  test("connections refused: 503 naming the cluster, then recovery", async () => {
    proxy.mode = "refuse";
    proxy.dropAll(); // the pooled sessions go too, as when the API server restarts
    const res = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    assertClusterStatus(res, [502, 503]);
    await assertRecovers("refused connections");
    await assertAllCompleted();
  });

  test("reset mid-response: the response is cut (never looks complete), then recovery", async () => {
    proxy.dropAll();
    proxy.resetAfterBytes = 3000;
    proxy.mode = "reset";
    const res = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token).catch((err: Error) => ({
      code: -1,
      body: { message: err.message },
    }));
    // Either the headers had not been sent (a Status) or the body was cut (the client saw an error).
    if (res.code !== -1) assertClusterStatus(res, [502, 503]);
    await assertRecovers("a reset");
    await assertAllCompleted();
  });

  test("the cluster stalls: 504 naming the cluster within the upstream timeout, then recovery", async () => {
    proxy.mode = "stall";
    const started = Date.now();
    const res = await callGateway(gw, "GET", "/api/v1/namespaces/prod/configmaps", token);
    assertClusterStatus(res, [504]);
    assert.ok(Date.now() - started < 8000, "answered within the timeout, not hung");
    proxy.dropAll();
    await assertRecovers("a stall");
    await assertAllCompleted();
  });

  test("the cluster answers garbage: 502 naming the cluster, then recovery", async () => {
    proxy.dropAll(); // new connections, so the garbage starts at the TLS handshake
    proxy.mode = "garble";
    const res = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    assertClusterStatus(res, [502, 503]);
    proxy.mode = "pass";
    proxy.dropAll();
    await assertRecovers("garbage");
    await assertAllCompleted();
  });

  test("the cluster restarts under a live watch: the watch ends cleanly, a new one works", async () => {
    proxy.mode = "pass";
    const session = http2.connect(gw.gateway.url, { ca: gw.gateway.caPem });
    session.on("error", () => {});
    const watch = session.request({
      ":path": "/api/v1/namespaces/prod/pods?watch=1",
      authorization: `Bearer ${token}`,
    });
    const status = await new Promise<number>((resolve) =>
      watch.on("response", (h) => resolve(Number(h[":status"]))),
    );
    assert.equal(status, 200);
    watch.on("data", () => {});
    const ended = new Promise<string>((resolve) => {
      watch.on("end", () => resolve("end"));
      watch.on("error", (err) => resolve(`error: ${err.message}`));
      watch.on("close", () => resolve("close"));
    });
    proxy.dropAll();
    const how = await Promise.race([ended, new Promise((r) => setTimeout(() => r("still open"), 5000))]);
    assert.notEqual(how, "still open", "the watch ends when the cluster goes away");
    session.destroy();
    await assertRecovers("a restart");
    await assertAllCompleted();
  });

  test("the cluster restarts under a live exec: the session ends with a Status on its error channel, the next exec works", async () => {
    proxy.mode = "pass";
    const pods = await callGateway(gw, "GET", "/api/v1/namespaces/prod/pods", token);
    const pod = pods.body.items[0].metadata.name as string;
    const exec = (command: string[]) => {
      const query = command.map((c) => `command=${encodeURIComponent(c)}`).join("&");
      const ws = new WebSocket(
        `${gw.gateway.url.replace("https", "wss")}/api/v1/namespaces/prod/pods/${pod}/exec?${query}&stdout=1&stderr=1`,
        ["v5.channel.k8s.io"],
        { ca: gw.gateway.caPem, headers: { authorization: `Bearer ${token}` } },
      );
      const frames: Buffer[] = [];
      ws.on("message", (d: Buffer) => frames.push(d));
      ws.on("error", () => {});
      const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
      return { ws, frames, closed };
    };
    const statusOf = (frames: Buffer[]) => {
      const frame = frames.find((f) => f[0] === 3);
      return frame ? JSON.parse(frame.subarray(1).toString()) : undefined;
    };

    const live = exec(["sleep", "30"]);
    await once(live.ws, "open");
    proxy.dropAll(); // the API server goes away under the session
    const code = await Promise.race([
      live.closed,
      new Promise((r) => setTimeout(() => r("still open"), 5000)),
    ]);
    assert.equal(code, 1000, "closed normally, after a Status, not cut");
    const status = statusOf(live.frames);
    assert.equal(status?.kind, "Status", `no Status on the error channel among ${live.frames.length} frames`);
    assert.equal(status.code, 503);
    assert.match(status.message, /the connection to the cluster "sim" was lost/);

    await assertRecovers("a restart under an exec");
    const next = exec(["echo", "back"]);
    assert.equal(await next.closed, 1000);
    assert.match(
      Buffer.concat(next.frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString(),
      /back/,
    );
    assert.equal(statusOf(next.frames)?.status, "Success");
    await assertAllCompleted();
    const events = await allAuditEvents(gw.gateway.store);
    const lost = events.filter(
      (e) => e.subresource === "exec" && /connection to the cluster was lost/.test(e.reason ?? ""),
    );
    assert.equal(lost.length, 1, "the lost session's completion record says why it ended");
  });
});
