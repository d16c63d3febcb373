// Airlock as the OAuth 2.1 authorization server of its own /mcp (issue 20 §1), through the official MCP SDK's OAuth
// client providers over HTTPS: discovery from a 401, client_credentials with an identity's client secret and with
// private_key_jwt, the authorization code flow with PKCE for a human, tool calls, revocation of the identity, and the
// hostile-client classes: another resource's token, replayed assertions, algorithm confusion, PKCE downgrade, code
// reuse, expired tokens.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from "jose";
import { httpsFetch } from "../../src/mcp/fetch.ts";
import { runAirlock } from "../helpers/cli.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

let gw: TestGateway;
let skewMs = 0;
let jwtPrivatePem: string;
let human: string;
const clients: Client[] = [];
const REDIRECT = "http://127.0.0.1:7777/callback";

before(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  jwtPrivatePem = await exportPKCS8(pair.privateKey);
  const jwk = await exportJWK(pair.publicKey);
  gw = await startTestGateway({
    now: () => Date.now() + skewMs,
    mcp: {
      oauth: {
        clients: [
          { clientId: "jwt-agent", identity: "jwt-bot", jwks: { keys: [{ ...jwk, alg: "ES256" }] } },
          { clientId: "desktop", name: 'Desktop <script>alert("x")</script>', redirectUris: [REDIRECT] },
        ],
      },
    },
  });
  await gw.addIdentity("jwt-bot", "agent", ["agents"]);
  ({ token: human } = await gw.addIdentity("alice", "human", ["sre"]));
});
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await gw?.close();
});

const issuer = () => gw.gateway.url;
const resource = () => `${gw.gateway.url}/mcp`;
const fetchFn = () => httpsFetch({ ca: gw.gateway.caPem });

/** One raw HTTPS request to the gateway; the body is parsed as JSON when it is JSON. */
function raw(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<{
  code: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  body: any;
  text: string;
}> {
  const payload = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.gateway.url}${path}`,
      {
        method,
        ca: gw.gateway.caPem,
        agent: false,
        headers: {
          ...(payload ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ code: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function connect(authProvider: OAuthClientProvider): Promise<Client> {
  const client = new Client({ name: "airlock-oauth-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), { authProvider, fetch: fetchFn() }),
  );
  clients.push(client);
  return client;
}

async function listConfigMaps(client: Client): Promise<string> {
  const r = await client.callTool({
    name: "k8s_list",
    arguments: { resource: "configmaps", namespace: "prod" },
  });
  assert.notEqual(r.isError, true, JSON.stringify(r.content));
  return (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n");
}

async function oauthClient(identity: string): Promise<{ clientId: string; secret: string }> {
  const made = await gw.gateway.store.credentials.create(identity, { name: "oauth-client" });
  assert.ok(made);
  return { clientId: made.credential.id, secret: made.token };
}

async function clientCredentialsToken(
  clientId: string,
  secret: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  return raw("POST", "/oauth/token", {
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`,
      ...headers,
    },
    form: { grant_type: "client_credentials", resource: resource(), ...extra },
  });
}

describe("discovery", () => {
  test("a 401 from /mcp names the resource metadata, which names Airlock as the authorization server", async () => {
    const r = await raw("POST", "/mcp", { headers: { "content-type": "application/json" } });
    assert.equal(r.code, 401);
    const wwwAuth = String(r.headers["www-authenticate"]);
    const url = /resource_metadata="([^"]+)"/.exec(wwwAuth)?.[1];
    assert.equal(url, `${issuer()}/.well-known/oauth-protected-resource`);
    const prm = await raw("GET", "/.well-known/oauth-protected-resource/mcp");
    assert.equal(prm.code, 200);
    assert.equal(prm.body.resource, resource());
    assert.deepEqual(prm.body.authorization_servers, [issuer()]);
    const as = await raw("GET", "/.well-known/oauth-authorization-server");
    assert.equal(as.code, 200);
    assert.equal(as.body.issuer, issuer());
    assert.equal(as.body.token_endpoint, `${issuer()}/oauth/token`);
    assert.deepEqual(as.body.code_challenge_methods_supported, ["S256"]);
    assert.deepEqual(as.body.grant_types_supported, ["authorization_code", "client_credentials"]);
    assert.equal(as.body.client_id_metadata_document_supported, false);
    assert.equal(as.body.registration_endpoint, undefined, "dynamic registration is not offered");
  });
});

