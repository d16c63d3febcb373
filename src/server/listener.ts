// listen: the gateway's HTTPS endpoint. HTTP/2 and HTTP/1.1 on one TLS port (kubectl speaks HTTP/2 for ordinary
// requests and HTTP/1.1 for WebSocket upgrades). Routes: health and metrics, the web console under /ui/ (whose session
// cookie the admin API also accepts), the admin API under /airlock/v1/, and everything else into the Kubernetes
// pipeline.
import type { IncomingMessage, ServerResponse } from "node:http";
import http2, { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { AdminApi } from "../admin/index.ts";
import { createConsole } from "../console/index.ts";
import { handleKubeRequest, handleKubeUpgrade } from "../gateway/pipeline.ts";
import { sendStatus, sendStatusOnSocket, writeHead } from "../gateway/respond.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { internalError, notReady, storeUnavailable } from "../kube/refusals.ts";
import { handleMcp, isMcpPath } from "../mcp/http.ts";
import { requestScope } from "../shared/request-scope.ts";
import { storeUnavailableStatus } from "../store/faults.ts";
import { ListenerGuard, listenerOptions } from "./limits.ts";
import { HandlerTracker } from "./shutdown.ts";
import { createThrottle, throttleMinting } from "./throttling.ts";
import type { TlsMaterial } from "./tls-material.ts";

function plain(
  res: ServerResponse | Http2ServerResponse,
  code: number,
  body: string,
  type = "text/plain",
): void {
  writeHead(res, code, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

export function createGatewayServer(
  gw: GatewayRuntime,
  tls: TlsMaterial,
  adminApi: AdminApi,
  isReady: () => boolean,
  /** Client certificates: the identity CA. Asked for, never required; src/identity verifies them per request. */
  clientAuth?: { caPem: string },
): { server: Http2SecureServer; guard: ListenerGuard; handlers: HandlerTracker } {
  let guard: ListenerGuard | undefined;
  // Every handler's promise, so shutdown waits for the completion records of what is in flight.
  const handlers = new HandlerTracker();
  // Sign-in and session minting are throttled per source address and per identity (issue 15).
  const throttle = createThrottle(gw);
  const ui = createConsole({ store: gw.store, throttle });
  const admin = throttleMinting(ui.wrapAdmin(adminApi), throttle);
  const onRequest = (
    req: Http2ServerRequest | IncomingMessage,
    res: Http2ServerResponse | ServerResponse,
  ) => {
    const url = req.url ?? "/";
    const path = url.split("?")[0];
    const fail = (err: unknown) => {
      gw.log.error({ err: (err as Error).message, path }, "request handler failed");
      if (!res.headersSent) sendStatus(res, storeUnavailableStatus(err) ?? internalError());
      else res.destroy();
    };
    if (path === "/healthz" || path === "/livez") return plain(res, 200, "ok");
    if (path === "/readyz") return void (isReady() ? plain(res, 200, "ok") : sendStatus(res, notReady()));
    // Listener limits (connections, header size) and shutdown: src/server/limits.ts.
    if (guard?.admit(req, res)) return;
    if (path === "/metrics") {
      gw.metrics.registry
        .metrics()
        .then((text) => plain(res, 200, text, gw.metrics.registry.contentType))
        .catch(fail);
      return;
    }
    if (ui.handles(path ?? "")) {
      handlers.track(ui.handle(req as IncomingMessage, res as ServerResponse).catch(fail));
      return;
    }
    // The MCP endpoint and its OAuth protected-resource metadata; tool calls re-enter the pipeline (src/mcp).
    if (isMcpPath(path ?? "")) {
      handlers.track(handleMcp(gw, req, res).catch(fail));
      return;
    }
    if (admin.handles(path ?? "")) {
      const work = admin
        .authenticate(req as IncomingMessage)
        .then(
          (principal) => admin.handle(req as IncomingMessage, res as ServerResponse, principal),
          (err: Error) => {
            // The store could not be asked: that is an outage, not a wrong token.
            gw.log.error({ err: err.message }, "admin authentication failed");
            sendStatus(res, storeUnavailable());
          },
        )
        .catch(fail);
      handlers.track(work);
      return;
    }
    handlers.track(handleKubeRequest(gw, req, res).catch(fail));
  };

  const server = http2.createSecureServer(
    {
      cert: tls.certPem,
      key: tls.keyPem,
      allowHTTP1: true,
      minVersion: "TLSv1.2",
      // Request (not require) a client certificate; the handshake accepts any, and the authenticator chain trusts
      // only one the identity CA issued and the store still lists. `ca` names that CA in the CertificateRequest.
      ...(clientAuth ? { requestCert: true, rejectUnauthorized: false, ca: clientAuth.caPem } : {}),
      ...listenerOptions(gw.config.limits),
      settings: { ...listenerOptions(gw.config.limits).settings, maxConcurrentStreams: 250 },
    },
    // Each request runs in its own scope, so the last-resort handler (src/cli/last-resort.ts) can name it.
    (req, res) => requestScope.run({}, onRequest, req, res),
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    requestScope.run({}, () => {
      if (guard?.admitUpgrade(req, socket)) return;
      handlers.track(
        handleKubeUpgrade(gw, req, socket, head).catch((err: Error) => {
          gw.log.error({ err: err.message }, "upgrade handler failed");
          sendStatusOnSocket(socket, storeUnavailableStatus(err) ?? internalError());
        }),
      );
    }),
  );
  // No inactivity timeout on streams in use (a quiet watch is not idle); idle connections are closed by the guard
  // (limits.idleTimeoutSeconds), slow or oversized request heads refused by it.
  server.setTimeout(0);
  guard = new ListenerGuard(server, {
    limits: () => gw.config.limits,
    refused: (limit) => gw.metrics.limitRefusals.inc({ limit }),
  });
  return { server, guard, handlers };
}
