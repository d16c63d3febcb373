// Wires sign-in and token-minting throttling (src/identity/throttle.ts) into the listener: one throttle per gateway,
// shared by the console's sign-in and the session-credential exchange of the admin API. A throttled key is one
// chained audit note per window (`auth.throttled`), written after the refusal and never blocking it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendStatus } from "../admin/http.ts";
import type { AdminApi } from "../admin/index.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import { AttemptThrottle, throttledMessage } from "../identity/throttle.ts";
import { throttled } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";

export const SESSION_MINTING = "session credential";
const SESSION_PATH = "/airlock/v1/credentials/session";

export function createThrottle(gw: GatewayRuntime): AttemptThrottle {
  return new AttemptThrottle({
    limits: gw.config.identity.throttle,
    // Several replicas (PostgreSQL) or workers: one budget per address and identity across all of them.
    ...(gw.config.store.kind === "postgres" || gw.config.workers > 1 ? { shared: gw.store } : {}),
    onThrottled: (event) => {
      gw.log.warn({ ...event }, "sign-in or token minting throttled");
      gw.store.audit
        .note({
          type: "auth.throttled",
          actor: event.scope === "identity" ? event.key : "unknown",
          subject: event.endpoint,
          detail: {
            scope: event.scope,
            ...(event.scope === "source" ? { source: event.key } : { identity: event.key }),
            limit: event.limit,
            windowSeconds: event.windowSeconds,
            until: event.until,
          },
        })
        .catch((err: Error) => gw.log.error({ err: err.message }, "audit note of a throttle failed"));
    },
  });
}

/** The admin API with the session-credential exchange throttled per source (failures) and per identity (mints). */
export function throttleMinting(admin: AdminApi, throttle: AttemptThrottle): AdminApi {
  const refuse = (res: ServerResponse, verdict: Parameters<typeof throttledMessage>[1]) => {
    sendStatus(
      res,
      throttled(
        throttledMessage("minting a session credential", verdict, throttle.limits.windowSeconds),
        verdict.retryAfterSeconds,
      ),
    );
  };
  return {
    handles: (pathname) => admin.handles(pathname),
    authenticate: (req) => admin.authenticate(req),
    async handle(req: IncomingMessage, res: ServerResponse, principal) {
      const path = (req.url ?? "").split("?")[0];
      if (path !== SESSION_PATH || req.method !== "POST") return admin.handle(req, res, principal);
      const source = req.socket.remoteAddress ?? "unknown";
      try {
        const bySource = await throttle.checkSource(SESSION_MINTING, source);
        if (!bySource.ok) return refuse(res, bySource);
        if (!principal) {
          await throttle.failed(SESSION_MINTING, source);
          return admin.handle(req, res, principal);
        }
        const byIdentity = await throttle.attempt(SESSION_MINTING, principal.name);
        if (!byIdentity.ok) return refuse(res, byIdentity);
      } catch (err) {
        if (err instanceof StatusError) return void sendStatus(res, err.status);
        throw err;
      }
      return admin.handle(req, res, principal);
    },
  };
}
