// Airlock as the OAuth 2.1 authorization server of its own /mcp endpoint: client authentication, the
// client_credentials and authorization_code grants, and the access tokens /mcp accepts.
//
// Security stance:
// - Access tokens are JWTs (RFC 9068, `typ: at+jwt`) signed with Airlock's own Ed25519 key and verified with that key
//   and EdDSA only (no `none`, no HMAC: a token signed with the public key as an HMAC secret is refused). They are
//   audience-bound: the token request must name the resource (RFC 8707) and it must be this gateway's /mcp; /mcp
//   accepts a token only for itself. Lifetime mcp.oauth.accessTokenTtl (default 10 min); no refresh tokens.
// - A token maps to an identity and the credential it was obtained with; EVERY request re-checks them in the store,
//   so revoking or disabling the identity (or revoking the credential) ends the token at once, on every replica.
// - Client secrets are identity API-token credentials (stored as SHA-256 only). private_key_jwt assertions (RFC 7523)
//   are verified against the client's registered public JWKS with asymmetric algorithms only, must be addressed to
//   this issuer or its token endpoint, live at most 5 minutes, and each jti is accepted once (a shared store row, so
//   a replay to another replica is refused too).
// - Authorization codes are single-use (compare-and-set in the shared store), live 60 s, are bound to the client,
//   redirect URI, resource and PKCE S256 challenge; `plain` and missing PKCE are refused.
// - Tokens, secrets, assertions and codes are never logged.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
} from "jose";
import { principalFor } from "../../identity/authenticators.ts";
import {
  isAllowedRedirectUri,
  type OAuthClientConfig,
  type OAuthConfig,
  type OAuthTestHooks,
} from "../../identity/oauth-config.ts";
import type { Credential, Identity, Principal } from "../../identity/types.ts";
import { parseDuration } from "../../shared/duration.ts";
import type { Logger } from "../../shared/log.ts";
import type { Store } from "../../store/types.ts";
import type { TokenKey } from "./keys.ts";
import { fetchPublicJson } from "./outbound.ts";

export const TOKEN_PATH = "/oauth/token";
export const AUTHORIZE_PATH = "/oauth/authorize";
export const AS_METADATA_PATH = "/.well-known/oauth-authorization-server";
const CODE_TTL_MS = 60_000;
const ASSERTION_MAX_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Asymmetric algorithms only: a client's JWKS never makes an HMAC secret. */
export const ASSERTION_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

/** An OAuth error answer (RFC 6749 §5.2). */
export class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  constructor(error: string, description: string, status = 400) {
    super(description);
    this.error = error;
    this.status = status;
  }
}

export interface OAuthServiceDeps {
  config: () => OAuthConfig;
  store: Store;
  key: TokenKey;
  now: () => number;
  log: Logger;
  hooks?: OAuthTestHooks;
}

/** A client as resolved for the authorization endpoint: its name and exact redirect URIs. */
export interface SignInClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  /** True when it identified by a metadata document URL (shown on the consent page). */
  byMetadataDocument: boolean;
}

/** What the authorization endpoint accepted, bound into the code. */
export interface AuthorizationRequest {
  client: SignInClient;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  scope: string;
}

interface CodeState {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  identityId: string;
  /** The credential the human signed in with; absent when an upstream identity provider signed them in. */
  credentialId?: string;
  identityName: string;
  expiresMs: number;
  used?: boolean;
}

const sha256 = (text: string, enc: "hex" | "base64url" = "hex") =>
  createHash("sha256").update(text).digest(enc);

export function resourceOf(issuer: string): string {
  return `${issuer}/mcp`;
}

function usable(identity: Identity, nowMs: number): boolean {
  if (identity.state !== "active") return false;
  return !identity.expiresAt || Date.parse(identity.expiresAt) > nowMs;
}

/** A stand-in credential for a pre-registered private_key_jwt client (its keys live in airlock.yaml). */
function clientCredential(identity: Identity, clientId: string): Credential {
  return {
    id: `oauth-client:${clientId}`,
    identityId: identity.id,
    kind: "token",
    tokenHash: "",
    name: clientId,
    createdAt: identity.createdAt,
    revokedAt: null,
    expiresAt: null,
    lastUsedAt: null,
    scopes: {},
    serial: null,
  };
}

