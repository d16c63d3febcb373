// listen: the gateway's HTTPS endpoint. HTTP/2 and HTTP/1.1 on one TLS port (kubectl speaks HTTP/2 for ordinary
// requests and HTTP/1.1 for WebSocket upgrades). Requests go to the router (router.ts); protocol upgrades (exec,
// attach, port-forward) into the Kubernetes pipeline. The guard (limits.ts) bounds both.
import type { IncomingMessage } from "node:http";
import http2, { type Http2SecureServer } from "node:http2";
import type { Duplex } from "node:stream";
import type { AdminApi } from "../admin/index.ts";
import { handleKubeUpgrade } from "../gateway/pipeline.ts";
import { sendStatusOnSocket } from "../gateway/respond.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { internalError } from "../kube/refusals.ts";
import { requestScope } from "../shared/request-scope.ts";
import { storeUnavailableStatus } from "../store/faults.ts";
import { ListenerGuard, listenerOptions } from "./limits.ts";
import { createRouter } from "./router.ts";
import { HandlerTracker } from "./shutdown.ts";
import type { TlsMaterial } from "./tls-material.ts";

export function createGatewayServer(
  gw: GatewayRuntime,
  tls: TlsMaterial,
  adminApi: AdminApi,
  isReady: () => boolean,
  /** Client certificates: the identity CA. Asked for, never required; src/identity verifies them per request. */
  clientAuth?: { caPem: string },
  /** `airlock serve --workers N`: this process's worker number, named on health answers (src/server/workers.ts). */
  workerNumber?: number,
): { server: Http2SecureServer; guard: ListenerGuard; handlers: HandlerTracker } {
  let guard: ListenerGuard | undefined;
  // Every handler's promise, so shutdown waits for the completion records of what is in flight.
  const handlers = new HandlerTracker();
  const onRequest = createRouter(gw, adminApi, isReady, handlers, () => guard, workerNumber);

  const server = http2.createSecureServer(
    {
      cert: tls.certPem,
      key: tls.keyPem,
      allowHTTP1: true,
      minVersion: "TLSv1.2",
      // TCP_NODELAY on every accepted connection: with Nagle on, a small write (a watch event, the last bytes of a
      // response) waits for the client's delayed ACK (~40 ms on Linux) whenever earlier bytes are still unacknowledged.
      noDelay: true,
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
