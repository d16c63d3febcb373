// Every non-2xx answer is a Kubernetes Status (issue 17 §6): the refusals a client can reach on the Kubernetes API,
// the admin API, the console API and the MCP endpoint, each checked for kind/apiVersion/status/reason/code and a
// message that says what was refused. One simulator + gateway for the file.
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, test } from "node:test";
import { connect } from "node:tls";
import { CATALOGUE } from "../../src/kube/refusals.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const DEMO = new URL("../../examples/policies/demo.yaml", import.meta.url).pathname;
let gw: TestGateway;
let token: string;

before(async () => {
  gw = await startTestGateway({ policyFiles: [DEMO], limits: { maxRequestBodyBytes: 4096 } });
  token = (await gw.addIdentity("status-agent", "agent", ["agents"])).token;
});

after(async () => {
  await gw.close();
});

interface Answer {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(gw.gateway.url);
    // host/port/path, not a URL string: a URL would normalise the path (%2e%2e) before it is sent
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method,
        headers: {
          ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }),
          ...headers,
        },
        ca: gw.gateway.caPem,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${token}` });

/** The answer is a Failure Status with this code, the catalogue's reason for it, and a message matching `message`. */
function assertStatus(got: Answer, code: number, reason: string, message: RegExp): void {
  assert.equal(got.code, code, `HTTP ${got.code}: ${got.text}`);
  assert.match(String(got.headers["content-type"]), /^application\/json/);
  const s = JSON.parse(got.text);
  assert.equal(s.kind, "Status");
  assert.equal(s.apiVersion, "v1");
  assert.equal(s.status, "Failure");
  assert.equal(s.code, code);
  assert.equal(s.reason, reason);
  assert.match(s.message, message);
  // the reason is the one the catalogue gives this code
  assert.ok(
    Object.values(CATALOGUE).some((e) => e.code === code && e.reason === reason),
    `${code} ${reason} is a catalogue pair`,
  );
}

test("Kubernetes API: a missing credential is a 401 Status", async () => {
  assertStatus(await call("GET", "/api/v1/namespaces"), 401, "Unauthorized", /^Unauthorized: /);
});

test("Kubernetes API: a bad or unknown cluster name is a 400 / 404 Status", async () => {
  assertStatus(await call("GET", "/k8s/no_such!/api", auth()), 400, "BadRequest", /not a valid cluster name/);
  assertStatus(
    await call("GET", "/k8s/elsewhere/api", auth()),
    404,
    "NotFound",
    /no cluster named "elsewhere"/,
  );
});

test("Kubernetes API: an Impersonate header is a 403 Status naming it", async () => {
  const got = await call("GET", "/api/v1/namespaces", { ...auth(), "impersonate-user": "admin" });
  assertStatus(got, 403, "Forbidden", /impersonation headers are not accepted/);
  assert.equal(JSON.parse(got.text).details.causes[0].field, "impersonate-user");
});

test("Kubernetes API: an ambiguous path is a 400 Status", async () => {
  assertStatus(
    await call("GET", "/api/v1/namespaces/prod/pods/%2e%2e", auth()),
    400,
    "BadRequest",
    /^airlock: /,
  );
});

test("Kubernetes API: a policy denial names the policy and the rule", async () => {
  assertStatus(
    await call("DELETE", "/api/v1/namespaces/staging", auth()),
    403,
    "Forbidden",
    /^namespaces "staging" is forbidden: airlock: delete denied by policy demo rule no-namespace-deletes: /,
  );
  assertStatus(
    await call("GET", "/logs/", auth()),
    403,
    "Forbidden",
    /^forbidden: airlock: get denied by policy default rule default-deny/,
  );
});

test("Kubernetes API: a body over the limit is 413, an unreadable content type 415", async () => {
  const big = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", data: { x: "y".repeat(8000) } });
  assertStatus(
    await call(
      "POST",
      "/api/v1/namespaces/staging/configmaps",
      { ...auth(), "content-type": "application/json" },
      big,
    ),
    413,
    "RequestEntityTooLarge",
    /^airlock: /,
  );
  assertStatus(
    await call(
      "POST",
      "/api/v1/namespaces/staging/configmaps",
      { ...auth(), "content-type": "text/plain" },
      "x",
    ),
    415,
    "UnsupportedMediaType",
    /^airlock: /,
  );
});

test("Kubernetes API: an upgrade refused on the raw socket has a proper status line and a Status body", async () => {
  const pods = JSON.parse((await call("GET", "/api/v1/namespaces/prod/pods", auth())).text);
  const pod = pods.items[0].metadata.name as string;
  const text = await new Promise<string>((resolve, reject) => {
    const url = new URL(gw.gateway.url);
    const socket = connect(
      { host: url.hostname, port: Number(url.port), ca: gw.gateway.caPem, ALPNProtocols: ["http/1.1"] },
      () => {
        socket.write(
          `GET /api/v1/namespaces/prod/pods/${pod}/exec?command=ls&stdout=true HTTP/1.1\r\n` +
            `Host: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
            "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n",
        );
      },
    );
    let got = "";
    socket.setEncoding("utf8").on("data", (d: string) => {
      got += d;
    });
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
  });
  const [head = "", body = ""] = text.split("\r\n\r\n");
  const statusLine = head.split("\r\n")[0] ?? "";
  const s = JSON.parse(body);
  assert.equal(s.kind, "Status");
  assert.equal(statusLine, "HTTP/1.1 400 Bad Request");
  assert.equal(s.code, 400);
  assert.match(s.message, /^airlock: exec over SPDY is not supported/);
});

