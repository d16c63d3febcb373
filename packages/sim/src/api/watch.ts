// watch: a chunked stream of newline-terminated JSON events, with kube-apiserver's resourceVersion semantics
// (unset/"0" → synthetic ADDED for the current state, N → events after N), bookmarks, sendInitialEvents,
// timeoutSeconds and Table events. With selectors, an object that starts or stops matching is ADDED or DELETED.
//
// Failure stance: a version older than the retained history gets a 200 stream with one ERROR event (410 Expired),
// as the watch cache answers. Memory per watch is bounded: a client that falls `watchQueueLimit` events behind has
// its watch closed, and it re-watches from the last version it saw, as client-go does.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject, ResourceType, SimRequest, WatchEvent } from "../contracts.ts";
import { apiVersionOf } from "../registry.ts";
import { failure, StatusError } from "../status.ts";
import { toTable } from "../table.ts";
import type { ApiContext } from "./context.ts";
import { objectFilter, printerColumnsFor } from "./read.ts";
import { includeObjectOf, wantsTable } from "./respond.ts";

const DEFAULT_TIMEOUT_SECONDS = 1800;

function parseOptions(route: SimRequest) {
  const q = route.query;
  const rvRaw = q.get("resourceVersion") ?? "";
  if (rvRaw !== "" && !/^\d+$/.test(rvRaw)) {
    throw StatusError.of("BadRequest", `invalid resource version: ${rvRaw}`);
  }
  const timeoutRaw = q.get("timeoutSeconds");
  const timeout = timeoutRaw === null ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutRaw);
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw StatusError.of("BadRequest", `invalid timeoutSeconds: ${timeoutRaw}`);
  }
  const sendInitialEvents = q.get("sendInitialEvents") === "true";
  const match = q.get("resourceVersionMatch") ?? "";
  if (sendInitialEvents && match !== "NotOlderThan") {
    throw StatusError.of(
      "Invalid",
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    );
  }
  return {
    rv: rvRaw === "" ? undefined : Number(rvRaw),
    timeoutMs: (timeout === 0 ? DEFAULT_TIMEOUT_SECONDS : timeout) * 1000,
    bookmarks: q.get("allowWatchBookmarks") === "true",
    sendInitialEvents,
  };
}

/**
 * What a filtered watch sees of one change, as the apiserver's watch cache computes it: an object that starts
 * matching is ADDED, one that stops matching is DELETED (its previous state at the event's resourceVersion), one
 * that matches before and after is MODIFIED; anything else is not sent.
 */
export function filterEvent(
  matches: (obj: KubeObject) => boolean,
  event: WatchEvent,
  previous?: KubeObject,
): WatchEvent | undefined {
  if (event.type !== "MODIFIED") return matches(event.object) ? event : undefined;
  const now = matches(event.object);
  const before = previous ? matches(previous) : now;
  if (now) return before ? event : { type: "ADDED", object: event.object };
  if (!before || !previous) return undefined;
  const gone = structuredClone(previous);
  gone.metadata.resourceVersion = event.object.metadata.resourceVersion;
  return { type: "DELETED", object: gone };
}

export function handleWatch(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const opts = parseOptions(route);
  const matches = objectFilter(type, route);
  const table = wantsTable(req.headers.accept);
  const includeObject = includeObjectOf(route.query);
  const apiVersion = apiVersionOf(type);
  const columns = table ? printerColumnsFor(ctx, type) : {};

  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.flushHeaders();

  const queue: string[] = [];
  let closed = false;
  let lastRv = String(ctx.store.currentResourceVersion());
  const encode = (event: WatchEvent): string => {
    const object =
      table && event.type !== "ERROR" && event.type !== "BOOKMARK"
        ? toTable(type, [event.object], {
            includeObject,
            resourceVersion: event.object.metadata.resourceVersion ?? "",
            ...columns,
          })
        : event.object;
    return `${JSON.stringify({ type: event.type, object })}\n`;
  };
  const flush = () => {
    while (queue.length > 0 && !closed) {
      const next = queue.shift() as string;
      if (!res.write(next)) return;
    }
  };
  const send = (event: WatchEvent) => {
    if (closed) return;
    if (event.object.metadata?.resourceVersion && event.type !== "ERROR")
      lastRv = event.object.metadata.resourceVersion;
    queue.push(encode(event));
    if (queue.length > ctx.watchQueueLimit) {
      finish();
      return;
    }
    if (queue.length === 1 && res.writableNeedDrain === false) flush();
  };
  res.on("drain", flush);

  const bookmark = (annotations?: Record<string, string>): WatchEvent => ({
    type: "BOOKMARK",
    object: {
      kind: type.kind,
      apiVersion,
      metadata: { resourceVersion: lastRv, ...(annotations ? { annotations } : {}) },
    } as KubeObject,
  });

  let unsubscribe = () => {};
  const timers: NodeJS.Timeout[] = [];
  function finish() {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.end();
  }
  res.on("close", finish);
  timers.push(setTimeout(finish, opts.timeoutMs));
  if (opts.bookmarks) {
    const interval = setInterval(() => send(bookmark()), ctx.bookmarkIntervalMs);
    timers.push(interval);
  }

  const listener = (event: WatchEvent, previous?: KubeObject) => {
    const filtered = filterEvent(matches, event, previous);
    if (filtered) send(filtered);
  };
  try {
    if (opts.rv === undefined || opts.rv === 0 || opts.sendInitialEvents) {
      const { items, resourceVersion } = ctx.store.list(type, route.namespace);
      for (const obj of items) if (matches(obj)) send({ type: "ADDED", object: obj });
      lastRv = resourceVersion;
      if (opts.sendInitialEvents && opts.bookmarks) send(bookmark({ "k8s.io/initial-events-end": "true" }));
      unsubscribe = ctx.store.watch(type, route.namespace, Number(resourceVersion), listener);
    } else {
      unsubscribe = ctx.store.watch(type, route.namespace, opts.rv, listener);
    }
  } catch (err) {
    const status =
      err instanceof StatusError
        ? err.status
        : failure("InternalError", `watch failed: ${(err as Error).message}`);
    send({ type: "ERROR", object: status as unknown as KubeObject });
    finish();
  }
}
