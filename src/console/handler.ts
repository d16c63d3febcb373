// The web console's server side: the /ui/ static app, sign-in (a human identity's token traded for a session
// cookie), and the admin API wrapper that accepts that cookie as the human it names.
//
// Security stance: only human identities sign in (agents and the bootstrap admin token are refused). The cookie is
// HttpOnly, Secure, SameSite=Strict and host-only (__Host- prefix). A request that carries an Authorization header is
// authenticated by it alone; one that carries only the cookie must, for every method but GET and HEAD, repeat the
// session's CSRF token in X-Airlock-CSRF, or it is refused (403) before the admin API sees it. Every cookie request
// re-checks the credential in the store, so revoked or disabled humans are signed out at once. Login bodies must be
// JSON (a cross-site form cannot send that without a CORS preflight, which this server never grants) and a foreign
// Origin is refused.
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { readJsonBody, sendJson, sendStatus } from "../admin/http.ts";
import type { AdminApi } from "../admin/index.ts";
import { principalOf } from "../admin/index.ts";
import { type AttemptThrottle, type ThrottleVerdict, throttledMessage } from "../identity/throttle.ts";
import type { Principal } from "../identity/types.ts";
import {
  badRequest,
  forbiddenHere,
  methodNotAllowed,
  notEnabled,
  notFound,
  throttled,
  unauthorized,
} from "../kube/refusals.ts";
import { type Status, StatusError } from "../kube/status.ts";
import { hashToken } from "../shared/tokens.ts";
import type { Store } from "../store/types.ts";
import {
  ConsoleSessions,
  CSRF_HEADER,
  clearedSessionCookie,
  cookieValue,
  csrfMatches,
  SESSION_COOKIE,
  type SessionLimits,
  sessionCookie,
} from "./sessions.ts";
import { type ConsoleAssets, loadAssets, lookupAsset, SECURITY_HEADERS, UI_PREFIX } from "./static.ts";

export const DEFAULT_DIST_DIR = fileURLToPath(new URL("../../console/dist", import.meta.url));

export interface ConsoleOptions {
  store: Store;
  /** The built app; defaults to console/dist in this checkout. */
  distDir?: string;
  limits?: Partial<SessionLimits>;
  /** Sign-in throttling per source address and per identity (src/identity/throttle.ts). */
  throttle?: AttemptThrottle;
}

