// How held requests learn that their review changed: a tiny publish/subscribe interface keyed by review id.
//
// The in-process implementation below serves one gateway replica; a PostgreSQL LISTEN/NOTIFY implementation can take
// its place for several. A message only says "review X changed": subscribers re-read the store, so a lost or
// duplicated message can delay a waiter (until its deadline) but can never approve anything by itself.
import { EventEmitter } from "node:events";

export interface ReviewBus {
  publish(reviewId: string): void;
  /** Calls `listener` on every change of the review; returns the unsubscribe function. */
  subscribe(reviewId: string, listener: () => void): () => void;
}

export function inProcessBus(): ReviewBus {
  const emitter = new EventEmitter();
  // Many requests may wait on one gateway; the default limit of 10 per review would only log false leak warnings.
  emitter.setMaxListeners(0);
  return {
    publish: (reviewId) => {
      emitter.emit(reviewId);
    },
    subscribe: (reviewId, listener) => {
      emitter.on(reviewId, listener);
      return () => emitter.off(reviewId, listener);
    },
  };
}
