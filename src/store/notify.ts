// The cross-replica event bus: review decisions and identity cut-offs reach every gateway replica at once.
// In-process for SQLite (one replica); PostgreSQL LISTEN/NOTIFY on one channel per schema for several replicas.
//
// Stance: a message is only a hint. Review waiters re-read the store when woken, so a lost or duplicated message
// delays (until the deadline) but never approves anything; a revocation is already in the store before it is
// published, so every replica refuses the identity's next request whether or not the message arrives — the message
// only closes live streams sooner. When the LISTEN connection is lost, the bus reconnects and calls its resync
// listeners (messages may have been missed): waiters re-read, and the gateway re-closes streams of identities the
// store says are revoked or disabled. A replica hears its own messages in-process at once and skips their NOTIFY echo.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import pg from "pg";
import type { Identity } from "../identity/types.ts";
import type { ReviewBus } from "../review/bus.ts";
import { postgresUrl, type StoreOptions } from "./index.ts";
import { clientConfig } from "./pg/db.ts";
import type { Store } from "./types.ts";

export interface EventBus {
  /**
   * Delivers `message` on `topic` to every other replica and (unless `local: false`) to this one; rejects when it
   * could not be sent to the others.
   */
  publish(topic: string, message: string, opts?: { local?: boolean }): Promise<void>;
  subscribe(topic: string, listener: (message: string) => void): () => void;
  /** Called after messages may have been lost (the bus reconnected). */
  onResync(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface BusLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

class LocalBus {
  readonly emitter = new EventEmitter();
  readonly resync = new Set<() => void>();
  constructor() {
    // Many requests may wait on one replica; the default limit would only log false leak warnings.
    this.emitter.setMaxListeners(0);
  }
  deliver(topic: string, message: string): void {
    this.emitter.emit(topic, message);
  }
  subscribe(topic: string, listener: (message: string) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }
  onResync(listener: () => void): () => void {
    this.resync.add(listener);
    return () => this.resync.delete(listener);
  }
  fireResync(): void {
    for (const listener of this.resync) listener();
  }
}

/** One replica: delivery inside the process. */
export function inProcessEventBus(): EventBus {
  const local = new LocalBus();
  return {
    publish: async (topic, message, o) => {
      if (o?.local !== false) local.deliver(topic, message);
    },
    subscribe: (topic, listener) => local.subscribe(topic, listener),
    onResync: (listener) => local.onResync(listener),
    close: async () => {},
  };
}

/** The bus for a store: in-process for SQLite, LISTEN/NOTIFY on the same database and schema for PostgreSQL. */
export async function openEventBus(opts: StoreOptions, log?: BusLog): Promise<EventBus> {
  if (opts.kind === "sqlite") return inProcessEventBus();
  return postgresEventBus({
    url: await postgresUrl(opts),
    ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
    ...(log ? { log } : {}),
  });
}

/** NOTIFY payloads are limited to 8000 bytes; ours are ids and names. */
const MAX_PAYLOAD = 7900;

/** Several replicas: LISTEN/NOTIFY on `airlock_events_<schema>`, one dedicated listening connection per replica. */
export async function postgresEventBus(opts: {
  url: string;
  schema?: string;
  log?: BusLog;
}): Promise<EventBus> {
  const config = clientConfig({ url: opts.url, ...(opts.schema ? { schema: opts.schema } : {}) });
  const channel = `airlock_events_${opts.schema ?? "airlock"}`;
  const origin = randomUUID();
  const local = new LocalBus();
  const sender = new pg.Pool({ ...config, max: 2 });
  sender.on("error", () => {}); // an idle sender connection died; the next publish reconnects
  let listener: pg.Client | undefined;
  let closed = false;
  let retryMs = 100;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const client = new pg.Client(config);
    client.on("notification", (msg) => {
      if (msg.channel !== channel || !msg.payload) return;
      try {
        const { o, t, m } = JSON.parse(msg.payload) as { o: string; t: string; m: string };
        if (o !== origin) local.deliver(t, m);
      } catch {
        // Not one of ours: someone else NOTIFYing on the channel must not break the bus.
      }
    });
    const lost = (err?: Error) => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => {});
      if (closed) return;
      opts.log?.warn(
        { error: err?.message ?? "connection ended" },
        "event bus: LISTEN connection lost; reconnecting",
      );
      timer = setTimeout(reconnect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
    client.on("error", lost);
    client.on("end", () => lost());
    await client.connect();
    // The channel name is built from a checked schema name; LISTEN takes no bound parameters.
    await client.query(`LISTEN ${channel}`);
    listener = client;
    retryMs = 100;
  };
  const reconnect = () => {
    timer = undefined;
    if (closed) return;
    connect().then(
      () => {
        opts.log?.info({ channel }, "event bus: listening again; resynchronising");
        local.fireResync();
      },
      (err: Error) => {
        opts.log?.warn({ error: err.message }, "event bus: reconnect failed");
        timer = setTimeout(reconnect, retryMs);
        retryMs = Math.min(retryMs * 2, 5000);
      },
    );
  };

  try {
    await connect();
  } catch (err) {
    await sender.end().catch(() => {});
    throw err;
  }
  return {
    async publish(topic, message, o) {
      if (o?.local !== false) local.deliver(topic, message);
      const payload = JSON.stringify({ o: origin, t: topic, m: message });
      if (Buffer.byteLength(payload) > MAX_PAYLOAD)
        throw new Error(`event bus: a ${topic} message is too large`);
      await sender.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    subscribe: (topic, l) => local.subscribe(topic, l),
    onResync: (l) => local.onResync(l),
    async close() {
      closed = true;
      clearTimeout(timer);
      const client = listener;
      listener = undefined;
      await Promise.allSettled([client?.end(), sender.end()]);
    },
  };
}

// ── Adapters: what the gateway publishes and how it reacts ─────────────────────────────────────────────────────

const REVIEW_TOPIC = "review";

/** The review service's bus on top of the event bus: "review X changed" reaches waiters on every replica. */
export function reviewBusOn(bus: EventBus, log?: BusLog): ReviewBus {
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    for (const listener of [...(waiters.get(id) ?? [])]) listener();
  };
  bus.subscribe(REVIEW_TOPIC, wake);
  // Messages may have been missed: every waiter re-reads its review.
  bus.onResync(() => {
    for (const id of [...waiters.keys()]) wake(id);
  });
  return {
    publish(reviewId) {
      bus.publish(REVIEW_TOPIC, reviewId).catch((err: Error) => {
        // Local waiters were woken already; remote ones fall back to their deadline re-check.
        log?.warn({ reviewId, error: err.message }, "event bus: review change not sent to other replicas");
      });
    },
    subscribe(reviewId, listener) {
      let set = waiters.get(reviewId);
      if (!set) {
        set = new Set();
        waiters.set(reviewId, set);
      }
      set.add(listener);
      return () => {
        const current = waiters.get(reviewId);
        current?.delete(listener);
        if (current?.size === 0) waiters.delete(reviewId);
      };
    },
  };
}

const IDENTITY_CUTOFF = "identity.cutoff";
const CREDENTIAL_CUTOFF = "credential.cutoff";
const IDENTITY_EXPIRY = "identity.expiry";
const DELEGATION_CUTOFF = "delegation.cutoff";

/** What the gateway does on a cut-off, locally (src/identity/service.ts). */
export interface CutOffs {
  cutOffIdentity(identity: Identity, why: string): number;
  cutOffCredential(credential: { id: string }, why: string): number;
  expiryChanged(identity: Identity): void;
  /** A delegation ended: close what its agent runs on the human's behalf (issue 15). */
  cutOffDelegation(delegation: { human: string; agentId: string }, why: string): number;
}

/**
 * Shares identity and credential cut-offs between replicas and subscribes this replica to the others' messages.
 * `wrap` returns the identity service with its cut-off methods sharing (local streams close at once, the message
 * follows); `identity` is the revocation path, which waits until the message is sent so that a failure reaches the
 * admin (who retries the revoke). Remote identities are re-read from the store: the message names them, the store
 * says what is true.
 */
export function shareCutOffs(opts: { bus: EventBus; store: Store; local: CutOffs; log?: BusLog }): {
  wrap<T extends CutOffs>(service: T): T;
  identity(identity: Identity, why: string): Promise<number>;
  stop(): void;
} {
  const { bus, store, local, log } = opts;
  const failed = (what: string) => (err: Error) =>
    log?.warn({ what, error: err.message }, "event bus: sharing a cut-off between replicas failed");
  const remote = (what: string, handle: (message: Record<string, string>) => Promise<void> | void) =>
    bus.subscribe(what, (message) => {
      try {
        Promise.resolve(handle(JSON.parse(message) as Record<string, string>)).catch(failed(what));
      } catch (err) {
        failed(what)(err as Error);
      }
    });
  const stops = [
    remote(IDENTITY_CUTOFF, async ({ name, why }) => {
      const identity = await store.identities.get(name ?? "");
      if (identity) local.cutOffIdentity(identity, why ?? "cut off on another replica");
    }),
    remote(CREDENTIAL_CUTOFF, ({ id, why }) => {
      local.cutOffCredential({ id: id ?? "" }, why ?? "cut off on another replica");
    }),
    remote(DELEGATION_CUTOFF, ({ human, agentId, why }) => {
      local.cutOffDelegation(
        { human: human ?? "", agentId: agentId ?? "" },
        why ?? "the delegation ended on another replica",
      );
    }),
    remote(IDENTITY_EXPIRY, async ({ name }) => {
      const identity = await store.identities.get(name ?? "");
      if (identity) local.expiryChanged(identity);
    }),
    // Missed messages: every identity the store says is revoked or disabled loses its streams here too.
    bus.onResync(() => {
      store.identities
        .list()
        .then((identities) => {
          for (const identity of identities) {
            if (identity.state !== "active")
              local.cutOffIdentity(identity, `identity ${identity.name} is ${identity.state}`);
          }
        })
        .catch(failed("resync"));
    }),
  ];
  // This replica acted already; the message is for the others only.
  const tell = (topic: string, message: object) =>
    bus.publish(topic, JSON.stringify(message), { local: false });
  return {
    wrap(service) {
      return {
        ...service,
        cutOffIdentity(identity: Identity, why: string) {
          const closed = service.cutOffIdentity(identity, why);
          tell(IDENTITY_CUTOFF, { name: identity.name, why }).catch(failed(IDENTITY_CUTOFF));
          return closed;
        },
        cutOffCredential(credential: { id: string }, why: string) {
          const closed = service.cutOffCredential(credential, why);
          tell(CREDENTIAL_CUTOFF, { id: credential.id, why }).catch(failed(CREDENTIAL_CUTOFF));
          return closed;
        },
        expiryChanged(identity: Identity) {
          service.expiryChanged(identity);
          tell(IDENTITY_EXPIRY, { name: identity.name }).catch(failed(IDENTITY_EXPIRY));
        },
        cutOffDelegation(delegation: { human: string; agentId: string }, why: string) {
          const closed = service.cutOffDelegation(delegation, why);
          tell(DELEGATION_CUTOFF, { human: delegation.human, agentId: delegation.agentId, why }).catch(
            failed(DELEGATION_CUTOFF),
          );
          return closed;
        },
      };
    },
    async identity(identity, why) {
      const closed = local.cutOffIdentity(identity, why);
      await tell(IDENTITY_CUTOFF, { name: identity.name, why });
      return closed;
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