export interface ConsoleUi {
  /** True for /ui and everything under /ui/. */
  handles(pathname: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The admin API, accepting a console session cookie (with its CSRF token) as well as bearer tokens. */
  wrapAdmin(admin: AdminApi): AdminApi;
  readonly sessions: ConsoleSessions;
}

const loginRequest = z.strictObject({ token: z.string().min(1).max(4096) });
const SAFE_METHODS = new Set(["GET", "HEAD"]);
const SIGN_IN = "console sign-in";

const notSignedIn = (): Status =>
  unauthorized("Unauthorized: sign in to the console with a human identity's token");

type CookieAuth =
  | { kind: "none" }
  | { kind: "principal"; principal: Principal; csrfToken: string; cookie: string }
  | { kind: "refused"; status: Status };

export function createConsole(opts: ConsoleOptions): ConsoleUi {
  const sessions = new ConsoleSessions(opts.store, opts.limits);
  const { store } = opts;
  let assets: Promise<ConsoleAssets> | undefined;
  const loaded = () => {
    assets ??= loadAssets(opts.distDir ?? DEFAULT_DIST_DIR);
    return assets;
  };

  /** The human behind the session cookie, re-checked in the store; CSRF checked for state-changing methods. */
  async function fromCookie(req: IncomingMessage): Promise<CookieAuth> {
    const cookie = cookieValue(headerOf(req, "cookie"), SESSION_COOKIE);
    if (cookie === undefined) return { kind: "none" };
    const session = await sessions.find(cookie);
    if (!session) return { kind: "refused", status: notSignedIn() };
    const found = await store.identities.authenticateCredentialId(session.credentialId);
    if (found?.identity.kind !== "human") {
      await sessions.close(cookie);
      return { kind: "refused", status: notSignedIn() };
    }
    if (
      !SAFE_METHODS.has(req.method ?? "GET") &&
      !csrfMatches(session.csrfToken, headerOf(req, CSRF_HEADER))
    ) {
      return {
        kind: "refused",
        status: forbiddenHere(
          `Forbidden: a console request that changes something must carry the session's CSRF token in ${CSRF_HEADER}`,
        ),
      };
    }
    return {
      kind: "principal",
      principal: principalOf(found.identity, found.credential),
      csrfToken: session.csrfToken,
      cookie,
    };
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req))
      throw new StatusError(forbiddenHere("Forbidden: sign-in from another origin is refused"));
    // Throttled before the token is looked at: a guess costs the same whether it is right or wrong.
    const source = req.socket.remoteAddress ?? "unknown";
    const throttle = opts.throttle;
    const refuse = (verdict: Extract<ThrottleVerdict, { ok: false }>) =>
      new StatusError(
        throttled(
          throttledMessage("console sign-in", verdict, throttle?.limits.windowSeconds ?? 0),
          verdict.retryAfterSeconds,
        ),
      );
    const bySource = await throttle?.checkSource(SIGN_IN, source);
    if (bySource && !bySource.ok) throw refuse(bySource);
    const parsed = loginRequest.safeParse(await readJsonBody(req));
    if (!parsed.success) throw new StatusError(badRequest('the sign-in body is {"token": "…"}'));
    const found = await store.identities.authenticateToken(hashToken(parsed.data.token));
    if (!found) {
      await throttle?.failed(SIGN_IN, source);
      throw new StatusError(unauthorized("Unauthorized: that is not a valid, active identity token"));
    }
    if (found.identity.kind !== "human") {
      await throttle?.failed(SIGN_IN, source);
      throw new StatusError(
        forbiddenHere(
          `Forbidden: identity "${found.identity.name}" is an ${found.identity.kind}; only humans sign in to the console`,
        ),
      );
    }
    const byIdentity = await throttle?.attempt(SIGN_IN, found.identity.name);
    if (byIdentity && !byIdentity.ok) throw refuse(byIdentity);
    const { cookie, session } = await sessions.open(found.credential.id, found.identity.name);
    sendJson(res, 200, describeSession(principalOf(found.identity, found.credential), session.csrfToken), {
      "set-cookie": sessionCookie(cookie, sessions.maxAgeSeconds()),
    });
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    if (path === "/ui/api/login") {
      if (method !== "POST") return void sendStatus(res, methodNotAllowed("use POST"), { allow: "POST" });
      return login(req, res);
    }
    if (path !== "/ui/api/session" && path !== "/ui/api/logout") {
      throw new StatusError(notFound(`the console has no ${path}`));
    }
    const auth = await fromCookie(req);
    if (auth.kind === "none") throw new StatusError(notSignedIn());
    if (auth.kind === "refused") throw new StatusError(auth.status);
    if (path === "/ui/api/session") {
      if (method !== "GET") return void sendStatus(res, methodNotAllowed("use GET"), { allow: "GET" });
      return sendJson(res, 200, describeSession(auth.principal, auth.csrfToken));
    }
    if (method !== "POST") return void sendStatus(res, methodNotAllowed("use POST"), { allow: "POST" });
    await sessions.close(auth.cookie);
    sendJson(res, 200, { signedOut: true }, { "set-cookie": clearedSessionCookie() });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    try {
      if (path.startsWith("/ui/api/")) return await api(req, res, path);
      const method = req.method ?? "GET";
      if (!SAFE_METHODS.has(method)) {
        return void sendStatus(res, methodNotAllowed(`${method} is not allowed on ${path}`), {
          allow: "GET, HEAD",
        });
      }
      if (path === "/ui") {
        res.writeHead(308, { location: UI_PREFIX, "cache-control": "no-store" });
        res.end();
        return;
      }
      const found = lookupAsset(await loaded(), path.slice(UI_PREFIX.length));
      if (found.kind === "notBuilt") {
        throw new StatusError(
          notEnabled("the web console is not built on this gateway; run `npm run build:console` and restart"),
        );
      }
      if (found.kind === "notFound") throw new StatusError(notFound(`the console has no ${path}`));
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": found.asset.type,
        "content-length": found.asset.body.length,
        "cache-control":
          found.kind === "asset" && found.asset.immutable
            ? "public, max-age=31536000, immutable"
            : "no-cache",
      });
      res.end(method === "HEAD" ? undefined : found.asset.body);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof StatusError) return void sendStatus(res, err.status, retryAfter(err.status));
      throw err;
    }
  }

  function wrapAdmin(admin: AdminApi): AdminApi {
    // A refusal found while authenticating is answered by handle(), which receives the same request object.
    const refused = new WeakMap<IncomingMessage, Status>();
    return {
      handles: (pathname) => admin.handles(pathname),
      async authenticate(req) {
        if (headerOf(req, "authorization") !== undefined) return admin.authenticate(req);
        const auth = await fromCookie(req);
        if (auth.kind === "principal") return auth.principal;
        if (auth.kind === "refused") refused.set(req, auth.status);
        return undefined;
      },
      async handle(req, res, principal) {
        const status = refused.get(req);
        if (status && !principal) return void sendStatus(res, status);
        return admin.handle(req, res, principal);
      },
    };
  }

  return {
    handles: (pathname) => pathname === "/ui" || pathname.startsWith(UI_PREFIX),
    handle,
    wrapAdmin,
    sessions,
  };
}

function describeSession(principal: Principal, csrfToken: string) {
  return { name: principal.name, kind: principal.kind, groups: principal.groups, csrfToken };
}

/** The Retry-After header of a throttled answer (429), none otherwise. */
export function retryAfter(status: Status): Record<string, string> {
  const seconds = status.details?.retryAfterSeconds;
  return status.code === 429 && seconds !== undefined ? { "retry-after": String(seconds) } : {};
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join("; ") : value;
}

/** No Origin header (a non-browser client) or the gateway's own origin. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = headerOf(req, "origin");
  if (origin === undefined) return true;
  const host = headerOf(req, "host") ?? headerOf(req, ":authority");
  return host !== undefined && origin === `https://${host}`;
}