test("admin API: no token 401, unknown path 404, wrong method 405 with Allow, non-JSON body 415", async () => {
  assertStatus(await call("GET", "/airlock/v1/identities"), 401, "Unauthorized", /Unauthorized/);
  assertStatus(await call("GET", "/airlock/v1/no-such-thing", auth()), 404, "NotFound", /./);
  const wrong = await call("DELETE", "/airlock/v1/openapi.json", auth());
  assertStatus(wrong, 405, "MethodNotAllowed", /DELETE is not allowed/);
  assert.equal(wrong.headers.allow, "GET");
  assertStatus(
    await call("POST", "/airlock/v1/credentials/session", { ...auth(), "content-type": "text/plain" }, "{}"),
    415,
    "UnsupportedMediaType",
    /application\/json/,
  );
});

test("console API: a wrong method is a 405 Status with Allow", async () => {
  const got = await call("GET", "/ui/api/login");
  assertStatus(got, 405, "MethodNotAllowed", /POST/);
  assert.equal(got.headers.allow, "POST");
});

const MCP_HEADERS = { accept: "application/json, text/event-stream", "content-type": "application/json" };
const PING = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });

test("MCP: a GET or DELETE on the stateless endpoint is a 405 Status with Allow: POST", async () => {
  for (const method of ["GET", "DELETE"]) {
    const got = await call(method, "/mcp", auth());
    assertStatus(got, 405, "MethodNotAllowed", /stateless, POST only/);
    assert.equal(got.headers.allow, "POST");
  }
  const meta = await call("POST", "/.well-known/oauth-protected-resource", {}, "{}");
  assertStatus(meta, 405, "MethodNotAllowed", /use GET/);
  assert.equal(meta.headers.allow, "GET");
});

test("MCP: no token is a 401 Status with the resource metadata in WWW-Authenticate", async () => {
  const got = await call("POST", "/mcp", MCP_HEADERS, PING);
  assertStatus(got, 401, "Unauthorized", /^Unauthorized: /);
  assert.match(String(got.headers["www-authenticate"]), /resource_metadata=/);
});

test("MCP: what the SDK transport would refuse (Accept, Content-Type, JSON, JSON-RPC, version) is a Status", async () => {
  const h = { ...auth(), ...MCP_HEADERS };
  assertStatus(
    await call("POST", "/mcp", { ...h, accept: "application/json" }, PING),
    406,
    "NotAcceptable",
    /text\/event-stream/,
  );
  assertStatus(
    await call("POST", "/mcp", { ...h, "content-type": "text/plain" }, PING),
    415,
    "UnsupportedMediaType",
    /application\/json/,
  );
  assertStatus(await call("POST", "/mcp", h, "{not json"), 400, "BadRequest", /not valid JSON/);
  assertStatus(
    await call("POST", "/mcp", h, JSON.stringify({ hello: 1 })),
    400,
    "BadRequest",
    /not a valid JSON-RPC message/,
  );
  const batch = JSON.stringify(
    Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" })),
  );
  assertStatus(await call("POST", "/mcp", h, batch), 400, "BadRequest", /at most 100 messages/);
  assertStatus(
    await call("POST", "/mcp", { ...h, "mcp-protocol-version": "1999-01-01" }, PING),
    400,
    "BadRequest",
    /protocol version "1999-01-01" is not supported/,
  );
  // and what it accepts still works
  const ok = await call("POST", "/mcp", h, PING);
  assert.equal(ok.code, 200, ok.text);
});
