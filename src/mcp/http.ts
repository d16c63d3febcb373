// The MCP endpoint on the gateway: Streamable HTTP at /mcp in stateless mode (every POST is authenticated and served
// on its own, so any gateway replica can answer any call), and the OAuth 2.1 protected-resource metadata (RFC 9728)
// that tells standard MCP clients how to authenticate.
//
// Security stance: the caller authenticates with the same authenticator chain as kubectl traffic (API tokens,
// session credentials, client certificates, workload identity) on every request; a refusal is 401 with
// `WWW-Authenticate: Bearer resource_metadata=…`. The caller's token is used only to find its principal: it is never
// passed to the cluster (the pipeline forwards with the gateway's own credential, impersonating the principal).
// Sessions: the gateway hands out an Mcp-Session-Id on initialize only to group a client's calls into one Airlock
// session; it is not a credential (the grouping key includes the authenticated identity).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { readBody } from "../gateway/body.ts";
import { header } from "../gateway/context.ts";
import { sendStatus, writeHead } from "../gateway/respond.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { peerCertificateOf } from "../identity/authenticate.ts";
import type { AttemptThrottle } from "../identity/throttle.ts";
import type { Principal } from "../identity/types.ts";
import { badRequest, methodNotAllowed, notFound, tooLarge, unauthorized } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import { checkMcpHeaders, checkMcpMessage } from "./admission.ts";
import { isOAuthPath } from "./oauth/handler.ts";
import type { McpOAuth } from "./oauth/index.ts";
import { createMcpServer } from "./server.ts";

export const MCP_PATH = "/mcp";
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export function isMcpPath(path: string): boolean {
  return (
    path === MCP_PATH ||
    path === RESOURCE_METADATA_PATH ||
    path === `${RESOURCE_METADATA_PATH}${MCP_PATH}` ||
    isOAuthPath(path)
  );
}

/** Sign-in at the OAuth authorization endpoint shares the gateway's sign-in throttle (the router's). */
export function shareSignInThrottle(gw: GatewayRuntime, throttle: AttemptThrottle): void {
  const oauth = gw.mcpOAuth as McpOAuth | undefined;
  if (oauth) oauth.throttle = throttle;
}

function oauthOf(gw: GatewayRuntime): McpOAuth | undefined {
  const oauth = gw.mcpOAuth as McpOAuth | undefined;
  return oauth && gw.config.mcp.oauth.enabled ? oauth : undefined;
}

/** The issuer (Airlock's own authorization server): mcp.oauth.issuer, else the URL this request came in on. */
function issuerOf(gw: GatewayRuntime, req: Req): string {
  return gw.config.mcp.oauth.issuer ?? baseUrl(req);
}

function bearerOf(req: Req): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req.headers, "authorization") ?? "");
  return m?.[1];
}

/** The gateway's public base URL as this client reached it (the resource identifier must match what it used). */
function baseUrl(req: Req): string {
  const host = header(req.headers, ":authority") ?? header(req.headers, "host") ?? "localhost";
  return `https://${host.replace(/[^A-Za-z0-9.:[\]-]/g, "")}`;
}

/** RFC 9728 metadata for the /mcp resource; `issuer` is Airlock's own authorization server, when it is on. */
export function resourceMetadata(base: string, issuer?: string): Record<string, unknown> {
  return {
    resource: `${base}${MCP_PATH}`,
    resource_name: "Airlock MCP endpoint",
    // Airlock is the authorization server for its own /mcp (src/mcp/oauth). Its own bearer credentials (identity
    // tokens, session credentials) are still accepted in the Authorization header.
    authorization_servers: issuer ? [issuer] : [],
    bearer_methods_supported: ["header"],
    resource_documentation: `${base}/airlock/v1/openapi.json`,
  };
}

function json(res: Res, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  writeHead(res, code, {
    "content-type": "application/json",
    "content-length": String(data.length),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(data);
}

async function oauthPrincipal(
  oauth: McpOAuth,
  bearer: string,
  issuer: string,
): Promise<{ ok: true; principal: Principal } | { ok: false; status: Status }> {
  const checked = await oauth.service.principalOf(bearer, issuer);
  return checked.ok ? checked : { ok: false, status: unauthorized(checked.why) };
}

export async function handleMcp(gw: GatewayRuntime, req: Req, res: Res): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "";
  const oauth = oauthOf(gw);
  if (isOAuthPath(path)) {
    if (!oauth) {
      return void sendStatus(res, notFound(`${path}: the MCP OAuth server is off (mcp.oauth.enabled)`));
    }
    return oauth.handle(req, res, path, issuerOf(gw, req));
  }
  if (path !== MCP_PATH) {
    if (req.method !== "GET") {
      return void sendStatus(res, methodNotAllowed(`${req.method} is not allowed on ${path}; use GET`), {
        allow: "GET",
      });
    }
    return json(res, 200, resourceMetadata(baseUrl(req), oauth ? issuerOf(gw, req) : undefined));
  }
  // Airlock's own OAuth access tokens are read only by the OAuth server (verified, audience-checked and re-checked
  // against the identity on every request); any other bearer value goes through the authenticator chain.
  const bearer = bearerOf(req);
  const auth =
    oauth && bearer && oauth.service.isAccessToken(bearer)
      ? await oauthPrincipal(oauth, bearer, issuerOf(gw, req))
      : gw.authenticate
        ? await gw.authenticate({ headers: req.headers, peerCertificate: peerCertificateOf(req) })
        : { ok: false as const, status: unauthorized("no authenticator is configured") };
  if (!auth.ok) {
    const invalid = bearer ? ', error="invalid_token"' : "";
    sendStatus(res, auth.status, {
      "www-authenticate": `Bearer resource_metadata="${baseUrl(req)}${RESOURCE_METADATA_PATH}"${invalid}`,
    });
    return;
  }
  // Stateless: no server-initiated streams to hold open (GET) and no session state to delete (DELETE).
  if (req.method !== "POST") {
    return void sendStatus(
      res,
      methodNotAllowed(
        `${req.method} is not allowed on ${MCP_PATH}: this MCP endpoint is stateless, POST only`,
      ),
      { allow: "POST" },
    );
  }
  // What the SDK's transport would refuse is refused here, as a Status (src/mcp/admission.ts).
  const unfit = checkMcpHeaders(req.headers);
  if (unfit) return void sendStatus(res, unfit);
  const read = await readBody(req as IncomingMessage, MAX_MESSAGE_BYTES);
  if (!read.ok) {
    return void sendStatus(
      res,
      read.tooLarge ? tooLarge(`airlock: ${read.error}`) : badRequest(`airlock: ${read.error}`),
    );
  }
  const checked = checkMcpMessage(read.body?.toString("utf8") ?? "", req.headers);
  if (!checked.ok) return void sendStatus(res, checked.status);
  const message = checked.message;
  const messages = Array.isArray(message) ? message : [message];
  let session = (header(req.headers, "mcp-session-id") ?? "").slice(0, 100);
  if (messages.some((m) => (m as { method?: string })?.method === "initialize")) {
    session = randomUUID();
    res.setHeader("mcp-session-id", session);
  }
  const server = createMcpServer(gw, {
    principal: auth.principal,
    sourceAddress: req.socket?.remoteAddress ?? "",
    session,
  });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req as IncomingMessage, res as ServerResponse, message);
}
