// Humans signing in through an upstream OpenID Connect provider (mcp.oauth.upstream): Airlock is the provider's
// client (authorization code + PKCE S256 + nonce), and the verified ID token's username claim names the Airlock
// human identity the MCP client's token will act as.
//
// Security stance: the provider's endpoints come from its discovery document, which must name the configured issuer
// exactly and https endpoints; the ID token is verified with the provider's JWKS (asymmetric algorithms only), the
// client id as audience and the nonce Airlock chose; the state is single-use (shared store) and expires in 10
// minutes; the user must be an existing, active human identity (no identity is created from a provider's claims) and,
// when allowedGroups is set, in one of those groups. The client secret is read from a file and never logged.
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import https from "node:https";
import type { OAuthConfig } from "../../identity/oauth-config.ts";
import type { Identity } from "../../identity/types.ts";
import { getJson } from "../../identity/workload/https-json.ts";
import { createOidcVerifier } from "../../identity/workload/oidc.ts";
import type { Store } from "../../store/types.ts";

export const UPSTREAM_START_PATH = "/oauth/upstream/start";
export const UPSTREAM_CALLBACK_PATH = "/oauth/upstream/callback";
const STATE_TTL_MS = 10 * 60_000;
const ID_TOKEN_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

type Upstream = NonNullable<OAuthConfig["upstream"]>;

interface PendingSignIn {
  /** The MCP client's authorization request, as it came. */
  request: string;
  nonce: string;
  verifier: string;
  expiresMs: number;
  used?: boolean;
}

const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

function postForm(
  url: string,
  form: URLSearchParams,
  opts: { caPem?: string; basic: string },
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== "https:") return reject(new Error("the token endpoint is not https"));
    const body = Buffer.from(form.toString());
    const req = https.request(
      u,
      {
        method: "POST",
        timeout: 10_000,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": String(body.length),
          accept: "application/json",
          authorization: `Basic ${opts.basic}`,
        },
        ...(opts.caPem ? { ca: opts.caPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > 256 * 1024) req.destroy(new Error("the token answer is too large"));
          else chunks.push(c);
        });
        res.on("end", () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
            if (res.statusCode !== 200)
              return reject(
                new Error(`the provider refused the code (${String(json.error ?? res.statusCode)})`),
              );
            resolve(json);
          } catch {
            reject(new Error(`the provider's token answer is not JSON (HTTP ${res.statusCode})`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("the provider did not answer in time")));
    req.on("error", reject);
    req.end(body);
  });
}

export type UpstreamSignIn = ReturnType<typeof createUpstreamSignIn>;

