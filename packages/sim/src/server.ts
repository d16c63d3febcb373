// The simulator's HTTPS server: every request goes route → authenticate → impersonate → authorize → record →
// answer, the order kube-apiserver's filter chain uses. Upgrades (exec, attach, portforward) take the same path and
// are then handed to the streams module, which owns the socket.
//
// Failure stance: a missing or unknown token is 401, a refused impersonation or request is kube's 403 Status, and
// any throw becomes a Status response (500 at worst) — the server never crashes or leaves a request hanging on
// bad input. The request record never holds credentials.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ApiContext } from "./api/context.ts";
import { handleResource, NOT_FOUND_MESSAGE, type StreamHandlers } from "./api/index.ts";
import { sendError, sendJson, toStatus } from "./api/respond.ts";
import { ADMIN_USER, forbiddenError } from "./auth/index.ts";
import type { AuthorizationAttributes, SimRequest, UpgradeRequest, UserInfo } from "./contracts.ts";
import { nonResourceAnswer, PUBLIC_PATHS } from "./nonresource.ts";
import { OIDC_PATHS, oidcAnswer } from "./oidc.ts";
import type { RequestLog, RequestRecord } from "./record.ts";
import { routeRequest } from "./router.ts";
import { failure, StatusError } from "./status.ts";

export interface SimServerOptions {
  ctx: ApiContext;
  requests: RequestLog;
  tls: { certPem: string; keyPem: string };
  streams: StreamHandlers & { handleStreamUpgrade(u: UpgradeRequest): void };
  serverAddress: () => string;
}

const ANONYMOUS: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"], extra: {} };
const UPGRADE_SUBRESOURCES = new Set(["exec", "attach", "portforward"]);

function attributesOf(route: SimRequest, user: UserInfo): AuthorizationAttributes {
  return {
    user,
    verb: route.verb,
    resourceRequest: route.resourceRequest,
    apiGroup: route.apiGroup,
    apiVersion: route.apiVersion,
    namespace: route.namespace,
    resource: route.resource,
    subresource: route.subresource,
    name: route.name,
    path: route.path,
  };
}

interface Admitted {
  route: SimRequest;
  user: UserInfo;
  record?: RequestRecord;
}

/** Route, authenticate, impersonate, authorize and record one request; throws StatusError on refusal. */
function admit(
  opts: SimServerOptions,
  req: IncomingMessage,
  setRecord: (r: RequestRecord) => void,
): Admitted {
  const { ctx } = opts;
  let route: SimRequest | undefined;
  let authenticated: UserInfo | undefined;
  let user: UserInfo | undefined;
  const record = () => {
    if (route?.path.startsWith("/sim/")) return;
    const r = opts.requests.add({
      time: new Date().toISOString(),
      user: authenticated?.username ?? "",
      groups: authenticated?.groups ?? [],
      ...(user && authenticated && user !== authenticated
        ? { impersonatedUser: user.username, impersonatedGroups: user.groups }
        : {}),
      method: req.method ?? "",
      path: route?.path ?? (req.url ?? "").split("?")[0] ?? "",
      verb: route?.verb ?? "",
      apiGroup: route?.apiGroup ?? "",
      resource: route?.resource ?? "",
      namespace: route?.namespace ?? "",
      name: route?.name ?? "",
      subresource: route?.subresource ?? "",
      code: 0,
      userAgent: req.headers["user-agent"] ?? "",
    });
    setRecord(r);
  };
  try {
    route = routeRequest(req.method ?? "GET", req.url ?? "/", ctx.registry);
    authenticated = ctx.auth.authenticate(req);
    if (!authenticated) {
      if (
        req.headers.authorization === undefined &&
        (PUBLIC_PATHS.has(route.path) || OIDC_PATHS.has(route.path))
      ) {
        authenticated = ANONYMOUS;
      } else {
        throw new StatusError(failure("Unauthorized", "Unauthorized"));
      }
    }
    user = authenticated === ANONYMOUS ? ANONYMOUS : ctx.auth.impersonate(authenticated, req.headers);
    if (authenticated !== ANONYMOUS) {
      const decision = ctx.auth.authorizer.authorize(attributesOf(route, user));
      if (!decision.allowed) throw forbiddenError(attributesOf(route, user), decision.reason);
    }
    record();
    return { route, user };
  } catch (err) {
    record();
    throw err;
  }
}

