// The router: which part of Airlock answers a request. Health and metrics, the web console under /ui/ (whose session
// cookie the admin API also accepts), the MCP endpoint, the admin API under /airlock/v1/, and everything else into the
// Kubernetes pipeline (src/gateway/pipeline.ts). Every handler's promise is tracked, so shutdown waits for the
// completion records of what is in flight.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { AdminApi } from "../admin/index.ts";
import { createConsole } from "../console/index.ts";
import { handleKubeRequest } from "../gateway/pipeline.ts";
import { sendStatus, writeHead } from "../gateway/respond.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { internalError, notReady, storeUnavailable } from "../kube/refusals.ts";
import { handleMcp, isMcpPath, shareSignInThrottle } from "../mcp/http.ts";
import { storeUnavailableStatus } from "../store/faults.ts";
import type { ListenerGuard } from "./limits.ts";
import type { HandlerTracker } from "./shutdown.ts";
import { createThrottle, throttleMinting } from "./throttling.ts";

function plain(
  res: ServerResponse | Http2ServerResponse,
  code: number,
  body: string,
  type = "text/plain",
  extra: Record<string, string> = {},
): void {
  writeHead(res, code, { "content-type": type, "cache-control": "no-store", ...extra });
  res.end(body);
}

export function createRouter(
  gw: GatewayRuntime,
  adminApi: AdminApi,
  isReady: () => boolean,
  handlers: HandlerTracker,
  /** The listener's guard, once the listener exists. */
  guardOf: () => ListenerGuard | undefined,
  /** A worker of `airlock serve --workers N`: health answers carry `airlock-worker: N` (which process answered). */
  workerNumber?: number,
): (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => void {
  // Sign-in and session minting are throttled per source address and per identity (issue 15).
  const throttle = createThrottle(gw);
  shareSignInThrottle(gw, throttle);
  const ui = createConsole({ store: gw.store, throttle });
  const admin = throttleMinting(ui.wrapAdmin(adminApi), throttle);
  const worker: Record<string, string> =
    workerNumber === undefined ? {} : { "airlock-worker": String(workerNumber) };
  return (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => {
    const url = req.url ?? "/";
    const path = url.split("?")[0];
    const fail = (err: unknown) => {
      gw.log.error({ err: (err as Error).message, path }, "request handler failed");
      if (!res.headersSent) sendStatus(res, storeUnavailableStatus(err) ?? internalError());
      else res.destroy();
    };
    if (path === "/healthz" || path === "/livez") return plain(res, 200, "ok", "text/plain", worker);
    if (path === "/readyz")
      return void (isReady() ? plain(res, 200, "ok", "text/plain", worker) : sendStatus(res, notReady()));
    // Listener limits (connections, header size) and shutdown: src/server/limits.ts.
    if (guardOf()?.admit(req, res)) return;
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
}