export function createUpstreamSignIn(deps: { config: () => OAuthConfig; store: Store; now: () => number }) {
  const { store, now } = deps;
  let cached: { key: string; atMs: number; authorize: string; token: string } | undefined;
  let verifier: { key: string; verify: ReturnType<typeof createOidcVerifier> } | undefined;

  const caOf = async (up: Upstream) => (up.caFile ? readFile(up.caFile, "utf8") : undefined);

  async function endpoints(up: Upstream): Promise<{ authorize: string; token: string }> {
    const key = `${up.issuer}\n${up.caFile ?? ""}`;
    if (cached && cached.key === key && now() - cached.atMs < 3_600_000) return cached;
    const caPem = await caOf(up);
    const doc = await getJson(`${up.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, {
      ...(caPem ? { caPem } : {}),
    });
    if (doc.issuer !== up.issuer)
      throw new Error(`the provider's discovery names issuer ${String(doc.issuer)}`);
    const authorize = String(doc.authorization_endpoint ?? "");
    const token = String(doc.token_endpoint ?? "");
    if (!authorize.startsWith("https://") || !token.startsWith("https://"))
      throw new Error("the provider's discovery has no https authorization and token endpoints");
    cached = { key, atMs: now(), authorize, token };
    return cached;
  }

  function idTokenVerifier(up: Upstream, caPem: string | undefined) {
    const key = `${up.issuer}\n${up.clientId}\n${up.caFile ?? ""}`;
    if (verifier?.key !== key) {
      verifier = {
        key,
        verify: createOidcVerifier({
          name: "mcp-upstream",
          issuer: up.issuer,
          audiences: [up.clientId],
          algorithms: ID_TOKEN_ALGS,
          clockSkewSeconds: 30,
          now,
          ...(caPem ? { caPem } : {}),
        }),
      };
    }
    return verifier.verify;
  }

  /** Where to send the browser: the provider's authorization endpoint, for this MCP client's request. */
  async function start(request: URLSearchParams, issuer: string): Promise<string> {
    const up = deps.config().upstream;
    if (!up) throw new Error("no upstream identity provider is configured");
    const { authorize } = await endpoints(up);
    const state = randomBytes(32).toString("base64url");
    const pending: PendingSignIn = {
      request: request.toString(),
      nonce: randomBytes(16).toString("base64url"),
      verifier: randomBytes(32).toString("base64url"),
      expiresMs: now() + STATE_TTL_MS,
    };
    if (
      !(await store.counters.swap(`oauth-up:${sha256(state)}`, 0, JSON.stringify(pending), pending.expiresMs))
    )
      throw new Error("state collision");
    const url = new URL(authorize);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", up.clientId);
    url.searchParams.set("redirect_uri", `${issuer}${UPSTREAM_CALLBACK_PATH}`);
    url.searchParams.set("scope", up.scopes.join(" "));
    url.searchParams.set("state", state);
    url.searchParams.set("nonce", pending.nonce);
    url.searchParams.set("code_challenge", createHash("sha256").update(pending.verifier).digest("base64url"));
    url.searchParams.set("code_challenge_method", "S256");
    return url.toString();
  }

  /** The provider sent the browser back: the human identity it signed in, and the MCP client's request. */
  async function callback(
    query: URLSearchParams,
    issuer: string,
  ): Promise<{ identity: Identity; request: URLSearchParams }> {
    const up = deps.config().upstream;
    if (!up) throw new Error("no upstream identity provider is configured");
    const state = query.get("state") ?? "";
    const key = `oauth-up:${sha256(state)}`;
    const row = state ? await store.counters.get(key) : undefined;
    const pending = row ? (JSON.parse(row.state) as PendingSignIn) : undefined;
    if (!row || !pending || pending.used || pending.expiresMs <= now())
      throw new Error("this sign-in is unknown, finished or expired; start again from your MCP client");
    if (
      !(await store.counters.swap(
        key,
        row.version,
        JSON.stringify({ ...pending, used: true }),
        pending.expiresMs,
      ))
    )
      throw new Error("this sign-in is unknown, finished or expired; start again from your MCP client");
    if (query.get("error"))
      throw new Error(`the identity provider answered ${query.get("error")?.slice(0, 100)}`);
    const code = query.get("code");
    if (!code) throw new Error("the identity provider sent no code");
    const { token } = await endpoints(up);
    const caPem = await caOf(up);
    const secret = (await readFile(up.clientSecretFile, "utf8")).trim();
    const basic = Buffer.from(`${encodeURIComponent(up.clientId)}:${encodeURIComponent(secret)}`).toString(
      "base64",
    );
    const answer = await postForm(
      token,
      new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: `${issuer}${UPSTREAM_CALLBACK_PATH}`,
        code_verifier: pending.verifier,
      }),
      { basic, ...(caPem ? { caPem } : {}) },
    );
    if (typeof answer.id_token !== "string") throw new Error("the identity provider sent no ID token");
    const verdict = await idTokenVerifier(up, caPem)(answer.id_token);
    if (!verdict.ok) throw new Error(`the ID token is not valid: ${verdict.reason.slice(0, 200)}`);
    const claims = verdict.verified.claims ?? {};
    if (claims.nonce !== pending.nonce) throw new Error("the ID token's nonce is not this sign-in's");
    const username = claims[up.usernameClaim];
    if (typeof username !== "string" || !username)
      throw new Error(`the ID token has no ${up.usernameClaim} claim`);
    if (up.allowedGroups.length) {
      const groups = claims[up.groupsClaim];
      const list = Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : [];
      if (!list.some((g) => up.allowedGroups.includes(g)))
        throw new Error(`${username} is in none of the groups allowed to sign in here`);
    }
    const identity = await store.identities.get(username);
    const ok =
      identity?.kind === "human" &&
      identity.state === "active" &&
      (!identity.expiresAt || Date.parse(identity.expiresAt) > now());
    if (!identity || !ok) throw new Error(`${username} is not an active human identity of Airlock`);
    return { identity, request: new URLSearchParams(pending.request) };
  }

  /**
   * After the provider's answer, the human still approves the MCP client on Airlock's page (a link to the start
   * path must not grant a token by itself): the pending approval is kept under a random value only that page holds.
   */
  async function holdApproval(identity: Identity, request: URLSearchParams): Promise<string> {
    const value = randomBytes(32).toString("base64url");
    const expiresMs = now() + 5 * 60_000;
    const held = JSON.stringify({
      identityName: identity.name,
      identityId: identity.id,
      request: request.toString(),
      expiresMs,
    });
    if (!(await store.counters.swap(`oauth-upa:${sha256(value)}`, 0, held, expiresMs)))
      throw new Error("collision");
    return value;
  }

  /** The approval held under `value`, once; undefined when unknown, used or expired, or the human is gone. */
  async function takeApproval(
    value: string,
  ): Promise<{ identity: Identity; request: URLSearchParams } | undefined> {
    const key = `oauth-upa:${sha256(value)}`;
    const row = value ? await store.counters.get(key) : undefined;
    if (!row) return undefined;
    const held = JSON.parse(row.state) as {
      identityName: string;
      identityId: string;
      request: string;
      expiresMs: number;
      used?: boolean;
    };
    if (held.used || held.expiresMs <= now()) return undefined;
    if (
      !(await store.counters.swap(key, row.version, JSON.stringify({ ...held, used: true }), held.expiresMs))
    )
      return undefined;
    const identity = await store.identities.get(held.identityName);
    if (
      identity?.id !== held.identityId ||
      identity.kind !== "human" ||
      identity.state !== "active" ||
      (identity.expiresAt && Date.parse(identity.expiresAt) <= now())
    )
      return undefined;
    return { identity, request: new URLSearchParams(held.request) };
  }

  return {
    start,
    callback,
    holdApproval,
    takeApproval,
    enabled: () => !!deps.config().upstream,
    name: () => deps.config().upstream?.name ?? "",
  };
}
