// HTTP side of Airlock's OAuth authorization server: RFC 8414 metadata, the token endpoint (RFC 6749 JSON errors) and
// the authorization endpoint with its sign-in/consent page.
//
// Security stance: the consent page escapes every value it shows (a metadata document's client_name, the client id,
// the redirect host are a stranger's text), is served with a CSP that runs no script and cannot be framed, and names
// where the browser will be sent. Approving needs a human identity: its API token typed into the page, or the
// console's session cookie together with that session's CSRF token carried in the form. Agents cannot sign in here.
// Codes go only to a redirect URI the client registered exactly; errors before that is known are shown, never
// redirected.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { ConsoleSessions, cookieValue, csrfMatches, SESSION_COOKIE } from "../../console/sessions.ts";
import { readBody } from "../../gateway/body.ts";
import { header } from "../../gateway/context.ts";
import { writeHead } from "../../gateway/respond.ts";
import type { AttemptThrottle } from "../../identity/throttle.ts";
import type { Identity } from "../../identity/types.ts";
import type { Store } from "../../store/types.ts";
import {
  AS_METADATA_PATH,
  AUTHORIZE_PATH,
  type AuthorizationRequest,
  OAuthError,
  type OAuthService,
  TOKEN_PATH,
} from "./service.ts";
import { UPSTREAM_CALLBACK_PATH, UPSTREAM_START_PATH, type UpstreamSignIn } from "./upstream.ts";

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

const MAX_FORM_BYTES = 64 * 1024;

export function isOAuthPath(path: string): boolean {
  return (
    path === AS_METADATA_PATH ||
    path === TOKEN_PATH ||
    path === AUTHORIZE_PATH ||
    path === UPSTREAM_START_PATH ||
    path === UPSTREAM_CALLBACK_PATH
  );
}

function json(res: Res, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  writeHead(res, code, {
    "content-type": "application/json",
    "content-length": String(data.length),
    "cache-control": "no-store",
    pragma: "no-cache",
    ...headers,
  });
  res.end(data);
}

