// The forwarder over HTTP/2 to the cluster: ordinary requests and watches are streams of a pooled session when the
// cluster offers h2, HTTP/1.1 when ALPN says so; streaming, cancellation, revocation, timeouts and the 401
// invalidation behave as over HTTP/1.1. The cluster is a loopback HTTP/2 server (h2 + http/1.1, as kube-apiserver)
// or an HTTP/1.1-only one; the forwarder runs inside a plain HTTP server so a real client drives it.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { h2Headers } from "../../src/gateway/forward/h2-request.ts";
import { type ForwardOptions, type ForwardResult, forwardHttp } from "../../src/gateway/forward/http.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { h2PoolOf } from "../../src/upstream/h2-pool.ts";
import { openUpstream, type Upstream } from "../../src/upstream/index.ts";
import { eventually } from "../helpers/eventually.ts";

const ca = createCertificateAuthority("h2-test-ca");
const cert = issueServerCertificate(ca, { commonName: "cluster", dnsNames: [], ipAddresses: ["127.0.0.1"] });

interface Seen {
  protocol: string;
  path: string;
  authorization: string | undefined;
  groups: string[];
}
const seen: Seen[] = [];
const openWatches = new Set<http.ServerResponse>();

/** The cluster's behaviour, by path. */
function cluster(req: http.IncomingMessage, res: http.ServerResponse) {
  const raw = req.rawHeaders;
  seen.push({
    protocol: req.httpVersion,
    path: req.url ?? "",
    authorization: req.headers.authorization,
    groups: raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === "impersonate-group"),
  });
  const url = req.url ?? "";
  if (url.includes("watch=true")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"type":"ADDED","object":{}}\n');
    openWatches.add(res);
    res.on("close", () => openWatches.delete(res));
    return;
  }
  if (url.startsWith("/slow")) return; // never answers
  if (url.startsWith("/cut")) {
    // Half a body, then the connection or stream dies.
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write("x".repeat(500), () => setTimeout(() => req.socket.destroy(), 50));
    return;
  }
  if (url.startsWith("/unauthorized")) {
    res.writeHead(401, { "content-type": "application/json" }).end('{"kind":"Status","code":401}');
    return;
  }
  if (url.startsWith("/big")) {
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = 160; // 10 MiB
    const pump = () => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
    return;
  }
  let body = "";
  req.setEncoding("utf8").on("data", (d: string) => {
    body += d;
  });
  req.on("end", () =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ body })),
  );
}

// The compat request/response have the http1 surface this handler uses; the casts only bridge the type.
const h2Cluster = http2.createSecureServer(
  { cert: cert.certPem, key: cert.keyPem, allowHTTP1: true },
  (req, res) => cluster(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse),
);
const h1Cluster = https.createServer({ cert: cert.certPem, key: cert.keyPem }, cluster);

/** The gateway side: every request is forwarded to `target`, with the options a test sets. */
let target: Upstream;
let extra: Partial<ForwardOptions> = {};
let results: ForwardResult[] = [];
const closers = new Set<(reason: string) => void>();
const front = http.createServer(async (req, res) => {
  const result = await forwardHttp(req.method ?? "GET", res, {
    upstream: target,
    pathAndQuery: req.url ?? "/",
    headers: [
      ["Impersonate-User", "airlock:agent:bot"],
      ["Impersonate-Group", "airlock:agents"],
      ["Impersonate-Group", "airlock:team-a"],
      ["Connection", "keep-alive"],
    ],
    body: req.method === "POST" ? Buffer.from('{"kind":"ConfigMap"}') : undefined,
    timeoutMs: 30_000,
    onOpen: (close) => {
      closers.add(close);
      return () => closers.delete(close);
    },
    ...extra,
  });
  results.push(result);
});

let h2Upstream: Upstream;
let h1Upstream: Upstream;
let frontUrl: string;

const listen = async (server: http.Server | https.Server | http2.Http2SecureServer) => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
};

before(async () => {
  const h2Port = await listen(h2Cluster);
  const h1Port = await listen(h1Cluster);
  frontUrl = `http://127.0.0.1:${await listen(front)}`;
  const spec = (port: number) => ({
    name: `c${port}`,
    server: `https://127.0.0.1:${port}`,
    caData: ca.certPem,
    token: "upstream-token",
  });
  h2Upstream = await openUpstream(spec(h2Port));
  h1Upstream = await openUpstream(spec(h1Port));
});

