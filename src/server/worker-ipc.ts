// What the worker processes of `airlock serve --workers N` (workers.ts) say to the primary over the cluster IPC
// channel, and what it answers.
//
// - Chained audit writes (begin, complete, note) and the chain head go to the primary: it holds the ONE chain writer
//   of the host (src/store/audit-writer.ts or pg/chain-writer.ts), so the begin records of every worker's requests
//   join the same group-commit batches and the chain has one order. A worker's `audit.begin` resolves only when the
//   primary answers that the batch holding it committed (write-ahead holds across the hop). An error keeps its store
//   fault (503 naming it); a primary that cannot be reached is a store fault too: refused, never forwarded.
// - The shared counters (rate limits, sign-in throttles) go to the primary as well: one writer, no SQLite lock
//   contention between workers, and one exact budget for all of them.
// - The event bus (SQLite only; PostgreSQL workers use LISTEN/NOTIFY like replicas): a worker's message is delivered
//   in the worker and sent to the primary, which passes it to every other worker — cut-offs, review decisions and
//   policy reloads reach all of them at once.
// Everything else a worker reads or writes goes to the store directly (its own connection to the same database).
import { StoreFault, storeFaultReason } from "../store/faults.ts";
import type { EventBus } from "../store/notify.ts";
import type { Store } from "../store/types.ts";

/** The store operations a worker forwards to the primary. */
export const FORWARDED = [
  "audit.begin",
  "audit.complete",
  "audit.note",
  "audit.head",
  "counters.get",
  "counters.swap",
  "counters.purge",
] as const;
export type ForwardedOp = (typeof FORWARDED)[number];

export type WorkerMessage =
  | { k: "call"; id: number; op: ForwardedOp; args: unknown[] }
  | { k: "bus"; topic: string; message: string }
  | { k: "ready"; url: string };

export type PrimaryMessage =
  | { k: "reply"; id: number; ok: true; value: unknown }
  | { k: "reply"; id: number; ok: false; message: string; reason?: string }
  | { k: "bus"; topic: string; message: string }
  | { k: "shutdown" }
  | { k: "reload" };

/** The channel as the worker sees it (process.send / process.on("message") in a cluster worker). */
export interface Channel {
  send(message: WorkerMessage): boolean;
  onMessage(listener: (message: PrimaryMessage) => void): void;
  connected(): boolean;
}

export function processChannel(): Channel {
  return {
    send: (message) => {
      if (!process.send || !process.connected) return false;
      process.send(message);
      return true;
    },
    onMessage: (listener) => process.on("message", (m) => listener(m as PrimaryMessage)),
    connected: () => process.connected,
  };
}

const UNREACHABLE = "the audit writer (the primary process of airlock serve --workers) cannot be reached";

/** Worker side: calls the primary and resolves with its answer. */
export class PrimaryClient {
  readonly #channel: Channel;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  #next = 1;
  readonly #busListeners = new Set<(topic: string, message: string) => void>();

  constructor(channel: Channel) {
    this.#channel = channel;
    channel.onMessage((m) => {
      if (m.k === "reply") {
        const waiter = this.#pending.get(m.id);
        if (!waiter) return;
        this.#pending.delete(m.id);
        if (m.ok) waiter.resolve(m.value);
        else
          waiter.reject(m.reason !== undefined ? new StoreFault(m.message, m.reason) : new Error(m.message));
      } else if (m.k === "bus") {
        for (const l of this.#busListeners) l(m.topic, m.message);
      }
    });
  }

  call(op: ForwardedOp, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { resolve, reject });
      let sent = false;
      try {
        sent = this.#channel.send({ k: "call", id, op, args });
      } catch {
        sent = false;
      }
      if (!sent) {
        this.#pending.delete(id);
        reject(new StoreFault(`store: ${UNREACHABLE}`, UNREACHABLE));
      }
    });
  }

  /** The channel closed: nothing pending will be answered; every waiter is refused (fail closed). */
  failAll(): void {
    for (const [id, waiter] of this.#pending) {
      this.#pending.delete(id);
      waiter.reject(new StoreFault(`store: ${UNREACHABLE}`, UNREACHABLE));
    }
  }

  publish(topic: string, message: string): void {
    try {
      this.#channel.send({ k: "bus", topic, message });
    } catch {
      // The primary is gone; the worker exits on disconnect.
    }
  }

  onBus(listener: (topic: string, message: string) => void): void {
    this.#busListeners.add(listener);
  }
}

/** The worker's store: the local one, with chained audit writes, the head and the counters answered by the primary. */
export function forwardingStore(store: Store, primary: PrimaryClient): Store {
  const audit = new Proxy(store.audit, {
    get(target, prop, receiver) {
      if (prop === "begin" || prop === "complete" || prop === "note" || prop === "head")
        return (...args: unknown[]) => primary.call(`audit.${prop}`, args);
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const counters: Store["counters"] = {
    get: (key) => primary.call("counters.get", [key]) as ReturnType<Store["counters"]["get"]>,
    swap: (...args) => primary.call("counters.swap", args) as Promise<boolean>,
    purge: (nowMs) => primary.call("counters.purge", [nowMs]) as Promise<number>,
  };
  return { ...store, audit, counters };
}

/** Primary side: runs a forwarded operation on the primary's store; the answer to send back. */
export async function answer(
  store: Store,
  m: Extract<WorkerMessage, { k: "call" }>,
): Promise<PrimaryMessage> {
  try {
    const [table, method] = m.op.split(".") as [string, string];
    if (!(FORWARDED as readonly string[]).includes(m.op)) throw new Error(`unknown operation ${m.op}`);
    const target = (store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[table];
    const value = await target?.[method]?.(...m.args);
    return { k: "reply", id: m.id, ok: true, value };
  } catch (err) {
    const reason = storeFaultReason(err);
    return {
      k: "reply",
      id: m.id,
      ok: false,
      message: (err as Error)?.message ?? String(err),
      ...(reason !== undefined ? { reason } : {}),
    };
  }
}

/** A worker's event bus over the primary (SQLite): local delivery plus every other worker through the primary. */
export function workerEventBus(primary: PrimaryClient): EventBus {
  const listeners = new Map<string, Set<(message: string) => void>>();
  const deliver = (topic: string, message: string) => {
    for (const l of listeners.get(topic) ?? []) {
      try {
        l(message);
      } catch {
        // One listener's failure must not stop the others.
      }
    }
  };
  primary.onBus(deliver);
  return {
    publish: async (topic, message, opts) => {
      primary.publish(topic, message);
      if (opts?.local !== false) deliver(topic, message);
    },
    subscribe: (topic, listener) => {
      const set = listeners.get(topic) ?? new Set();
      listeners.set(topic, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    // IPC does not drop messages while connected; a worker whose channel closes exits (workers.ts).
    onResync: () => () => {},
    close: async () => {},
  };
}