export type OAuthService = ReturnType<typeof createOAuthService>;

export function createOAuthService(deps: OAuthServiceDeps) {
  const { store, key, now, log } = deps;
  let lastPurge = 0;

  const configuredClient = (clientId: string): OAuthClientConfig | undefined =>
    deps.config().clients.find((c) => c.clientId === clientId);

  async function purgeNow(): Promise<void> {
    const t = now();
    if (t - lastPurge < 60_000) return;
    lastPurge = t;
    await store.counters.purge(t).catch(() => 0);
  }

  function metadata(issuer: string): Record<string, unknown> {
    const cfg = deps.config();
    return {
      issuer,
      authorization_endpoint: `${issuer}${AUTHORIZE_PATH}`,
      token_endpoint: `${issuer}${TOKEN_PATH}`,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "client_credentials"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
      ],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      client_id_metadata_document_supported: cfg.clientMetadataDocuments,
      authorization_response_iss_parameter_supported: true,
      service_documentation: "https://github.com/airlock/airlock/blob/main/docs/mcp.md#authorization",
    };
  }

  function checkResource(resource: string | undefined, issuer: string): string {
    if (!resource) {
      throw new OAuthError(
        "invalid_target",
        `the resource parameter (RFC 8707) is required; this server issues tokens only for ${resourceOf(issuer)}`,
      );
    }
    if (resource !== resourceOf(issuer)) {
      throw new OAuthError(
        "invalid_target",
        `tokens are issued only for ${resourceOf(issuer)}, not for the resource asked for`,
      );
    }
    return resource;
  }

  async function sign(
    issuer: string,
    resource: string,
    identity: Identity,
    clientId: string,
    credentialId: string | undefined,
    grant: "client_credentials" | "authorization_code",
  ): Promise<{ access_token: string; token_type: "Bearer"; expires_in: number }> {
    // A human the upstream identity provider signed in has no Airlock credential: the token names the identity.
    const upstream = grant === "authorization_code" && !credentialId;
    const ttlS = Math.round((parseDuration(deps.config().accessTokenTtl) ?? 600_000) / 1000);
    const iat = Math.floor(now() / 1000);
    const jti = randomUUID();
    // Written before the token is handed out: a token the audit log cannot record is never shown.
    await store.audit.note({
      type: "identity.oauth.token.issued",
      actor: identity.name,
      subject: identity.name,
      detail: {
        identityId: identity.id,
        clientId,
        credential: credentialId ?? null,
        grant,
        ...(upstream ? { signedInBy: "upstream" } : {}),
        jti,
        expiresAt: new Date((iat + ttlS) * 1000).toISOString(),
      },
    });
    const token = await new SignJWT({
      client_id: clientId,
      ...(credentialId ? { cred: credentialId } : {}),
      ...(upstream ? { idp: "upstream", name: identity.name } : {}),
    })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: key.kid })
      .setIssuer(issuer)
      .setAudience(resource)
      .setSubject(identity.id)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlS)
      .sign(key.privateKey);
    log.info({ identity: identity.name, clientId, expiresIn: ttlS }, "oauth access token issued");
    return { access_token: token, token_type: "Bearer", expires_in: ttlS };
  }

  /** client_credentials with a client secret: the client id is an identity credential's id, the secret its token. */
  async function bySecret(
    clientId: string,
    secret: string,
  ): Promise<{ identity: Identity; credential: Credential }> {
    const found = await store.identities.authenticateToken(sha256(secret));
    if (!found || found.credential.id !== clientId) {
      throw new OAuthError("invalid_client", "client authentication failed", 401);
    }
    return found;
  }

  /** private_key_jwt (RFC 7523 §2.2): the assertion names and is signed by a pre-registered client. */
  async function byAssertion(
    assertion: string,
    clientIdParam: string | undefined,
    issuer: string,
  ): Promise<{ client: OAuthClientConfig; identity: Identity }> {
    const refuse = (why: string) => new OAuthError("invalid_client", `client assertion refused: ${why}`, 401);
    let claimedIss: unknown;
    try {
      claimedIss = decodeJwt(assertion).iss;
      decodeProtectedHeader(assertion);
    } catch {
      throw refuse("not a JWT");
    }
    if (typeof claimedIss !== "string") throw refuse("no iss");
    if (clientIdParam !== undefined && clientIdParam !== claimedIss)
      throw refuse("client_id does not match the assertion's issuer");
    const client = configuredClient(claimedIss);
    if (!client?.jwks || !client.identity) throw refuse("unknown client");
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as JSONWebKeySet), {
        algorithms: ASSERTION_ALGS,
        issuer: client.clientId,
        subject: client.clientId,
        audience: [issuer, `${issuer}${TOKEN_PATH}`],
        currentDate: new Date(now()),
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ["exp", "jti"],
      }));
    } catch (err) {
      throw refuse((err as Error).message.slice(0, 200));
    }
    const exp = payload.exp as number;
    const nowS = now() / 1000;
    if (exp - nowS > ASSERTION_MAX_LIFETIME_S + CLOCK_SKEW_S)
      throw refuse(`it is valid for more than ${ASSERTION_MAX_LIFETIME_S} s`);
    const jti = String(payload.jti);
    if (!jti || jti.length > 200) throw refuse("bad jti");
    const fresh = await store.counters.swap(
      `oauth-jti:${sha256(`${client.clientId}\n${jti}`)}`,
      0,
      "{}",
      (exp + CLOCK_SKEW_S) * 1000,
    );
    if (!fresh) throw refuse("its jti was already used (replay)");
    const identity = await store.identities.get(client.identity);
    if (!identity || !usable(identity, now())) {
      throw new OAuthError("invalid_client", `the client's identity ${client.identity} is not active`, 401);
    }
    return { client, identity };
  }

  interface ClientAuth {
    method: "secret" | "assertion" | "none";
    clientId: string | undefined;
    secret?: string;
    assertion?: string;
  }

  function clientAuthOf(form: URLSearchParams, authorization: string | undefined): ClientAuth {
    const methods: ClientAuth[] = [];
    if (authorization) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
      if (!m) throw new OAuthError("invalid_client", "the Authorization header is not HTTP Basic", 401);
      const decoded = Buffer.from(m[1] ?? "", "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new OAuthError("invalid_client", "malformed HTTP Basic credentials", 401);
      try {
        methods.push({
          method: "secret",
          clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " ")),
          secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " ")),
        });
      } catch {
        throw new OAuthError("invalid_client", "malformed HTTP Basic credentials", 401);
      }
    }
    if (form.has("client_secret")) {
      methods.push({
        method: "secret",
        clientId: form.get("client_id") ?? undefined,
        secret: form.get("client_secret") ?? "",
      });
    }
    if (form.has("client_assertion") || form.has("client_assertion_type")) {
      if (form.get("client_assertion_type") !== JWT_BEARER)
        throw new OAuthError("invalid_client", `client_assertion_type must be ${JWT_BEARER}`, 401);
      methods.push({
        method: "assertion",
        clientId: form.get("client_id") ?? undefined,
        assertion: form.get("client_assertion") ?? "",
      });
    }
    if (methods.length > 1)
      throw new OAuthError("invalid_request", "use exactly one client authentication method");
    const only = methods[0];
    if (only) {
      if (only.method === "secret" && form.has("client_id") && form.get("client_id") !== only.clientId)
        throw new OAuthError("invalid_client", "client_id does not match the authenticated client", 401);
      return only;
    }
    return { method: "none", clientId: form.get("client_id") ?? undefined };
  }

  async function token(
    form: URLSearchParams,
    authorization: string | undefined,
    issuer: string,
  ): Promise<Record<string, unknown>> {
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1)
        throw new OAuthError("invalid_request", `the parameter ${name} appears more than once`);
    }
    const grant = form.get("grant_type");
    const auth = clientAuthOf(form, authorization);
    void purgeNow();
    if (grant === "client_credentials") {
      if (auth.method === "secret") {
        const { identity, credential } = await bySecret(auth.clientId ?? "", auth.secret ?? "");
        if (identity.kind !== "agent") {
          throw new OAuthError(
            "unauthorized_client",
            "client_credentials is for agent identities; humans sign in with the authorization code flow",
          );
        }
        const resource = checkResource(form.get("resource") ?? undefined, issuer);
        return sign(issuer, resource, identity, credential.id, credential.id, "client_credentials");
      }
      if (auth.method === "assertion") {
        const { client, identity } = await byAssertion(auth.assertion ?? "", auth.clientId, issuer);
        const resource = checkResource(form.get("resource") ?? undefined, issuer);
        return sign(issuer, resource, identity, client.clientId, undefined, "client_credentials");
      }
      throw new OAuthError("invalid_client", "client_credentials needs client authentication", 401);
    }
    if (grant === "authorization_code") {
      if (auth.method !== "none") {
        throw new OAuthError(
          "invalid_client",
          "sign-in clients are public clients here (token_endpoint_auth_method none)",
          401,
        );
      }
      const code = form.get("code") ?? "";
      const verifier = form.get("code_verifier");
      if (!verifier) throw new OAuthError("invalid_request", "code_verifier is required (PKCE)");
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
        throw new OAuthError("invalid_grant", "code_verifier is not a valid PKCE verifier");
      const key = `oauth-code:${sha256(code)}`;
      const row = code ? await store.counters.get(key) : undefined;
      const state = row ? (JSON.parse(row.state) as CodeState) : undefined;
      const invalid = (why: string) => new OAuthError("invalid_grant", why);
      if (!row || !state || state.used) throw invalid("the authorization code is unknown, used or expired");
      // Single use: whoever wins the compare-and-set redeems it; a second redemption fails here.
      if (
        !(await store.counters.swap(
          key,
          row.version,
          JSON.stringify({ ...state, used: true }),
          state.expiresMs,
        ))
      ) {
        throw invalid("the authorization code is unknown, used or expired");
      }
      if (state.expiresMs <= now()) throw invalid("the authorization code expired");
      if (state.clientId !== auth.clientId)
        throw invalid("the authorization code was issued to another client");
      if (form.get("redirect_uri") !== state.redirectUri)
        throw invalid("redirect_uri does not match the authorization request");
      if (sha256(verifier, "base64url") !== state.codeChallenge)
        throw invalid("code_verifier does not match the code_challenge (PKCE)");
      const resource = checkResource(form.get("resource") ?? undefined, issuer);
      if (resource !== state.resource)
        throw new OAuthError("invalid_target", "resource differs from the authorization request");
      const found = state.credentialId
        ? await store.identities.authenticateCredentialId(state.credentialId)
        : await upstreamHuman(state.identityName);
      if (!found || found.identity.id !== state.identityId)
        throw invalid("the identity that approved this code can no longer sign in");
      return sign(issuer, resource, found.identity, state.clientId, state.credentialId, "authorization_code");
    }
    if (grant === "refresh_token") {
      throw new OAuthError("unsupported_grant_type", "no refresh tokens are issued; sign in again");
    }
    throw new OAuthError(
      "unsupported_grant_type",
      "grant_type must be client_credentials or authorization_code",
    );
  }

  /** True when the bearer value is one of our access tokens (so no other authenticator gets to read it). */
  function isAccessToken(bearer: string): boolean {
    try {
      // Ours: an at+jwt naming our key. Another issuer's at+jwt (a workload identity) goes to the authenticator chain.
      const h = decodeProtectedHeader(bearer);
      return h.typ === "at+jwt" && h.kid === key.kid;
    } catch {
      return false;
    }
  }

  /** The principal an access token stands for, re-checked in the store on every request; undefined = 401. */
  async function principalOf(
    bearer: string,
    issuer: string,
  ): Promise<{ ok: true; principal: Principal } | { ok: false; why: string }> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(bearer, key.publicKey, {
        algorithms: ["EdDSA"],
        typ: "at+jwt",
        issuer,
        audience: resourceOf(issuer),
        currentDate: new Date(now()),
        requiredClaims: ["exp", "iat", "jti", "sub", "client_id"],
      }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        ok: false,
        why:
          code === "ERR_JWT_EXPIRED"
            ? "the access token expired"
            : code === "ERR_JWT_CLAIM_VALIDATION_FAILED"
              ? `the access token is not for this resource (${(err as Error).message})`
              : "the access token is not valid here",
      };
    }
    const exp = new Date((payload.exp as number) * 1000).toISOString();
    let found: { identity: Identity; credential: Credential } | undefined;
    if (typeof payload.cred === "string") {
      found = await store.identities.authenticateCredentialId(payload.cred);
    } else if (payload.idp === "upstream" && typeof payload.name === "string") {
      found = await upstreamHuman(payload.name);
    } else {
      const client = configuredClient(String(payload.client_id));
      const identity = client?.identity ? await store.identities.get(client.identity) : undefined;
      if (identity && usable(identity, now()))
        found = { identity, credential: clientCredential(identity, String(payload.client_id)) };
    }
    if (!found || found.identity.id !== payload.sub) {
      return { ok: false, why: "the identity or credential behind the access token is no longer active" };
    }
    const principal = principalFor(found.identity, found.credential);
    if (!principal.expiresAt || principal.expiresAt > exp) principal.expiresAt = exp;
    return { ok: true, principal };
  }

  // Metadata documents are cached for a minute (answers and refusals alike), so the unauthenticated authorization
  // endpoint cannot be used to make the gateway fetch one URL over and over.
  const documents = new Map<string, { untilMs: number; result: ReturnType<typeof fetchPublicJson> }>();
  function fetchDocument(url: string, cfg: OAuthConfig): ReturnType<typeof fetchPublicJson> {
    const t = now();
    const cached = documents.get(url);
    if (cached && cached.untilMs > t) return cached.result;
    if (documents.size >= 256) {
      for (const [k, v] of documents) if (v.untilMs <= t) documents.delete(k);
      if (documents.size >= 256) documents.delete(documents.keys().next().value as string);
    }
    const result = fetchPublicJson(url, {
      ...cfg.metadataFetch,
      ...(deps.hooks?.metadataAllowHosts ? { allowHosts: deps.hooks.metadataAllowHosts } : {}),
      ...(deps.hooks?.metadataCa ? { ca: deps.hooks.metadataCa } : {}),
    });
    documents.set(url, { untilMs: t + 60_000, result });
    return result;
  }

  /** The client behind a client_id at the authorization endpoint; throws when it may not sign in here. */
  async function signInClient(clientId: string): Promise<SignInClient> {
    const cfg = deps.config();
    const configured = configuredClient(clientId);
    if (configured) {
      if (!configured.redirectUris)
        throw new OAuthError("unauthorized_client", `client ${clientId} is not registered for sign-in`);
      return {
        clientId,
        name: configured.name ?? clientId,
        redirectUris: configured.redirectUris,
        byMetadataDocument: false,
      };
    }
    if (!/^https:\/\//.test(clientId) || clientId.length > 2000)
      throw new OAuthError("invalid_client", "unknown client_id");
    if (!cfg.clientMetadataDocuments) {
      throw new OAuthError(
        "invalid_client",
        "client ID metadata documents are not accepted here (mcp.oauth.clientMetadataDocuments is off); ask the operator to pre-register the client",
      );
    }
    const fetched = await fetchDocument(clientId, cfg);
    if (!fetched.ok) {
      log.warn({ clientId: clientId.slice(0, 200), why: fetched.why }, "oauth client metadata refused");
      throw new OAuthError("invalid_client", fetched.why);
    }
    const doc = fetched.json as Record<string, unknown>;
    if (!doc || typeof doc !== "object" || doc.client_id !== clientId)
      throw new OAuthError("invalid_client", "the client metadata document's client_id is not its own URL");
    const uris = doc.redirect_uris;
    if (
      !Array.isArray(uris) ||
      uris.length === 0 ||
      uris.length > 10 ||
      !uris.every((u) => typeof u === "string" && u.length <= 2000 && isAllowedRedirectUri(u))
    )
      throw new OAuthError("invalid_client", "the client metadata document has no valid redirect_uris");
    const method = doc.token_endpoint_auth_method;
    if (method !== undefined && method !== "none")
      throw new OAuthError(
        "invalid_client",
        "a metadata-document client must be public (token_endpoint_auth_method none)",
      );
    const name = typeof doc.client_name === "string" ? doc.client_name.slice(0, 100) : new URL(clientId).host;
    return { clientId, name, redirectUris: uris as string[], byMetadataDocument: true };
  }

  /** Validates an authorization request. Errors before the redirect URI is known are not redirected (`fatal`). */
  async function authorizationRequest(
    params: URLSearchParams,
    issuer: string,
  ): Promise<
    | { ok: true; request: AuthorizationRequest }
    | { ok: false; fatal: true; error: OAuthError }
    | { ok: false; fatal: false; error: OAuthError; redirectUri: string; state: string | undefined }
  > {
    for (const name of new Set(params.keys())) {
      if (params.getAll(name).length > 1)
        return {
          ok: false,
          fatal: true,
          error: new OAuthError("invalid_request", `the parameter ${name} appears more than once`),
        };
    }
    let client: SignInClient;
    try {
      client = await signInClient(params.get("client_id") ?? "");
    } catch (err) {
      return { ok: false, fatal: true, error: err as OAuthError };
    }
    const redirectUri = params.get("redirect_uri") ?? "";
    if (!client.redirectUris.includes(redirectUri)) {
      return {
        ok: false,
        fatal: true,
        error: new OAuthError("invalid_request", "redirect_uri is not one the client registered"),
      };
    }
    const state = params.get("state") ?? undefined;
    const fail = (error: string, why: string) =>
      ({ ok: false, fatal: false, error: new OAuthError(error, why), redirectUri, state }) as const;
    if (params.get("response_type") !== "code")
      return fail("unsupported_response_type", "response_type must be code");
    const challenge = params.get("code_challenge");
    if (!challenge)
      return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method S256");
    if (params.get("code_challenge_method") !== "S256")
      return fail("invalid_request", "only the S256 PKCE method is accepted (plain is refused)");
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
      return fail("invalid_request", "code_challenge is not an S256 challenge");
    let resource: string;
    try {
      resource = checkResource(params.get("resource") ?? undefined, issuer);
    } catch (err) {
      return fail("invalid_target", (err as Error).message);
    }
    return {
      ok: true,
      request: {
        client,
        redirectUri,
        state,
        codeChallenge: challenge,
        resource,
        scope: params.get("scope") ?? "",
      },
    };
  }

  /** A human signed in by the upstream identity provider: checked by identity alone (active, human, not expired). */
  async function upstreamHuman(
    name: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined> {
    if (!deps.config().upstream) return undefined; // provider removed from the config: its sign-ins end
    const identity = await store.identities.get(name);
    if (identity?.kind !== "human" || !usable(identity, now())) return undefined;
    return { identity, credential: clientCredential(identity, "upstream-idp") };
  }

  /**
   * Issues a code for an approved request by a human identity, signed in with `credentialId` (or by the upstream
   * provider when undefined); returns it once.
   */
  async function issueCode(
    request: AuthorizationRequest,
    identity: Identity,
    credentialId: string | undefined,
  ): Promise<string> {
    const code = randomBytes(32).toString("base64url");
    const state: CodeState = {
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      identityId: identity.id,
      identityName: identity.name,
      ...(credentialId ? { credentialId } : {}),
      expiresMs: now() + CODE_TTL_MS,
    };
    await store.audit.note({
      type: "identity.oauth.signin.approved",
      actor: identity.name,
      subject: identity.name,
      detail: {
        identityId: identity.id,
        credential: credentialId ?? null,
        signedInBy: credentialId ? "airlock" : "upstream",
        clientId: request.client.clientId.slice(0, 500),
        redirectUri: request.redirectUri.slice(0, 500),
      },
    });
    if (!(await store.counters.swap(`oauth-code:${sha256(code)}`, 0, JSON.stringify(state), state.expiresMs)))
      throw new Error("authorization code collision");
    log.info(
      { identity: identity.name, clientId: request.client.clientId.slice(0, 200) },
      "oauth sign-in approved",
    );
    return code;
  }

  return {
    metadata,
    token,
    isAccessToken,
    principalOf,
    authorizationRequest,
    issueCode,
    enabled: () => deps.config().enabled,
  };
}
