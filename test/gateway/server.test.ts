// The listen stage: HTTP/2 and HTTP/1.1 on one port, cluster routing, health, readiness and metrics.
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { after, before, test } from "node:test";
import tls from "node:tls";
import type { Simulator } from "@airlock/sim";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type SimClient, simClient } from "../helpers/simclient.ts";

let t: TestGateway;
let agent: { token: string };
let client: SimClient;

before(async () => {
  t = await startTestGateway();
  agent = await t.addIdentity("demo-agent", "agent", ["agents"]);
  client = simClient({ url: t.gateway.url, caPem: t.gateway.caPem, adminToken: agent.token } as Simulator);
});

after(async () => {
  client.close();
  await t.close();
});

function h2get(
  path: string,
  token?: string,
): Promise<{ status: number; body: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(t.gateway.url, { ca: t.gateway.caPem });
    session.on("error", reject);
    const req = session.request({ ":path": path, ...(token ? { authorization: `Bearer ${token}` } : {}) });
    let status = 0;
    let body = "";
    req.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    req.setEncoding("utf8").on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => {
      const alpn = session.alpnProtocol ?? false;
      session.close();
      resolve({ status, body, alpn });
    });
    req.on("error", reject);
  });
}

test("an HTTP/2 client is served on the same port as HTTP/1.1", async () => {
  const res = await h2get("/api/v1/namespaces/prod/configmaps/web-config", agent.token);
  assert.equal(res.alpn, "h2");
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).metadata.name, "web-config");
});

test("/k8s/<cluster>/ selects a cluster and an unknown cluster gets a 404 Status naming the configured ones", async () => {
  const ok = await client.req("GET", "/k8s/sim/api/v1/namespaces/prod/configmaps/web-config");
  assert.equal(ok.code, 200);
  assert.equal(ok.body.metadata.name, "web-config");
  const missing = await client.req("GET", "/k8s/elsewhere/api/v1/namespaces");
  assert.equal(missing.code, 404);
  assert.equal(missing.body.kind, "Status");
  assert.match(missing.body.message, /no cluster named "elsewhere" \(configured: sim\)/);
});

test("health and readiness answer without a token; the Kubernetes API does not", async () => {
  assert.equal((await h2get("/healthz")).status, 200);
  assert.equal((await h2get("/readyz")).status, 200);
  const anonymous = await h2get("/api/v1/namespaces");
  assert.equal(anonymous.status, 401);
  assert.equal(JSON.parse(anonymous.body).reason, "Unauthorized");
});

test("metrics count requests by verb, code and decision, without identity names", async () => {
  await client.req("GET", "/api/v1/namespaces/prod/pods");
  const res = await h2get("/metrics");
  assert.equal(res.status, 200);
  assert.match(
    res.body,
    /airlock_requests_total\{verb="list",code="200",decision="allow",cluster="sim"\} \d+/,
  );
  assert.match(res.body, /airlock_request_duration_seconds_bucket/);
  assert.match(res.body, /airlock_open_streams/);
  assert.ok(!res.body.includes("demo-agent"), "no identity names in metrics");
});

test("every accepted connection has Nagle off (TCP_NODELAY), so a watch event is never held for the client's delayed ACK", async () => {
  // The mechanism, not a timing: the TCP handle behind the gateway's end of OUR connection gets setNoDelay(true).
  // Handles are recognised by their addresses (local port = the gateway's, peer port = our socket's).
  type Handle = {
    setNoDelay(on: boolean): number;
    getsockname(out: object): number;
    getpeername(out: object): number;
  };
  const probe = net.connect(t.gateway.port, "127.0.0.1");
  await new Promise((resolve, reject) => probe.once("connect", resolve).once("error", reject));
  const proto = (probe as unknown as { _handle: Handle })._handle.constructor.prototype as Handle;
  probe.destroy();
  const original = proto.setNoDelay;
  const noDelay: Array<{ local: number; peer: number }> = [];
  proto.setNoDelay = function (this: Handle, on: boolean) {
    const local: { port?: number } = {};
    const peer: { port?: number } = {};
    this.getsockname(local);
    this.getpeername(peer);
    if (on) noDelay.push({ local: local.port ?? 0, peer: peer.port ?? 0 });
    return original.call(this, on);
  };
  try {
    for (const alpn of ["http/1.1", "h2"]) {
      const socket = tls.connect({
        host: "127.0.0.1",
        port: t.gateway.port,
        ca: t.gateway.caPem,
        servername: "localhost",
        ALPNProtocols: [alpn],
      });
      await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      const ours = socket.localPort;
      socket.destroy();
      assert.ok(
        noDelay.some((h) => h.local === t.gateway.port && h.peer === ours),
        `${alpn}: the gateway's socket for client port ${ours} was not set to TCP_NODELAY: ${JSON.stringify(noDelay)}`,
      );
    }
  } finally {
    proto.setNoDelay = original;
  }
});

test("a masked request logs one line that carries its masking, and its masking note commits with its completion", async () => {
  const heads: number[] = [];
  const unwatch = t.gateway.store.audit.watch((head) => heads.push(head.seq));
  const logsBefore = t.logs.length;
  let lines: Record<string, unknown>[] = [];
  let records: Awaited<ReturnType<typeof t.gateway.store.audit.records>> = [];
  let request: Record<string, unknown> | undefined;
  try {
    const res = await client.req("GET", "/api/v1/namespaces/prod/secrets/db-credentials");
    assert.equal(res.code, 200);
    // The response ends before the completion commits: wait for it.
    records = await eventually("the request's completion record", async () => {
      lines = t.logs.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
      request = lines.find((l) => l.msg === "request" && l.resource === "secrets");
      const all = await t.gateway.store.audit.records({ afterSeq: 0, limit: 100_000 });
      return all.some((r) => r.type === "request.completed" && r.ref === request?.requestId) && all;
    });
  } finally {
    unwatch();
  }
  if (!request) return assert.fail(JSON.stringify(lines));
  const id = String(request.requestId);
  assert.deepEqual(request.masking, { profile: "default", masked: 2 });
  const ofRequest = lines.filter((l) => l.requestId === id);
  assert.deepEqual(
    ofRequest.map((l) => l.msg),
    ["request"],
    "no second log line for ordinary masking",
  );
  const note = records.find((r) => r.type === "masking.applied" && r.body.includes(`"subject":"${id}"`));
  const done = records.find((r) => r.type === "request.completed" && r.ref === id);
  assert.ok(note && done, "the masking note and the completion are in the chain");
  assert.ok(note.seq < done.seq);
  assert.ok(!heads.includes(note.seq), `the note ended a batch of its own (batch heads ${heads.join(",")})`);
});

test("the request line follows the gateway's log level after a change, and names no credential", async () => {
  const log = t.gateway.runtime.log;
  const before = log.level;
  const count = () => t.logs.filter((l) => l.includes('"msg":"request"')).length;
  try {
    log.level = "warn";
    const quiet = count();
    assert.equal((await client.req("GET", "/api/v1/namespaces/prod/configmaps/web-config")).code, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(count(), quiet, "no request line at level warn");
    log.level = before;
    assert.equal((await client.req("GET", "/api/v1/namespaces/prod/configmaps/web-config")).code, 200);
    await eventually("the request line at level info", () => count() > quiet);
  } finally {
    log.level = before;
  }
  assert.ok(!t.logs.join("\n").includes(agent.token), "no token in any log line");
});
