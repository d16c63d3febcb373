// What a running gateway holds: the frozen config and the long-lived parts every request uses.

import type { AuthInput, AuthResult } from "../identity/authenticate.ts";
import type { StreamRegistry } from "../identity/streams.ts";
import type { RecordingService } from "../recording/service.ts";
import type { ReviewService } from "../review/service.ts";
import type { Logger } from "../shared/log.ts";
import type { Store } from "../store/types.ts";
import type { UpstreamRegistry } from "../upstream/index.ts";
import type { GatewayConfig } from "./config.ts";
import type { Decider } from "./decide.ts";
import type { GatewayMetrics } from "./metrics.ts";

export interface GatewayRuntime {
  config: GatewayConfig;
  store: Store;
  upstreams: UpstreamRegistry;
  decider: Decider;
  streams: StreamRegistry;
  metrics: GatewayMetrics;
  log: Logger;
  /** The authenticator chain (src/identity/authenticate.ts); without it, API tokens only. */
  authenticate?: (input: AuthInput) => Promise<AuthResult>;
  /** Holds requests whose decision is `review` (src/gateway/gate.ts); without it such requests are refused. */
  reviews?: ReviewService;
  /**
   * The MCP endpoint's OAuth authorization server (src/mcp/oauth): typed structurally here, as the gateway sits
   * below mcp/. Without it /mcp accepts only Airlock's own bearer credentials.
   */
  mcpOAuth?: unknown;
  /** Sessions and stream recordings (src/recording); without it requests are not grouped or recorded. */
  recordings?: RecordingService;
}
