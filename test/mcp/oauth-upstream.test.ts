// Humans signing in to an MCP client through an upstream OpenID Connect provider (mcp.oauth.upstream), against a
// small but real local OIDC provider (discovery, JWKS, authorization endpoint with an already signed-in user, token
// endpoint checking the client secret, the code and PKCE, ID tokens with the nonce). Airlock is its client; the
// human still approves on Airlock's page; the username claim names an existing human identity; allowedGroups gates.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https, { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

const REDIRECT = "http://127.0.0.1:7779/callback";
const CLIENT_SECRET = "upstream-secret-0123456789";

interface FakeUser {
  preferred_username: string;
  groups: string[];
}

/** The fake provider: one signed-in user at a time (`user`), codes single-use, PKCE and the client secret checked. */
async function startFakeIdp() {
  const ca = createCertificateAuthority("fake-idp-ca");
  const tls = issueServerCertificate(ca, {
    commonName: "idp",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const keys = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const state = {
    issuer: "",
    user: { preferred_username: "dave", groups: ["sre"] } as FakeUser,
    /** Test switches for hostile provider answers. */
    wrongNonce: false,
    foreignKey: false,
    codes: new Map<string, { nonce: string; challenge: string; redirect: string; user: FakeUser }>(),
  };
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, async (req, res) => {
    const url = new URL(req.url ?? "/", state.issuer);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: state.issuer,
        authorization_endpoint: `${state.issuer}/authorize`,
        token_endpoint: `${state.issuer}/token`,
        jwks_uri: `${state.issuer}/jwks`,
      });
    }
    if (url.pathname === "/jwks") {
      return json(200, {
        keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "RS256", use: "sig" }],
      });
    }
    if (url.pathname === "/authorize") {
      const q = url.searchParams;
      if (q.get("client_id") !== "airlock" || q.get("code_challenge_method") !== "S256") return json(400, {});
      const code = randomBytes(16).toString("hex");
      state.codes.set(code, {
        nonce: q.get("nonce") ?? "",
        challenge: q.get("code_challenge") ?? "",
        redirect: q.get("redirect_uri") ?? "",
        user: { ...state.user },
      });
      const back = new URL(q.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const basic = Buffer.from(`airlock:${CLIENT_SECRET}`).toString("base64");
      if (req.headers.authorization !== `Basic ${basic}`) return json(401, { error: "invalid_client" });
      const grant = state.codes.get(form.get("code") ?? "");
      state.codes.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier") ?? "";
      if (
        !grant ||
        grant.redirect !== form.get("redirect_uri") ||
        createHash("sha256").update(verifier).digest("base64url") !== grant.challenge
      )
        return json(400, { error: "invalid_grant" });
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({
        ...grant.user,
        nonce: state.wrongNonce ? "another" : grant.nonce,
      })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(state.issuer)
        .setAudience("airlock")
        .setSubject(`sub-${grant.user.preferred_username}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(state.foreignKey ? foreign.privateKey : keys.privateKey);
      return json(200, { id_token: idToken, access_token: "idp-access", token_type: "Bearer" });
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  state.issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { state, caPem: ca.certPem, close: () => server.close() };
}

let idp: Awaited<ReturnType<typeof startFakeIdp>>;
let gw: TestGateway;
let dir: string;

before(async () => {
  idp = await startFakeIdp();
  dir = await mkdtemp(join(tmpdir(), "airlock-upstream-"));
  await writeFile(join(dir, "secret"), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  await writeFile(join(dir, "idp-ca.crt"), idp.caPem);
  gw = await startTestGateway({
    mcp: {
      oauth: {
        clients: [{ clientId: "desktop", name: "Desktop", redirectUris: [REDIRECT] }],
        upstream: {
          name: "Test IdP",
          issuer: idp.state.issuer,
          clientId: "airlock",
          clientSecretFile: join(dir, "secret"),
          caFile: join(dir, "idp-ca.crt"),
          allowedGroups: ["sre"],
        },
      },
    },
  });
  await gw.addIdentity("dave", "human", ["sre"]);
  await gw.addIdentity("erin", "human", ["sre"]);
  await gw.addIdentity("robo", "agent", ["agents"]);
});
after(async () => {
  await gw?.close();
  idp?.close();
  await rm(dir, { recursive: true, force: true });
});

function get(
  url: string,
  ca: string,
  opts: { method?: string; form?: Record<string, string> } = {},
): Promise<{ code: number; location?: string; text: string; body: Record<string, unknown> }> {
  const payload = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? "GET",
        ca,
        agent: false,
        headers: payload ? { "content-type": "application/x-www-form-urlencoded" } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({
            code: res.statusCode ?? 0,
            text,
            body,
            ...(res.headers.location ? { location: res.headers.location } : {}),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const verifier = randomBytes(32).toString("base64url");
const clientRequest = () =>
  new URLSearchParams({
    response_type: "code",
    client_id: "desktop",
    redirect_uri: REDIRECT,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "client-state",
    resource: `${gw.gateway.url}/mcp`,
  });

/** The browser's part up to Airlock's approval page (or a refusal): start → provider → callback. */
async function viaProvider(): Promise<{ code: number; text: string; location?: string }> {
  const start = await get(`${gw.gateway.url}/oauth/upstream/start?${clientRequest()}`, gw.gateway.caPem);
  assert.equal(start.code, 303, start.text);
  assert.ok(start.location?.startsWith(`${idp.state.issuer}/authorize?`));
  const atIdp = await get(start.location ?? "", idp.caPem);
  assert.equal(atIdp.code, 302);
  assert.ok(atIdp.location?.startsWith(`${gw.gateway.url}/oauth/upstream/callback?`), atIdp.location);
  return get(atIdp.location ?? "", gw.gateway.caPem);
}

describe("upstream OIDC sign-in for humans", () => {
  test("the consent page offers the provider; the provider signs dave in, dave approves, the client gets a token that acts as dave", async () => {
    const consent = await get(`${gw.gateway.url}/oauth/authorize?${clientRequest()}`, gw.gateway.caPem);
    assert.match(consent.text, /sign in with Test IdP/);
    idp.state.user = { preferred_username: "dave", groups: ["sre", "other"] };
    const approvePage = await viaProvider();
    assert.equal(approvePage.code, 200, approvePage.text);
    assert.equal(approvePage.location, undefined, "the provider's answer alone grants nothing");
    assert.match(approvePage.text, /Test IdP signed you in as <b>dave<\/b>/);
    const approval = /name="approval" value="([^"]+)"/.exec(approvePage.text)?.[1] ?? "";
    const approved = await get(`${gw.gateway.url}/oauth/upstream/callback`, gw.gateway.caPem, {
      method: "POST",
      form: { approval, decision: "approve" },
    });
    assert.equal(approved.code, 303, approved.text);
    const back = new URL(approved.location ?? "");
    assert.equal(back.searchParams.get("state"), "client-state");
    const code = back.searchParams.get("code") ?? "";
    const again = await get(`${gw.gateway.url}/oauth/upstream/callback`, gw.gateway.caPem, {
      method: "POST",
      form: { approval, decision: "approve" },
    });
    assert.equal(again.code, 400, "an approval is used once");
    const token = await get(`${gw.gateway.url}/oauth/token`, gw.gateway.caPem, {
      method: "POST",
      form: {
        grant_type: "authorization_code",
        client_id: "desktop",
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        resource: `${gw.gateway.url}/mcp`,
      },
    });
    assert.equal(token.code, 200, token.text);
    const accessToken = String(token.body.access_token);
    const call = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${gw.gateway.url}/mcp`,
          {
            method: "POST",
            ca: gw.gateway.caPem,
            agent: false,
            headers: {
              authorization: `Bearer ${accessToken}`,
              "content-type": "application/json",
              accept: "application/json, text/event-stream",
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
      });
    assert.equal(await call(), 200);
    await gw.gateway.store.identities.setDisabled("dave", true);
    assert.equal(await call(), 401, "disabling the human ends the token");
    await gw.gateway.store.identities.setDisabled("dave", false);
    assert.equal(await call(), 200);
  });

  test("a user outside allowedGroups, a user with no human identity, a replayed callback, a wrong nonce and a forged ID token are refused", async () => {
    const refusedWith = async (why: RegExp) => {
      const r = await viaProvider();
      assert.equal(r.code, 400, r.text);
      assert.equal(r.location, undefined);
      assert.match(r.text, why);
    };
    idp.state.user = { preferred_username: "erin", groups: ["contractors"] };
    await refusedWith(/erin is in none of the groups allowed/);
    idp.state.user = { preferred_username: "mallory", groups: ["sre"] };
    await refusedWith(/mallory is not an active human identity/);
    idp.state.user = { preferred_username: "robo", groups: ["sre"] };
    await refusedWith(/robo is not an active human identity/);
    idp.state.user = { preferred_username: "dave", groups: ["sre"] };
    idp.state.wrongNonce = true;
    await refusedWith(/nonce/);
    idp.state.wrongNonce = false;
    idp.state.foreignKey = true;
    await refusedWith(/the ID token is not valid/);
    idp.state.foreignKey = false;
    // The provider's redirect replayed: the state is single-use.
    const start = await get(`${gw.gateway.url}/oauth/upstream/start?${clientRequest()}`, gw.gateway.caPem);
    const atIdp = await get(start.location ?? "", idp.caPem);
    assert.equal((await get(atIdp.location ?? "", gw.gateway.caPem)).code, 200);
    const replay = await get(atIdp.location ?? "", gw.gateway.caPem);
    assert.equal(replay.code, 400);
    assert.match(replay.text, /unknown, finished or expired/);
  });

  test("the start link validates the MCP client's request first (no PKCE: no trip to the provider)", async () => {
    const q = clientRequest();
    q.delete("code_challenge");
    const r = await get(`${gw.gateway.url}/oauth/upstream/start?${q}`, gw.gateway.caPem);
    assert.equal(r.code, 400);
    assert.match(r.text, /PKCE is required/);
  });
});
