// Starting Airlock's OAuth authorization server for /mcp (src/mcp/oauth/service.ts, handler.ts): loads the token
// signing key and wires the service to the live configuration (runtime.config, so a reload's client list applies).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { join } from "node:path";
import type { GatewayConfig } from "../../gateway/config.ts";
import type { OAuthTestHooks } from "../../identity/oauth-config.ts";
import type { AttemptThrottle } from "../../identity/throttle.ts";
import type { Logger } from "../../shared/log.ts";
import type { Store } from "../../store/types.ts";
import { createOAuthHandler } from "./handler.ts";
import { loadOrCreateTokenKey } from "./keys.ts";
import { createOAuthService, type OAuthService } from "./service.ts";
import { createUpstreamSignIn } from "./upstream.ts";

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export interface McpOAuth {
  service: OAuthService;
  /** The router hands over the gateway's sign-in throttle (src/server/throttling.ts). */
  throttle?: AttemptThrottle;
  handle(req: Req, res: Res, path: string, issuer: string): Promise<void>;
}

export async function startMcpOAuth(opts: {
  config: () => GatewayConfig;
  store: Store;
  log: Logger;
  now?: () => number;
  hooks?: OAuthTestHooks;
}): Promise<McpOAuth> {
  const initial = opts.config();
  const key = await loadOrCreateTokenKey(
    initial.mcp.oauth.signingKeyFile ?? join(initial.dataDir, "oauth-signing.key"),
  );
  const now = opts.now ?? Date.now;
  const service = createOAuthService({
    config: () => opts.config().mcp.oauth,
    store: opts.store,
    key,
    now,
    log: opts.log,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  });
  const oauth: McpOAuth = {
    service,
    handle: createOAuthHandler({
      service,
      store: opts.store,
      now,
      upstream: createUpstreamSignIn({ config: () => opts.config().mcp.oauth, store: opts.store, now }),
      throttle: () => oauth.throttle,
    }),
  };
  return oauth;
}