describe("client_credentials for agents", () => {
  test("the SDK's ClientCredentialsProvider discovers, gets a token, calls tools; revoking the identity ends it", async () => {
    await gw.addIdentity("cc-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("cc-bot");
    const provider = new ClientCredentialsProvider({
      clientId,
      clientSecret: secret,
      expectedIssuer: issuer(),
    });
    const client = await connect(provider);
    assert.match(await listConfigMaps(client), /NAME/);
    const tokens = provider.tokens() as OAuthTokens;
    assert.equal(tokens.token_type.toLowerCase(), "bearer");
    assert.ok(tokens.expires_in && tokens.expires_in <= 600);
    assert.ok(!gw.logs.join("").includes(tokens.access_token), "the access token is never logged");
    assert.ok(!gw.logs.join("").includes(secret), "the client secret is never logged");
    const records = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    const issued = records.filter(
      (r) => r.type === "identity.oauth.token.issued" && r.body.includes('"cc-bot"'),
    );
    assert.ok(issued.length >= 1, "the token's issue is an audit note");
    assert.ok(
      !records.some((r) => r.body.includes(tokens.access_token)),
      "the token is not in the audit log",
    );
    // Revoked: the very next call is refused, although the token has not expired.
    await gw.gateway.store.identities.revoke("cc-bot");
    const direct = await raw("POST", "/mcp", {
      headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json" },
    });
    assert.equal(direct.code, 401);
    assert.match(direct.body.message, /no longer active/);
    await assert.rejects(listConfigMaps(client));
  });

  test("`airlock identity oauth-client create` prints a client id and secret once; the secret works; revoking the credential ends its tokens", async () => {
    await gw.addIdentity("cli-bot", "agent", ["agents"]);
    const admin = (await readFile(gw.gateway.adminTokenPath, "utf8")).trim();
    const caFile = join(gw.dir, "ca.crt");
    await writeFile(caFile, gw.gateway.caPem);
    const made = await runAirlock(gw, caFile, admin, ["identity", "oauth-client", "create", "cli-bot"]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /shown only once/);
    const clientId = /client_id: (\S+)/.exec(made.stdout)?.[1] ?? "";
    const secret = /client_secret: (\S+)/.exec(made.stdout)?.[1] ?? "";
    assert.ok(clientId && secret, made.stdout);
    const creds = await gw.gateway.store.credentials.list("cli-bot");
    const cred = creds?.find((c) => c.id === clientId);
    assert.equal(cred?.name, "oauth-client");
    assert.notEqual(cred?.tokenHash, secret, "stored hashed");
    const t = await clientCredentialsToken(clientId, secret);
    assert.equal(t.code, 200, t.text);
    const revoke = await runAirlock(gw, caFile, admin, [
      "identity",
      "credential",
      "revoke",
      "cli-bot",
      clientId,
    ]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const r = await raw("POST", "/mcp", {
      headers: { authorization: `Bearer ${t.body.access_token}`, "content-type": "application/json" },
    });
    assert.equal(r.code, 401);
    assert.equal((await clientCredentialsToken(clientId, secret)).code, 401);
    const usage = await runAirlock(gw, caFile, admin, ["identity", "oauth-client", "list"]);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /usage: airlock identity oauth-client create NAME/);
  });

  test("a disabled identity's token is refused on the next request, and works again once it is enabled", async () => {
    await gw.addIdentity("dis-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("dis-bot");
    const t = await clientCredentialsToken(clientId, secret);
    assert.equal(t.code, 200, t.text);
    const call = () =>
      raw("POST", "/mcp", {
        headers: {
          authorization: `Bearer ${t.body.access_token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
      });
    assert.notEqual((await call()).code, 401);
    await gw.gateway.store.identities.setDisabled("dis-bot", true);
    assert.equal((await call()).code, 401);
    await gw.gateway.store.identities.setDisabled("dis-bot", false);
    assert.notEqual((await call()).code, 401);
  });

  test("a wrong secret, a human identity, and a missing or foreign resource are refused (RFC 6749 JSON errors)", async () => {
    await gw.addIdentity("res-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("res-bot");
    const wrong = await clientCredentialsToken(clientId, `${secret}x`);
    assert.equal(wrong.code, 401);
    assert.equal(wrong.body.error, "invalid_client");
    const humanClient = await oauthClient("alice");
    const h = await clientCredentialsToken(humanClient.clientId, humanClient.secret);
    assert.equal(h.body.error, "unauthorized_client");
    const missing = await raw("POST", "/oauth/token", {
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}` },
      form: { grant_type: "client_credentials" },
    });
    assert.equal(missing.code, 400);
    assert.equal(missing.body.error, "invalid_target");
    for (const other of [
      "https://evil.example/mcp",
      `${issuer()}/airlock/v1`,
      `${issuer()}/mcp/`,
      issuer(),
    ]) {
      const r = await clientCredentialsToken(clientId, secret, { resource: other });
      assert.equal(r.body.error, "invalid_target", other);
    }
    const twice = await raw("POST", "/oauth/token", {
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}` },
      form: { grant_type: "client_credentials", resource: resource() },
    });
    assert.equal(twice.code, 200, "the control: the same request without tricks is served");
    const noGrant = await raw("POST", "/oauth/token", { form: { resource: resource() } });
    assert.equal(noGrant.body.error, "unsupported_grant_type");
  });

  test("a token for another resource (another audience) is refused at /mcp", async () => {
    await gw.addIdentity("aud-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("aud-bot");
    // Minted when the gateway was reached as `localhost`: its audience is https://localhost:PORT/mcp.
    const port = new URL(gw.gateway.url).port;
    const t = await clientCredentialsToken(
      clientId,
      secret,
      { resource: `https://localhost:${port}/mcp` },
      { host: `localhost:${port}` },
    );
    assert.equal(t.code, 200, t.text);
    const r = await raw("POST", "/mcp", {
      headers: { authorization: `Bearer ${t.body.access_token}`, "content-type": "application/json" },
    });
    assert.equal(r.code, 401);
    assert.match(String(r.headers["www-authenticate"]), /error="invalid_token"/);
    // Nor is it accepted anywhere else: the Kubernetes API and the admin API do not read OAuth access tokens.
    const good = await clientCredentialsToken(clientId, secret);
    for (const path of ["/api/v1/namespaces/prod/configmaps", "/airlock/v1/identities"]) {
      const k = await raw("GET", path, { headers: { authorization: `Bearer ${good.body.access_token}` } });
      assert.equal(k.code, 401, path);
    }
  });

  test("an expired access token is refused (the gateway's clock moved past its 10 minutes)", async () => {
    await gw.addIdentity("exp-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("exp-bot");
    const t = await clientCredentialsToken(clientId, secret);
    assert.equal(t.body.expires_in, 600);
    const call = () =>
      raw("POST", "/mcp", {
        headers: {
          authorization: `Bearer ${t.body.access_token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
      });
    assert.notEqual((await call()).code, 401);
    skewMs = 601_000;
    try {
      const r = await call();
      assert.equal(r.code, 401);
      assert.match(r.body.message, /expired/);
    } finally {
      skewMs = 0;
    }
  });

  test("tokens signed with alg none, or HS256 keyed with anything public, are refused", async () => {
    await gw.addIdentity("alg-bot", "agent", ["agents"]);
    const { clientId, secret } = await oauthClient("alg-bot");
    const real = await clientCredentialsToken(clientId, secret);
    const [, payloadPart = ""] = String(real.body.access_token).split(".");
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString("base64url");
    const { kid } = JSON.parse(
      Buffer.from(String(real.body.access_token).split(".")[0] ?? "", "base64url").toString(),
    ) as { kid: string };
    const none = `${header({ alg: "none", typ: "at+jwt", kid })}.${payloadPart}.`;
    const hsWith = (secret: string) =>
      new SignJWT(JSON.parse(Buffer.from(payloadPart, "base64url").toString()))
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid })
        .sign(new TextEncoder().encode(secret));
    // HMAC keyed with what an attacker can see (the gateway's CA, the key id), all naming Airlock's key id so that
    // the OAuth verifier (not the authenticator chain) is the one that refuses them.
    const forgeries = [none, await hsWith(gw.gateway.caPem), await hsWith(kid)];
    for (const forged of forgeries) {
      const r = await raw("POST", "/mcp", {
        headers: { authorization: `Bearer ${forged}`, "content-type": "application/json" },
      });
      assert.equal(r.code, 401);
      assert.match(r.body.message, /the access token is not valid here/, "refused by the OAuth verifier");
    }
  });
});

describe("private_key_jwt (RFC 7523)", () => {
  test("the SDK's PrivateKeyJwtProvider gets a token for the client's identity and calls tools", async () => {
    const provider = new PrivateKeyJwtProvider({
      clientId: "jwt-agent",
      privateKey: jwtPrivatePem,
      algorithm: "ES256",
      expectedIssuer: issuer(),
    });
    const client = await connect(provider);
    assert.match(await listConfigMaps(client), /NAME/);
  });

  async function assertion(claims: Record<string, unknown>, alg = "ES256", key?: Uint8Array) {
    const { importPKCS8 } = await import("jose");
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      jti: randomBytes(8).toString("hex"),
      iss: "jwt-agent",
      sub: "jwt-agent",
      aud: `${issuer()}/oauth/token`,
      iat: now,
      exp: now + 60,
      ...claims,
    })
      .setProtectedHeader({ alg })
      .sign(key ?? (await importPKCS8(jwtPrivatePem, "ES256")));
  }
  const withAssertion = (a: string) =>
    raw("POST", "/oauth/token", {
      form: {
        grant_type: "client_credentials",
        resource: resource(),
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: a,
      },
    });

  test("an assertion's jti is accepted once: a replay is refused", async () => {
    const a = await assertion({});
    assert.equal((await withAssertion(a)).code, 200);
    const replay = await withAssertion(a);
    assert.equal(replay.code, 401);
    assert.match(replay.body.error_description, /jti was already used/);
  });

  test("assertions for another audience, long-lived, unsigned or HMAC-signed are refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    const wrongAud = await assertion({ aud: "https://other.example/token" });
    const longLived = await assertion({ exp: now + 3600 });
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString("base64url");
    const body = Buffer.from(
      JSON.stringify({ iss: "jwt-agent", sub: "jwt-agent", aud: issuer(), exp: now + 60, jti: "n1" }),
    ).toString("base64url");
    const none = `${header({ alg: "none" })}.${body}.`;
    const hs = await assertion({}, "HS256", new TextEncoder().encode("jwt-agent"));
    for (const [name, a] of Object.entries({ wrongAud, longLived, none, hs })) {
      const r = await withAssertion(a);
      assert.equal(r.code, 401, name);
      assert.equal(r.body.error, "invalid_client", name);
    }
  });

  test("revoking the client's identity refuses new tokens and the tokens already issued", async () => {
    const t = await withAssertion(await assertion({}));
    assert.equal(t.code, 200);
    await gw.gateway.store.identities.setDisabled("jwt-bot", true);
    try {
      const r = await raw("POST", "/mcp", {
        headers: { authorization: `Bearer ${t.body.access_token}`, "content-type": "application/json" },
      });
      assert.equal(r.code, 401);
      const again = await withAssertion(await assertion({}));
      assert.equal(again.code, 401);
      assert.match(again.body.error_description, /not active/);
    } finally {
      await gw.gateway.store.identities.setDisabled("jwt-bot", false);
    }
  });
});

describe("authorization code + PKCE for humans", () => {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorizeQuery = (over: Record<string, string | undefined> = {}) => {
    const q = new URLSearchParams();
    const base: Record<string, string | undefined> = {
      response_type: "code",
      client_id: "desktop",
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "st-1",
      resource: resource(),
      ...over,
    };
    for (const [k, v] of Object.entries(base)) if (v !== undefined) q.set(k, v);
    return q;
  };

  async function approve(token: string, over: Record<string, string | undefined> = {}) {
    const form = Object.fromEntries(authorizeQuery(over));
    return raw("POST", "/oauth/authorize", { form: { ...form, token, decision: "approve" } });
  }

  test("the consent page escapes the client's name and cannot be framed", async () => {
    const r = await raw("GET", `/oauth/authorize?${authorizeQuery()}`);
    assert.equal(r.code, 200);
    assert.ok(!r.text.includes("<script>"), "no markup from the client's name");
    assert.match(r.text, /&#60;script&#62;/);
    assert.match(String(r.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.equal(r.headers["x-frame-options"], "DENY");
  });

  test("missing PKCE and plain PKCE are refused; an unregistered redirect is never redirected to", async () => {
    for (const over of [
      { code_challenge: undefined, code_challenge_method: undefined },
      { code_challenge_method: "plain", code_challenge: verifier },
      { code_challenge_method: undefined },
    ]) {
      const r = await raw("GET", `/oauth/authorize?${authorizeQuery(over)}`);
      assert.equal(r.code, 303, JSON.stringify(over));
      const to = new URL(String(r.headers.location));
      assert.equal(to.searchParams.get("error"), "invalid_request");
      assert.equal(to.searchParams.get("code"), null);
    }
    const evil = await raw(
      "GET",
      `/oauth/authorize?${authorizeQuery({ redirect_uri: "https://evil.example/cb" })}`,
    );
    assert.equal(evil.code, 400);
    assert.equal(evil.headers.location, undefined);
    // Even an approval POSTed straight away gets no code without PKCE.
    const direct = await approve(human, { code_challenge: undefined, code_challenge_method: undefined });
    assert.equal(new URL(String(direct.headers.location)).searchParams.get("code"), null);
  });

  test("an agent's token cannot sign in; a code is single-use and bound to its verifier, client and redirect", async () => {
    const { token: agentToken } = await gw.addIdentity("signin-bot", "agent", ["agents"]);
    const refused = await approve(agentToken);
    assert.equal(refused.code, 401);
    assert.equal(refused.headers.location, undefined);
    const codeOf = async () => {
      const r = await approve(human);
      assert.equal(r.code, 303);
      const to = new URL(String(r.headers.location));
      assert.equal(to.searchParams.get("state"), "st-1");
      assert.equal(to.searchParams.get("iss"), issuer());
      return to.searchParams.get("code") ?? "";
    };
    const exchange = (code: string, over: Record<string, string> = {}) =>
      raw("POST", "/oauth/token", {
        form: {
          grant_type: "authorization_code",
          client_id: "desktop",
          code,
          redirect_uri: REDIRECT,
          code_verifier: verifier,
          resource: resource(),
          ...over,
        },
      });
    const wrongVerifier = await exchange(await codeOf(), {
      code_verifier: randomBytes(32).toString("base64url"),
    });
    assert.equal(wrongVerifier.body.error, "invalid_grant");
    const noVerifier = await raw("POST", "/oauth/token", {
      form: {
        grant_type: "authorization_code",
        client_id: "desktop",
        code: await codeOf(),
        redirect_uri: REDIRECT,
        resource: resource(),
      },
    });
    assert.equal(noVerifier.body.error, "invalid_request");
    const code = await codeOf();
    const first = await exchange(code);
    assert.equal(first.code, 200, first.text);
    assert.equal(first.body.refresh_token, undefined);
    const reuse = await exchange(code);
    assert.equal(reuse.code, 400);
    assert.equal(reuse.body.error, "invalid_grant");
    const otherClient = await exchange(await codeOf(), { client_id: "jwt-agent" });
    assert.equal(otherClient.body.error, "invalid_grant");
    // The human's token: tool calls run as alice.
    const r = await raw("POST", "/mcp", {
      headers: {
        authorization: `Bearer ${first.body.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
    });
    assert.notEqual(r.code, 401);
  });

  test("a human signed in to the console approves with the session (and its CSRF token), no token typed", async () => {
    const login = await new Promise<{ cookie: string }>((resolve, reject) => {
      const req = request(
        `${gw.gateway.url}/ui/api/login`,
        {
          method: "POST",
          ca: gw.gateway.caPem,
          agent: false,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          const setCookie = String(res.headers["set-cookie"] ?? "");
          resolve({ cookie: setCookie.split(";")[0] ?? "" });
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ token: human }));
    });
    assert.match(login.cookie, /^__Host-airlock-session=/);
    const pageAnswer = await raw("GET", `/oauth/authorize?${authorizeQuery()}`, {
      headers: { cookie: login.cookie },
    });
    assert.equal(pageAnswer.code, 200);
    assert.match(pageAnswer.text, /Signed in to the Airlock console as <b>alice<\/b>/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(pageAnswer.text)?.[1];
    assert.ok(csrf);
    const form = Object.fromEntries(authorizeQuery());
    const forged = await raw("POST", "/oauth/authorize", {
      headers: { cookie: login.cookie },
      form: { ...form, decision: "approve", csrf: "not-the-token" },
    });
    assert.equal(forged.code, 401, "the cookie alone does not approve (CSRF)");
    assert.equal(forged.headers.location, undefined);
    const ok = await raw("POST", "/oauth/authorize", {
      headers: { cookie: login.cookie },
      form: { ...form, decision: "approve", csrf },
    });
    assert.equal(ok.code, 303);
    assert.ok(new URL(String(ok.headers.location)).searchParams.get("code"));
    const records = await gw.gateway.store.audit.records({ afterSeq: 0, limit: 10_000 });
    assert.ok(records.some((r) => r.type === "identity.oauth.signin.approved" && r.body.includes('"alice"')));
    const denied = await raw("POST", "/oauth/authorize", {
      headers: { cookie: login.cookie },
      form: { ...form, decision: "deny", csrf },
    });
    assert.equal(new URL(String(denied.headers.location)).searchParams.get("error"), "access_denied");
  });

  test("a client identified by a URL is refused while client metadata documents are off (the default)", async () => {
    const r = await raw(
      "GET",
      `/oauth/authorize?${authorizeQuery({ client_id: "https://client.example/metadata.json" })}`,
    );
    assert.equal(r.code, 400);
    assert.match(r.text, /client ID metadata documents are not accepted here/);
    assert.equal(r.headers.location, undefined);
  });

  test("the SDK client signs a human in through the browser step and calls tools as that human", async () => {
    let authorizationUrl: URL | undefined;
    let info: OAuthClientInformationMixed | undefined = { client_id: "desktop" };
    let saved: OAuthTokens | undefined;
    let savedVerifier = "";
    const provider: OAuthClientProvider = {
      get redirectUrl() {
        return REDIRECT;
      },
      get clientMetadata(): OAuthClientMetadata {
        return { client_name: "sdk-test", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" };
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
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
      authProvider: provider,
      fetch: fetchFn(),
    });
    const client = new Client({ name: "airlock-oauth-human", version: "1.0.0" });
    await assert.rejects(client.connect(transport), /Unauthorized/);
    assert.ok(authorizationUrl);
    assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
    assert.equal(authorizationUrl.searchParams.get("resource"), resource());
    // The browser: the page, then the human approves with their token.
    const pageAnswer = await raw("GET", `${authorizationUrl.pathname}${authorizationUrl.search}`);
    assert.equal(pageAnswer.code, 200);
    const approved = await raw("POST", "/oauth/authorize", {
      form: { ...Object.fromEntries(authorizationUrl.searchParams), token: human, decision: "approve" },
    });
    const code = new URL(String(approved.headers.location)).searchParams.get("code");
    assert.ok(code);
    await transport.finishAuth(code);
    const again = new Client({ name: "airlock-oauth-human", version: "1.0.0" });
    await again.connect(
      new StreamableHTTPClientTransport(new URL(`${gw.gateway.url}/mcp`), {
        authProvider: provider,
        fetch: fetchFn(),
      }),
    );
    clients.push(again);
    assert.match(await listConfigMaps(again), /NAME/);
  });
});

// Last in the file: it spends this source address's sign-in failures for the window.
describe("sign-in throttling", () => {
  test("guessing tokens at the authorization endpoint is throttled per source address, like the console", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const form = {
      response_type: "code",
      client_id: "desktop",
      redirect_uri: REDIRECT,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      resource: resource(),
      decision: "approve",
    };
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await raw("POST", "/oauth/authorize", { form: { ...form, token: `guess-${i}` } });
      codes.push(r.code);
    }
    // 10 failures per source and window (an earlier test's agent sign-in spent one of them).
    const first = codes.indexOf(429);
    assert.ok(first >= 8 && first <= 10, codes.join(","));
    assert.ok(
      codes.slice(0, first).every((c) => c === 401),
      codes.join(","),
    );
    assert.ok(
      codes.slice(first).every((c) => c === 429),
      codes.join(","),
    );
    // Even the right token waits out the window now.
    const right = await raw("POST", "/oauth/authorize", { form: { ...form, token: human } });
    assert.equal(right.code, 429);
  });
});
