// Client ID metadata documents (issue 20 §1): an MCP client identifies by an HTTPS URL and Airlock fetches the
// document from inside the operator's network. Only HTTPS to public addresses, after DNS resolution, no redirects,
// bounded in size and time. The loopback document server here is allowed by the test-only start option
// (StartOptions.oauthTestHooks, not reachable from airlock.yaml) for its exact host:port; every other inward address
// — other loopback ports, [::1], localhost by name, IPv4-mapped forms, link-local metadata, private ranges — is
// refused, and the document server counts what reached it.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import https, { request } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { fetchPublicJson, isPublicAddress } from "../../src/mcp/oauth/outbound.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const REDIRECT = "http://127.0.0.1:7778/callback";
let gw: TestGateway;
let docs: https.Server;
let docBase = "";
let docCa = "";
let human = "";
const hits: string[] = [];

before(async () => {
  const ca = createCertificateAuthority("test-cimd-ca");
  docCa = ca.certPem;
  const tls = issueServerCertificate(ca, {
    commonName: "cimd",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
  });
  docs = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const path = req.url ?? "";
    hits.push(path);
    const self = `${docBase}${path}`;
    const send = (body: unknown, type = "application/json") => {
      res.writeHead(200, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (path === "/good" || path === "/sdk") {
      return send({
        client_id: self,
        client_name: 'Evil <img src=x onerror="alert(1)">',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
      });
    }
    if (path === "/wrong-id") return send({ client_id: `${docBase}/good`, redirect_uris: [REDIRECT] });
    if (path === "/bad-redirect") return send({ client_id: self, redirect_uris: ["http://evil.example/cb"] });
    if (path === "/text") return send({ client_id: self, redirect_uris: [REDIRECT] }, "text/plain");
    if (path === "/big") return send({ client_id: self, redirect_uris: [REDIRECT], pad: "x".repeat(20_000) });
    if (path === "/big-chunked") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`{"client_id":"${self}","pad":"`);
      for (let i = 0; i < 40; i++) res.write("y".repeat(1000));
      return res.end('"}');
    }
    if (path === "/slow") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
      const t = setTimeout(() => res.end(`"client_id":"${self}"}`), 3000);
      res.on("close", () => clearTimeout(t));
      return;
    }
    if (path === "/redirect") {
      res.writeHead(302, { location: `${docBase}/good` });
      return res.end();
    }
    if (path === "/redirect-metadata") {
      res.writeHead(307, { location: "https://169.254.169.254/latest/meta-data/" });
      return res.end();
    }
    res.writeHead(404).end();
  });
  docs.listen(0, "127.0.0.1");
  await once(docs, "listening");
  const port = (docs.address() as AddressInfo).port;
  docBase = `https://127.0.0.1:${port}`;
  gw = await startTestGateway({
    mcp: {
      oauth: { clientMetadataDocuments: true, metadataFetch: { timeoutMs: 800, maxBytes: 4096 } },
    },
    oauthTestHooks: { metadataAllowHosts: [`127.0.0.1:${port}`], metadataCa: docCa },
  });
  ({ token: human } = await gw.addIdentity("carol", "human", ["sre"]));
});
after(async () => {
  await gw?.close();
  docs?.close();
});

const resource = () => `${gw.gateway.url}/mcp`;
const verifier = randomBytes(32).toString("base64url");
const challenge = createHash("sha256").update(verifier).digest("base64url");