function oauthError(res: Res, err: OAuthError): void {
  json(
    res,
    err.status,
    { error: err.error, error_description: err.message.replace(/[^\x20-\x7e]/g, "?").slice(0, 500) },
    err.status === 401 ? { "www-authenticate": 'Basic realm="airlock"' } : {},
  );
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function page(res: Res, code: number, title: string, body: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}code{word-break:break-all}
input[type=password]{width:100%;padding:.4rem}button{margin:.5rem .5rem 0 0;padding:.4rem 1rem}.err{color:#a00}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  const data = Buffer.from(html);
  writeHead(res, code, { ...PAGE_HEADERS, "content-length": String(data.length) });
  res.end(data);
}

function tooMany(res: Res, retryAfterSeconds: number): void {
  const body = Buffer.from(
    `<!doctype html><title>Too many attempts</title><p>Too many sign-in attempts; try again in ${retryAfterSeconds} s.</p>`,
  );
  writeHead(res, 429, {
    ...PAGE_HEADERS,
    "retry-after": String(retryAfterSeconds),
    "content-length": String(body.length),
  });
  res.end(body);
}

function redirect(res: Res, to: string): void {
  writeHead(res, 303, { location: to, "cache-control": "no-store", "referrer-policy": "no-referrer" });
  res.end();
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

async function readForm(req: Req): Promise<URLSearchParams | OAuthError> {
  const type = (header(req.headers, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded")
    return new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  const read = await readBody(req, MAX_FORM_BYTES, 10);
  if (!read.ok) return new OAuthError("invalid_request", read.error);
  return new URLSearchParams(read.body?.toString("utf8") ?? "");
}

const HIDDEN = [
  "response_type",
  "client_id",
  "redirect_uri",
  "code_challenge",
  "code_challenge_method",
  "state",
  "resource",
  "scope",
];

export const OAUTH_SIGN_IN = "MCP OAuth sign-in";

export function createOAuthHandler(opts: {
  service: OAuthService;
  store: Store;
  now: () => number;
  /** Sign-in through an upstream OpenID Connect provider (mcp.oauth.upstream). */
  upstream: UpstreamSignIn;
  /** The gateway's sign-in throttle (shared with the console's sign-in), once the router has made it. */
  throttle: () => AttemptThrottle | undefined;
}): (req: Req, res: Res, path: string, issuer: string) => Promise<void> {
  const { service, store } = opts;
  const sessions = new ConsoleSessions(store, {}, opts.now);

  /** The human signed in to the console in this browser, re-checked in the store. */
  async function consoleHuman(
    req: Req,
  ): Promise<{ identity: Identity; credentialId: string; csrf: string } | undefined> {
    const cookie = cookieValue(header(req.headers, "cookie"), SESSION_COOKIE);
    if (!cookie) return undefined;
    const session = await sessions.find(cookie);
    if (!session) return undefined;
    const found = await store.identities.authenticateCredentialId(session.credentialId);
    if (found?.identity.kind !== "human") return undefined;
    return { identity: found.identity, credentialId: found.credential.id, csrf: session.csrfToken };
  }

  function consent(
    res: Res,
    request: AuthorizationRequest,
    params: URLSearchParams,
    signedIn: { identity: Identity; csrf: string } | undefined,
    error?: string,
  ): void {
    const hidden = HIDDEN.filter((k) => params.has(k))
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params.get(k) ?? "")}">`)
      .join("");
    const target = new URL(request.redirectUri);
    const who = signedIn
      ? `<p>Signed in to the Airlock console as <b>${escapeHtml(signedIn.identity.name)}</b>.</p><input type="hidden" name="csrf" value="${escapeHtml(signedIn.csrf)}">`
      : `<p><label>Your Airlock token (a human identity's API token):<br><input type="password" name="token" autocomplete="off" required></label></p>`;
    page(
      res,
      error ? 401 : 200,
      "Sign in to Airlock",
      `${error ? `<p class="err">${escapeHtml(error)}</p>` : ""}
<p>The MCP client <b>${escapeHtml(request.client.name)}</b> (client id <code>${escapeHtml(request.client.clientId)}</code>${request.client.byMetadataDocument ? ", identified by its metadata document" : ""}) asks to call Airlock's MCP tools as you, with your policy, for a short time.</p>
<p>If you approve, your browser goes to <code>${escapeHtml(`${target.protocol}//${target.host}`)}</code>.</p>
<form method="post" action="${AUTHORIZE_PATH}">${hidden}${who}
${
  opts.upstream.enabled() && !signedIn
    ? `<p>Or <a href="${UPSTREAM_START_PATH}?${escapeHtml(new URLSearchParams(HIDDEN.filter((k) => params.has(k)).map((k): [string, string] => [k, params.get(k) ?? ""])).toString())}">sign in with ${escapeHtml(opts.upstream.name())}</a>.</p>`
    : ""
}<button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny" formnovalidate>Deny</button></form>`,
    );
  }

  async function authorize(req: Req, res: Res, issuer: string): Promise<void> {
    let params: URLSearchParams;
    if (req.method === "GET") params = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
    else if (req.method === "POST") {
      const form = await readForm(req);
      if (form instanceof OAuthError)
        return page(res, 400, "Sign-in refused", `<p>${escapeHtml(form.message)}</p>`);
      params = form;
    } else return page(res, 405, "Method not allowed", "<p>Use GET or POST.</p>");
    const checked = await service.authorizationRequest(params, issuer);
    if (!checked.ok) {
      if (checked.fatal)
        return page(res, 400, "Sign-in refused", `<p>${escapeHtml(checked.error.message)}</p>`);
      return redirect(
        res,
        withParams(checked.redirectUri, {
          error: checked.error.error,
          error_description: checked.error.message,
          state: checked.state,
          iss: issuer,
        }),
      );
    }
    const request = checked.request;
    const human = await consoleHuman(req);
    if (req.method === "GET") return consent(res, request, params, human);
    if (params.get("decision") !== "approve") {
      return redirect(
        res,
        withParams(request.redirectUri, {
          error: "access_denied",
          error_description: "the user denied the request",
          state: request.state,
          iss: issuer,
        }),
      );
    }
    let identity: Identity | undefined;
    let credentialId: string | undefined;
    const typed = params.get("token");
    if (typed) {
      // Throttled like the console's sign-in: per source address before the token is looked at (failures), and
      // per identity once it is known.
      const throttle = opts.throttle();
      const source = req.socket?.remoteAddress ?? "unknown";
      const bySource = await throttle?.checkSource(OAUTH_SIGN_IN, source);
      if (bySource && !bySource.ok) return tooMany(res, bySource.retryAfterSeconds);
      const found = await store.identities.authenticateToken(
        createHash("sha256").update(typed).digest("hex"),
      );
      if (found?.identity.kind !== "human") await throttle?.failed(OAUTH_SIGN_IN, source);
      if (found && found.identity.kind === "human") {
        const byIdentity = await throttle?.attempt(OAUTH_SIGN_IN, found.identity.name);
        if (byIdentity && !byIdentity.ok) return tooMany(res, byIdentity.retryAfterSeconds);
      }
      if (found)
        ({ identity, credentialId } = { identity: found.identity, credentialId: found.credential.id });
    } else if (human && csrfMatches(human.csrf, params.get("csrf") ?? undefined)) {
      ({ identity, credentialId } = human);
    }
    if (!identity || !credentialId)
      return consent(
        res,
        request,
        params,
        human,
        "Sign-in failed: that token is not valid (or the console session ended).",
      );
    if (identity.kind !== "human")
      return consent(
        res,
        request,
        params,
        human,
        "Only human identities sign in here; agents use client_credentials.",
      );
    const code = await service.issueCode(request, identity, credentialId);
    redirect(res, withParams(request.redirectUri, { code, state: request.state, iss: issuer }));
  }

  /**
   * Upstream sign-in. Start: the MCP client's request is validated, then the browser goes to the provider. Callback:
   * the provider's answer names the human; following the link the human chose is their approval, as on the page.
   */
  async function viaUpstream(req: Req, res: Res, path: string, issuer: string): Promise<void> {
    const approving = path === UPSTREAM_CALLBACK_PATH && req.method === "POST";
    if (req.method !== "GET" && !approving) return page(res, 405, "Method not allowed", "<p>Use GET.</p>");
    if (!opts.upstream.enabled())
      return page(res, 404, "Sign-in refused", "<p>No upstream identity provider is configured.</p>");
    const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
    const refused = (why: string) => page(res, 400, "Sign-in refused", `<p>${escapeHtml(why)}</p>`);
    if (path === UPSTREAM_START_PATH) {
      const checked = await service.authorizationRequest(query, issuer);
      if (!checked.ok) return refused(checked.error.message);
      // Each start keeps a row (10 min) for an anonymous caller: they count against the source's sign-in budget.
      const throttle = opts.throttle();
      const source = req.socket?.remoteAddress ?? "unknown";
      const bySource = await throttle?.checkSource(OAUTH_SIGN_IN, source);
      if (bySource && !bySource.ok) return tooMany(res, bySource.retryAfterSeconds);
      await throttle?.failed(OAUTH_SIGN_IN, source);
      try {
        return redirect(res, await opts.upstream.start(query, issuer));
      } catch (err) {
        return refused(`the identity provider cannot be used: ${(err as Error).message}`);
      }
    }
    if (!approving) {
      // The provider's answer: who signed in. The human then approves on Airlock's own page.
      let signedIn: Awaited<ReturnType<UpstreamSignIn["callback"]>>;
      try {
        signedIn = await opts.upstream.callback(query, issuer);
      } catch (err) {
        return refused((err as Error).message);
      }
      const checked = await service.authorizationRequest(signedIn.request, issuer);
      if (!checked.ok) return refused(checked.error.message);
      const held = await opts.upstream.holdApproval(signedIn.identity, signedIn.request);
      const target = new URL(checked.request.redirectUri);
      return page(
        res,
        200,
        "Approve the MCP client",
        `<p>${escapeHtml(opts.upstream.name())} signed you in as <b>${escapeHtml(signedIn.identity.name)}</b>.</p>
<p>The MCP client <b>${escapeHtml(checked.request.client.name)}</b> (client id <code>${escapeHtml(checked.request.client.clientId)}</code>) asks to call Airlock's MCP tools as you, with your policy, for a short time. If you approve, your browser goes to <code>${escapeHtml(`${target.protocol}//${target.host}`)}</code>.</p>
<form method="post" action="${UPSTREAM_CALLBACK_PATH}"><input type="hidden" name="approval" value="${escapeHtml(held)}">
<button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></form>`,
      );
    }
    const form = await readForm(req);
    if (form instanceof OAuthError) return refused(form.message);
    const signedIn = await opts.upstream.takeApproval(form.get("approval") ?? "");
    if (!signedIn)
      return refused("this approval is unknown, used or expired; start again from your MCP client");
    const checked = await service.authorizationRequest(signedIn.request, issuer);
    if (!checked.ok) {
      if (checked.fatal) return refused(checked.error.message);
      return redirect(
        res,
        withParams(checked.redirectUri, {
          error: checked.error.error,
          error_description: checked.error.message,
          state: checked.state,
          iss: issuer,
        }),
      );
    }
    if (form.get("decision") !== "approve") {
      return redirect(
        res,
        withParams(checked.request.redirectUri, {
          error: "access_denied",
          error_description: "the user denied the request",
          state: checked.request.state,
          iss: issuer,
        }),
      );
    }
    const code = await service.issueCode(checked.request, signedIn.identity, undefined);
    redirect(
      res,
      withParams(checked.request.redirectUri, { code, state: checked.request.state, iss: issuer }),
    );
  }

  return async (req, res, path, issuer) => {
    try {
      if (path === AS_METADATA_PATH) {
        if (req.method !== "GET")
          return json(res, 405, { error: "invalid_request", error_description: "use GET" }, { allow: "GET" });
        return json(res, 200, service.metadata(issuer), { "cache-control": "max-age=300" });
      }
      if (path === TOKEN_PATH) {
        if (req.method !== "POST")
          return oauthError(res, new OAuthError("invalid_request", "the token endpoint takes POST"));
        const form = await readForm(req);
        if (form instanceof OAuthError) return oauthError(res, form);
        return json(res, 200, await service.token(form, header(req.headers, "authorization"), issuer));
      }
      if (path === UPSTREAM_START_PATH || path === UPSTREAM_CALLBACK_PATH)
        return await viaUpstream(req, res, path, issuer);
      return await authorize(req, res, issuer);
    } catch (err) {
      if (err instanceof OAuthError) {
        if (path === TOKEN_PATH) return oauthError(res, err);
        return page(res, 400, "Sign-in refused", `<p>${escapeHtml(err.message)}</p>`);
      }
      throw err;
    }
  };
}
