// Reviews: hold risky requests for a human, bound to the exact request (DESIGN.md invariant 8).
// `createReviews` builds the service the gateway's gate and the admin API share.

import { inProcessBus, type ReviewBus } from "./bus.ts";
import { parseDurationSeconds } from "./duration.ts";
import { createWebhookNotifier, type WebhookTarget } from "./notify.ts";
import { type ChainCheck, type ReviewLog, ReviewService } from "./service.ts";
import type { ReviewStore } from "./types.ts";

export { inProcessBus, type ReviewBus } from "./bus.ts";
export { parseDurationSeconds } from "./duration.ts";
export { mayDecide } from "./eligibility.ts";
export { requestFingerprint } from "./fingerprint.ts";
export { reviewLink } from "./notify.ts";
export { type ChainCheck, ReviewService, type WaitOutcome } from "./service.ts";

export interface ReviewsConfig {
  webhooks: readonly WebhookTarget[];
  approvalTtl: string;
  publicUrl?: string | undefined;
}

export function createReviews(opts: {
  store: ReviewStore;
  config: ReviewsConfig;
  baseUrl: string;
  log: ReviewLog;
  bus?: ReviewBus;
  now?: () => number;
  webhookRetry?: { attempts: number; baseDelayMs: number };
  /** Re-checks the chain of who asked (src/identity/chain.ts). */
  chain?: ChainCheck;
}): ReviewService {
  // Late-bound: the notifier records deliveries on the service it notifies for.
  let service: ReviewService | undefined;
  const notify = createWebhookNotifier({
    webhooks: opts.config.webhooks,
    baseUrl: opts.config.publicUrl ?? opts.baseUrl,
    ...(opts.webhookRetry ?? {}),
    onDelivered: (review, type, target) =>
      void service
        ?.note(
          review.id,
          "notified",
          "airlock",
          `${type} sent to ${target.format} webhook ${new URL(target.url).host}`,
        )
        .catch(() => {}),
    onFailed: (review, type, target, error) =>
      opts.log.warn(
        { reviewId: review.id, event: type, webhook: new URL(target.url).host, error },
        "review notification failed",
      ),
  });
  service = new ReviewService({
    store: opts.store,
    bus: opts.bus ?? inProcessBus(),
    approvalTtlSeconds: parseDurationSeconds(opts.config.approvalTtl) ?? 3600,
    log: opts.log,
    notify,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.chain ? { chain: opts.chain } : {}),
  });
  return service;
}