function authorize(clientId: string): Promise<{ code: number; text: string; location?: string }> {
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource: resource(),
  });
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}/oauth/authorize?${q}`,
      { ca: gw.gateway.caPem, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () =>
          resolve({
            code: res.statusCode ?? 0,
            text,
            ...(res.headers.location ? { location: res.headers.location } : {}),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("client ID metadata documents", () => {
  test("the metadata says URL client ids are accepted; a good document shows an escaped consent page", async () => {
    const fetchesBefore = hits.filter((h) => h === "/good").length;
    const r = await authorize(`${docBase}/good`);
    assert.equal(r.code, 200, r.text);
    assert.equal((await authorize(`${docBase}/good`)).code, 200);
    assert.equal(hits.filter((h) => h === "/good").length, fetchesBefore + 1, "fetched once, then cached");
    assert.ok(!r.text.includes("<img"), "the client's name is shown as text");
    assert.match(r.text, /&#60;img src&#61;x/);
    assert.match(r.text, /identified by its metadata document/);
  });

  test("the SDK client uses its clientMetadataUrl as client id, a human approves, tools answer", async () => {
    let authorizationUrl: URL | undefined;
    let info: { client_id: string } | undefined;
    let saved: OAuthTokens | undefined;
    let savedVerifier = "";
    const provider: OAuthClientProvider = {
      clientMetadataUrl: `${docBase}/sdk`,
      get redirectUrl() {
        return REDIRECT;
      },
      get clientMetadata() {
        return { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" };
      },
      clientInformation: () => info,
      saveClientInformation: (i) => {
        info = i;
      },
      tokens: () => saved,
      saveTokens: (t) => {
        saved = t;
      },
      redirectToAuthorization: (url) => {
        authorizationUrl = url;
      },
      saveCodeVerifier: (v) => {
        savedVerifier = v;
      },
      codeVerifier: () => savedVerifier,
    };
    const fetchFn = httpsFetch({ ca: gw.gateway.caPem });
    const transport = new StreamableHTTPClientTransport(new URL(resource()), {
      authProvider: provider,
      fetch: fetchFn,
    });
    await assert.rejects(new Client({ name: "cimd", version: "1" }).connect(transport), /Unauthorized/);
    assert.equal(authorizationUrl?.searchParams.get("client_id"), `${docBase}/sdk`);
    const form = new URLSearchParams({
      ...Object.fromEntries(authorizationUrl?.searchParams ?? []),
      token: human,
      decision: "approve",
    });
    const approved = await fetchFn(`${gw.gateway.url}/oauth/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const code = new URL(approved.headers.get("location") ?? "").searchParams.get("code");
    assert.ok(code, `approved with ${approved.status}`);
    await transport.finishAuth(code);
    const client = new Client({ name: "cimd", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource()), { authProvider: provider, fetch: fetchFn }),
    );
    const r = await client.callTool({
      name: "k8s_list",
      arguments: { resource: "configmaps", namespace: "prod" },
    });
    assert.notEqual(r.isError, true);
    await client.close();
  });

  test("inward addresses are refused before any request leaves: other loopback, [::1], localhost, mapped, metadata, private", async () => {
    const port = new URL(docBase).port;
    const before = hits.length;
    for (const [clientId, why] of [
      [`https://127.0.0.1:${Number(port) + 1}/good`, /127\.0\.0\.1, which is not a public address/],
      [`https://[::1]:${port}/good`, /::1, which is not a public address/],
      [`https://localhost:${port}/good`, /localhost resolves to .*not a public address/],
      [`https://[::ffff:127.0.0.1]:${port}/good`, /not a public address/],
      [`https://0x7f000001:${Number(port) + 1}/good`, /127\.0\.0\.1, which is not a public address/],
      ["https://169.254.169.254/latest/meta-data/iam", /169\.254\.169\.254, which is not a public address/],
      ["https://[fd00:ec2::254]/latest", /not a public address/],
      ["https://10.0.0.7/client", /not a public address/],
      ["https://100.100.100.200/latest/meta-data", /not a public address/],
    ] as const) {
      const r = await authorize(clientId);
      assert.equal(r.code, 400, clientId);
      assert.equal(r.location, undefined);
      assert.match(r.text, why, clientId);
    }
    assert.equal(hits.length, before, "nothing reached the document server");
  });

  test("redirects are not followed; oversized, slow, non-JSON and mismatched documents are refused", async () => {
    for (const [path, why] of [
      ["/redirect", /redirects are not followed/],
      ["/redirect-metadata", /redirects are not followed/],
      ["/big", /exceeds 4096 bytes/],
      ["/big-chunked", /exceeds 4096 bytes/],
      ["/slow", /did not arrive within 800 ms/],
      ["/text", /not application\/json/],
      ["/wrong-id", /client_id is not its own URL/],
      ["/bad-redirect", /no valid redirect_uris/],
    ] as const) {
      const started = Date.now();
      const r = await authorize(`${docBase}${path}`);
      assert.equal(r.code, 400, path);
      assert.match(r.text, why, path);
      assert.ok(Date.now() - started < 2500, `${path} answered within the time limit`);
    }
  });
});

describe("the outbound guard", () => {
  test("isPublicAddress refuses every inward range and its IPv6 spellings", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:a9fe:a9fe",
      "64:ff9b::a9fe:a9fe",
      "2002:7f00:1::",
      "::127.0.0.1",
      "not-an-ip",
    ]) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      assert.equal(isPublicAddress(ip), true, ip);
    }
  });

  test("a name resolving to any inward address (among public ones) is refused without connecting", async () => {
    let asked = 0;
    const r = await fetchPublicJson(
      "https://rebind.example/client",
      { timeoutMs: 500, maxBytes: 1024 },
      async () => {
        asked++;
        return [
          { address: "93.184.216.34", family: 4 },
          { address: "10.0.0.5", family: 4 },
        ];
      },
    );
    assert.equal(asked, 1);
    assert.deepEqual(r, {
      ok: false,
      why: "the client metadata host rebind.example resolves to 10.0.0.5, which is not a public address",
    });
    const plain = await fetchPublicJson("http://93.184.216.34/client", { timeoutMs: 500, maxBytes: 1024 });
    assert.equal(plain.ok, false);
  });
});
