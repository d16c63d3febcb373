// Graceful shutdown (issue 16 §8). On SIGTERM/SIGINT the gateway:
//   1. reports not ready (/readyz 503) and stops accepting connections;
//   2. drains the ones it has: HTTP/2 sessions get a GOAWAY, idle HTTP/1.1 connections are closed, a request that
//      still arrives on an open connection is answered 503 "the gateway is shutting down";
//   3. ends the long-running streams with a Status (a watch gets an ERROR event, an exec or attach the Status on
//      its error channel; port-forward and log follows are closed) and answers held requests;
//   4. lets plain requests in flight finish, up to shutdown.gracePeriodSeconds; what is left then is cut;
//   5. waits for the handlers to write their completion records, then closes the clusters, recordings (flushed),
//      the audit service, the event bus and the store. `airlock serve` then exits 0.
import type { Http2SecureServer } from "node:http2";
import type { StreamRegistry } from "../identity/streams.ts";
import { shuttingDown } from "../kube/refusals.ts";
import type { Logger } from "../shared/log.ts";
import type { ListenerGuard } from "./limits.ts";

/** The request handlers running now (their promises), so shutdown can wait for their completion records. */
export class HandlerTracker {
  #running = 0;
  #waiters: (() => void)[] = [];

  track(work: Promise<unknown>): void {
    this.#running++;
    const done = () => {
      this.#running--;
      if (this.#running === 0) for (const w of this.#waiters.splice(0)) w();
    };
    work.then(done, done);
  }

  running(): number {
    return this.#running;
  }

  /** Resolves once no handler runs, or after `ms`; true when all finished. */
  idle(ms: number): Promise<boolean> {
    if (this.#running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#running === 0), ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

export interface ShutdownParts {
  server: Http2SecureServer;
  guard: ListenerGuard;
  handlers: HandlerTracker;
  streams: StreamRegistry;
  log: Logger;
  notReady(): void;
  /** Steps of shutdown that must run before the rest is closed (policy watcher, identity timers). */
  stopBackground(): void;
  /** Closes clusters, recordings, audit, event bus and store, in that order. */
  closeServices(): Promise<void>;
}

const REASON = "the gateway is shutting down";

export async function shutDown(parts: ShutdownParts, gracePeriodSeconds: number): Promise<void> {
  const started = Date.now();
  parts.notReady();
  const listenerClosed = new Promise<void>((resolve) => parts.server.close(() => resolve()));
  parts.guard.drain();
  parts.stopBackground();
  const status = shuttingDown(
    `airlock: ${REASON}; reconnect and retry (another replica, or this one once restarted)`,
  );
  const streams = parts.streams.closeLongRunning(REASON, status);
  parts.log.info(
    { streams, requests: parts.handlers.running(), gracePeriodSeconds },
    "shutting down: listener closed, streams ended; waiting for requests in flight",
  );
  const finished = await parts.handlers.idle(gracePeriodSeconds * 1000);
  if (!finished) {
    parts.log.warn(
      { requests: parts.handlers.running(), gracePeriodSeconds },
      "grace period over: ending the requests still in flight",
    );
    parts.streams.closeAll(REASON, status);
    parts.guard.destroyAll();
    // Their handlers still write completion records (status 499 or the close reason).
    await parts.handlers.idle(2000);
  }
  parts.guard.destroyAll();
  await Promise.race([listenerClosed, new Promise((r) => setTimeout(r, 1000))]);
  await parts.closeServices();
  parts.log.info({ ms: Date.now() - started }, "shut down");
}
