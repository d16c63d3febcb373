// Webhook notifications about reviews: a generic JSON payload and a Slack-compatible incoming-webhook payload, each
// with the diff summary and a link to the review. IO at the edge; payload builders are pure.
//
// Stance: never block or fail the request path. `notify` returns at once; deliveries are retried with exponential
// backoff and then dropped with a logged warning. Payloads carry no body and no Secret values: the request line,
// who asked, the summary and the (already masked) start of the diff.
import type { Review, ReviewEventType } from "../gateway/contracts.ts";

export interface WebhookTarget {
  url: string;
  format: "json" | "slack";
}

export interface NotifierOptions {
  webhooks: readonly WebhookTarget[];
  /** The gateway's base URL: links point at <base>/ui/reviews/<id>. */
  baseUrl: string;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  onDelivered?: (review: Review, type: ReviewEventType, target: WebhookTarget) => void;
  onFailed?: (review: Review, type: ReviewEventType, target: WebhookTarget, error: string) => void;
  fetch?: typeof fetch;
}

const DIFF_LINES = 40;

export function reviewLink(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/ui/reviews/${id}`;
}

function requestLine(review: Review): string {
  const r = review.request;
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const target = [resource, r.name].filter(Boolean).join(" ");
  const where = r.namespace ? ` in ${r.namespace}` : "";
  const argv = r.execCommand ? ` -- ${r.execCommand.join(" ")}` : "";
  return `${r.action} ${target}${where} on ${review.cluster}${argv}`;
}

function diffExcerpt(review: Review): string {
  const lines = (review.preview?.diff ?? "").split("\n").filter(Boolean);
  const shown = lines.slice(0, DIFF_LINES).join("\n");
  return lines.length > DIFF_LINES ? `${shown}\n… ${lines.length - DIFF_LINES} more lines` : shown;
}

export function jsonPayload(review: Review, type: ReviewEventType, baseUrl: string): Record<string, unknown> {
  return {
    type: `airlock.review.${type}`,
    review: {
      id: review.id,
      state: review.state,
      requester: review.requester.name,
      cluster: review.cluster,
      request: requestLine(review),
      method: review.request.method,
      path: review.request.path,
      policy: review.policy,
      rule: review.rule,
      justification: review.justification,
      approvals: review.approvals.map((v) => v.by),
      approvalsNeeded: review.requirement.approvals,
      denial: review.denial ? { by: review.denial.by, reason: review.denial.reason } : null,
      expiresAt: review.expiresAt,
      summary: review.preview?.summary ?? null,
      dependents: review.preview?.dependents ?? [],
      diff: diffExcerpt(review),
      url: reviewLink(baseUrl, review.id),
    },
  };
}

export function slackPayload(
  review: Review,
  type: ReviewEventType,
  baseUrl: string,
): Record<string, unknown> {
  const link = reviewLink(baseUrl, review.id);
  const headline =
    type === "created"
      ? `:lock: *${review.requester.name}* asks to ${requestLine(review)}`
      : `Review for ${review.requester.name}'s ${requestLine(review)} is *${review.state}*` +
        (review.denial ? ` by ${review.denial.by}: ${review.denial.reason}` : "");
  const details = [
    `policy ${review.policy} rule ${review.rule}`,
    review.justification ? `justification: ${review.justification}` : "",
    review.preview ? `change: ${review.preview.summary}` : "",
    `approve: \`airlock review approve ${review.id}\``,
  ]
    .filter(Boolean)
    .join("\n");
  const excerpt = diffExcerpt(review);
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `${headline}\n${details}` } },
  ];
  if (type === "created" && excerpt) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `\`\`\`${excerpt.slice(0, 2800)}\`\`\`` } });
  }
  blocks.push({ type: "section", text: { type: "mrkdwn", text: `<${link}|Open review ${review.id}>` } });
  return { text: `${headline} — ${link}`, blocks };
}

export function createWebhookNotifier(
  opts: NotifierOptions,
): (review: Review, type: ReviewEventType) => void {
  const attempts = opts.attempts ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;

  async function deliver(target: WebhookTarget, review: Review, type: ReviewEventType): Promise<void> {
    const payload =
      target.format === "slack"
        ? slackPayload(review, type, opts.baseUrl)
        : jsonPayload(review, type, opts.baseUrl);
    let lastError = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 1)).unref());
      try {
        const res = await doFetch(target.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return opts.onDelivered?.(review, type, target);
        lastError = `HTTP ${res.status}`;
        // A 4xx other than 429 will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    opts.onFailed?.(review, type, target, lastError);
  }

  return (review, type) => {
    for (const target of opts.webhooks) void deliver(target, review, type);
  };
}