after(async () => {
  h2Upstream.close();
  h1Upstream.close();
  for (const res of openWatches) res.destroy();
  front.closeAllConnections();
  front.close();
  h1Cluster.closeAllConnections();
  h1Cluster.close();
  h2Cluster.close();
});

function get(path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${frontUrl}${path}`, { method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("h2Headers: Host becomes :authority, connection and pseudo-headers in the list are dropped, repeated headers stay in order", () => {
  assert.deepEqual(
    h2Headers("GET", "/api", [
      "host",
      "c:6443",
      "Impersonate-Group",
      "a",
      "Connection",
      "keep-alive",
      "impersonate-group",
      "b",
      "TE",
      "gzip",
      "te",
      "trailers",
      ":path",
      "/api/v1/secrets",
      ":method",
      "DELETE",
    ]),
    {
      ":method": "GET",
      ":path": "/api",
      ":authority": "c:6443",
      "impersonate-group": ["a", "b"],
      te: "trailers",
    },
  );
});

test("a cluster offering h2 gets the request as an HTTP/2 stream, with the credential and repeated Impersonate-Group", async () => {
  target = h2Upstream;
  extra = {};
  seen.length = 0;
  const res = await get("/api/v1/namespaces/a/configmaps/x");
  assert.equal(res.status, 200);
  assert.deepEqual(seen, [
    {
      protocol: "2.0",
      path: "/api/v1/namespaces/a/configmaps/x",
      authorization: "Bearer upstream-token",
      groups: ["airlock:agents", "airlock:team-a"],
    },
  ]);
  const post = await get("/api/v1/namespaces/a/configmaps", "POST");
  assert.deepEqual(JSON.parse(post.body), { body: '{"kind":"ConfigMap"}' }, "the request body arrives whole");
});

test("a cluster answering http/1.1 in ALPN gets HTTP/1.1, and the pool remembers it", async () => {
  target = h1Upstream;
  extra = {};
  seen.length = 0;
  assert.equal((await get("/api/v1/pods")).status, 200);
  assert.equal((await get("/api/v1/pods")).status, 200);
  assert.deepEqual(
    seen.map((s) => [s.protocol, s.authorization, s.groups.length]),
    [
      ["1.1", "Bearer upstream-token", 2],
      ["1.1", "Bearer upstream-token", 2],
    ],
  );
  assert.equal(h2PoolOf(h1Upstream.agent)?.http1Only, true);
});

test("50 concurrent watches share one HTTP/2 session; a client going away cancels its upstream stream", async () => {
  target = h2Upstream;
  extra = { timeoutMs: undefined };
  const clients = await Promise.all(
    Array.from(
      { length: 50 },
      () =>
        new Promise<http.ClientRequest>((resolve, reject) => {
          const req = http.request(`${frontUrl}/api/v1/configmaps?watch=true`, { agent: false }, (res) => {
            res.once("data", () => resolve(req));
          });
          req.on("error", reject);
          req.end();
        }),
    ),
  );
  await eventually("50 open watches upstream", () => openWatches.size, { until: (n) => n === 50 });
  assert.equal(h2PoolOf(h2Upstream.agent)?.sessionCount, 1, "one session carries every watch");
  for (const c of clients.slice(0, 30)) c.destroy();
  await eventually("the 30 abandoned watches to be cancelled upstream", () => openWatches.size, {
    until: (n) => n === 20,
  });
  for (const c of clients.slice(30)) c.destroy();
  await eventually("every watch cancelled upstream", () => openWatches.size, { until: (n) => n === 0 });
});

test("revocation's closer cuts an HTTP/2 watch on both sides", async () => {
  target = h2Upstream;
  extra = { timeoutMs: undefined };
  closers.clear();
  const ended = new Promise<void>((resolve, reject) => {
    const req = http.request(`${frontUrl}/api/v1/configmaps?watch=true`, { agent: false }, (res) => {
      res.resume();
      res.on("close", () => resolve());
    });
    req.on("error", () => resolve());
    setTimeout(() => reject(new Error("the client connection was not closed")), 5000).unref();
    req.end();
  });
  await eventually("the watch to open", () => closers.size === 1 && openWatches.size === 1);
  for (const close of closers) close("identity bot was revoked");
  await ended;
  await eventually("the upstream stream to be reset", () => openWatches.size, { until: (n) => n === 0 });
});

test("a non-long-running request that gets no answer in time is cut with 504 (Timeout) naming the cluster", async () => {
  target = h2Upstream;
  extra = { timeoutMs: 300 };
  results = [];
  const started = Date.now();
  const res = await get("/slow");
  assert.equal(res.status, 504);
  assert.match(
    JSON.parse(res.body).message,
    /the cluster "[^"]+" did not answer in time \(upstream timed out\)/,
  );
  assert.ok(Date.now() - started < 3000);
  assert.equal(results.at(-1)?.upstreamError, "upstream timed out");
});

test("a 401 from the cluster over HTTP/2 invalidates the cached credential", async () => {
  let invalidated = 0;
  target = new Proxy(h2Upstream, {
    get(t, prop) {
      if (prop === "invalidate") return () => invalidated++;
      const value = Reflect.get(t, prop, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
  extra = {};
  assert.equal((await get("/unauthorized")).status, 401);
  assert.equal(invalidated, 1);
});

test("a 10 MiB response streams through an HTTP/2 stream to the last byte", async () => {
  target = h2Upstream;
  extra = {};
  const res = await get("/big");
  assert.equal(res.status, 200);
  assert.equal(res.body.length, 10 * 1024 * 1024);
});

for (const protocol of ["HTTP/2", "HTTP/1.1"]) {
  test(`a response the cluster cuts mid-body (${protocol}) is cut for the client too, never completed`, {
    timeout: 10_000,
  }, async () => {
    target = protocol === "HTTP/2" ? h2Upstream : h1Upstream;
    extra = {};
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(`${frontUrl}/cut`, { agent: false }, (res) => {
        let got = 0;
        res.on("data", (d: Buffer) => {
          got += d.length;
        });
        res.on("end", () => resolve(`complete after ${got} bytes`));
        res.on("aborted", () => resolve("cut"));
        res.on("error", () => resolve("cut"));
      });
      req.on("error", () => resolve("cut"));
      req.end();
    });
    assert.equal(outcome, "cut");
  });
}

test("rotated TLS material gets a new HTTP/2 session; a watch on the old one keeps running until it ends", async () => {
  const dir = await mkdtemp(join(tmpdir(), "airlock-h2-rotate-"));
  const caFile = join(dir, "ca.crt");
  await writeFile(caFile, ca.certPem);
  const port = (h2Cluster.address() as AddressInfo).port;
  const rotating = await openUpstream(
    { name: "rotating", server: `https://127.0.0.1:${port}`, caFile, token: "upstream-token" },
    { fileCheckIntervalMs: 10 },
  );
  try {
    target = rotating;
    extra = { timeoutMs: undefined };
    const before = openWatches.size;
    const events: string[] = [];
    const watch = http.request(`${frontUrl}/api/v1/configmaps?watch=true`, { agent: false }, (res) => {
      res.setEncoding("utf8").on("data", (d: string) => events.push(d));
    });
    watch.end();
    await eventually("the watch to open", () => events.length === 1 && openWatches.size === before + 1);
    const oldPool = h2PoolOf(rotating.agent);
    const oldWatch = [...openWatches].at(-1);

    await writeFile(caFile, `${ca.certPem}\n`); // same CA, new file content: a new pool is built
    await new Promise((r) => setTimeout(r, 50));
    extra = {};
    assert.equal((await get("/api/v1/pods")).status, 200);
    const newPool = h2PoolOf(rotating.agent);
    assert.notEqual(newPool, oldPool, "requests after the rotation use a new pool");
    assert.equal(newPool?.sessionCount, 1);
    assert.equal(oldPool?.sessionCount, 0, "the old pool takes no new streams");

    oldWatch?.write('{"type":"MODIFIED","object":{}}\n');
    await eventually("an event on the watch opened before the rotation", () => events.length, {
      until: (n) => n === 2,
    });
    watch.destroy();
    await eventually("the old watch to end upstream", () => openWatches.size, { until: (n) => n === before });
  } finally {
    rotating.close();
    await rm(dir, { recursive: true, force: true });
  }
});
