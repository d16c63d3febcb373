// Holding a request until its review is decided: woken by the bus, re-reading the store each time (a bus message is
// only a hint), bounded by the review's deadline and by the client's connection (AbortSignal).
//
// Stance: every exit path unsubscribes and clears its timer, so a gateway holding many requests leaks nothing; a
// store read that fails ends the wait as a timeout (the request is refused, never sent).

import type { ReviewBus } from "./bus.ts";
import type { Review, ReviewStore } from "./types.ts";

export type WaitOutcome = { kind: "decided"; review: Review } | { kind: "timeout" } | { kind: "aborted" };

export function waitForDecision(
  deps: { store: ReviewStore; bus: ReviewBus; now: () => number },
  id: string,
  signal: AbortSignal,
): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: WaitOutcome) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: "aborted" });
    const check = () => {
      void deps.store.reviews.get(id).then(
        (review) => {
          if (settled) return; // a late read after the outcome must not arm a new timer
          if (!review) return finish({ kind: "timeout" });
          if (review.state !== "pending") return finish({ kind: "decided", review });
          const left = Date.parse(review.expiresAt) - deps.now();
          if (left <= 0) return finish({ kind: "timeout" });
          clearTimeout(timer);
          timer = setTimeout(check, Math.min(left, 2_147_000_000));
        },
        () => finish({ kind: "timeout" }),
      );
    };
    const unsubscribe = deps.bus.subscribe(id, check);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    check();
  });
}
