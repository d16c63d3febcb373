// What every API handler gets: the store, the registry, auth, the clock and the simulator's tunables. One object,
// built once per simulator, so handlers stay functions of (ctx, route, request) without module state.

import type { SimAuth } from "../auth/index.ts";
import type { MemoryRegistry } from "../registry.ts";
import type { MemoryStore } from "../store.ts";

export interface ApiContext {
  store: MemoryStore;
  registry: MemoryRegistry;
  auth: SimAuth;
  now: () => Date;
  /** How often a watch that asked for bookmarks gets one. */
  bookmarkIntervalMs: number;
  /** How many events a slow watch client may fall behind before its watch is closed (it re-watches). */
  watchQueueLimit: number;
  /** Where per-pod sandboxes live (streams). */
  sandboxRoot: string;
}

/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
export function timestamp(ctx: ApiContext): string {
  return ctx
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, "Z");
}