function handleSimApi(
  opts: SimServerOptions,
  route: SimRequest,
  authenticated: boolean,
  user: UserInfo,
  res: ServerResponse,
) {
  if (!authenticated || user.username !== ADMIN_USER) {
    throw StatusError.of(
      "Forbidden",
      `forbidden: User "${user.username}" cannot use the simulator's request record`,
    );
  }
  if (route.path === "/sim/v1/requests" && route.method === "GET") {
    const since = Number(route.query.get("since") ?? "0");
    sendJson(res, 200, {
      kind: "RequestRecordList",
      items: opts.requests.since(Number.isFinite(since) ? since : 0),
    });
    return;
  }
  if (route.path === "/sim/v1/requests" && route.method === "DELETE") {
    opts.requests.clear();
    sendJson(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 });
    return;
  }
  throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
}

async function handleRequest(opts: SimServerOptions, req: IncomingMessage, res: ServerResponse) {
  let record: RequestRecord | undefined;
  res.on("close", () => {
    if (record) record.code = res.statusCode;
  });
  try {
    const { route, user } = admit(opts, req, (r) => {
      record = r;
    });
    if (route.path.startsWith("/sim/")) {
      handleSimApi(opts, route, true, user, res);
      return;
    }
    if (!route.resourceRequest) {
      const answer =
        oidcAnswer(route.path, opts.ctx.auth.serviceAccountIssuer, `https://${opts.serverAddress()}`) ??
        nonResourceAnswer(route.path, req.headers.accept, opts.ctx.registry.all(), opts.serverAddress());
      if (!answer) throw StatusError.of("NotFound", NOT_FOUND_MESSAGE);
      if (typeof answer.body === "string") {
        res.writeHead(answer.code, { "Content-Type": answer.contentType ?? "text/plain", ...answer.headers });
        res.end(answer.body);
      } else {
        sendJson(res, answer.code, answer.body, {
          ...(answer.contentType ? { "Content-Type": answer.contentType } : {}),
          ...answer.headers,
        });
      }
      return;
    }
    await handleResource(opts.ctx, opts.streams, route, user, req, res);
  } catch (err) {
    sendError(res, err);
  } finally {
    if (record && res.headersSent) record.code = res.statusCode;
  }
}

/** Writes a Status as a raw HTTP response on an upgrade socket and closes it. */
function refuseUpgrade(socket: Duplex, err: unknown) {
  const status = toStatus(err);
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${status.reason ?? "Error"}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function handleUpgrade(opts: SimServerOptions, req: IncomingMessage, socket: Duplex, head: Buffer) {
  let record: RequestRecord | undefined;
  socket.on("error", () => socket.destroy());
  try {
    const { route, user } = admit(opts, req, (r) => {
      record = r;
    });
    if (!route.resourceRequest || !UPGRADE_SUBRESOURCES.has(route.subresource) || route.resource !== "pods") {
      throw StatusError.of(
        "BadRequest",
        "upgrade is only served on pods/exec, pods/attach and pods/portforward",
      );
    }
    // The streams module writes the whole answer itself; 101 is what a successful handshake answers.
    if (record) record.code = 101;
    opts.streams.handleStreamUpgrade({ req, socket, head, route, user });
  } catch (err) {
    if (record) record.code = toStatus(err).code;
    refuseUpgrade(socket, err);
  }
}

/** The simulator's server: HTTP/2 and HTTP/1.1 on one port, as kube-apiserver. */
export type SimHttpServer = Http2SecureServer & { closeAllConnections(): void };

/**
 * HTTP/2 (ALPN h2, as kube-apiserver offers it) with HTTP/1.1 on the same port for clients that ask for it and for
 * upgrades (exec, attach, portforward are HTTP/1.1 only). Handlers get Node's compatibility request and response
 * objects, which have the http1 surface the handlers use (writeHead, write, end, flushHeaders, headers, url).
 */
export function createSimServer(opts: SimServerOptions): SimHttpServer {
  const server = createSecureServer(
    { cert: opts.tls.certPem, key: opts.tls.keyPem, allowHTTP1: true },
    (req, res) => {
      // The compat objects differ from http1's in type only for what the handlers touch (see above).
      void handleRequest(opts, req as unknown as IncomingMessage, res as unknown as ServerResponse);
    },
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleUpgrade(opts, req, socket, head),
  );
  server.on("tlsClientError", () => {});
  // http2 servers have no closeAllConnections: track the TLS sockets so close() ends watches and sessions at once.
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => {
    // As Node's http1 server: responses are small writes that must not wait for the client's ACK (Nagle).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return Object.assign(server, {
    closeAllConnections(): void {
      for (const socket of sockets) socket.destroy();
    },
  });
}
