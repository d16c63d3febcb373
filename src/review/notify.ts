// Webhook notifications about reviews: a generic JSON payload and a Slack-compatible incoming-webhook payload, each
// with the diff summary and a link to the review. IO at the edge; payload builders are pure.
//
// Stance: never block or fail the request path. `notify` returns at once; deliveries are retried with exponential
// backoff and then dropped with a logged warning. Payloads carry no Secret values: the request itself (method, path,
// query, Content-Type, exec flags and argv, the start of the masked body), who asked, the summary and the (already
// masked) start of the diff. Text the agent or the cluster controls follows the rendering rule per target (issue
// 14): escaped and code-fenced for Slack mrkdwn, exact plus a rendered `display` copy for JSON.

import { argvInline, argvLines, renderBlock, renderInline, renderName } from "../shared/render.ts";
import type { Review, ReviewEventType } from "./types.ts";

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
const BODY_CHARS = 2000;

export function reviewLink(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/ui/reviews/${encodeURIComponent(id)}`;
}

function requestLine(review: Review): string {
  const r = review.request;
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const target = [resource, r.name].filter(Boolean).join(" ");
  const where = r.namespace ? ` in ${r.namespace}` : "";
  const argv = r.execCommand ? ` -- ${r.execCommand.join(" ")}` : "";
  return `${r.action} ${target}${where} on ${review.cluster}${argv}`;
}

/** The request line for humans: every part rendered, argv quoted argument by argument. */
function requestLineShown(review: Review): string {
  const r = review.request;
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const target = [resource, r.name].filter(Boolean).join(" ");
  const where = r.namespace ? ` in ${r.namespace}` : "";
  const head = renderInline(`${r.action} ${target}${where} on ${review.cluster}`, { max: 300 });
  return r.execCommand ? `${head} -- ${argvInline(r.execCommand, { max: 300 })}` : head;
}

function diffExcerpt(review: Review): string {
  const lines = (review.preview?.diff ?? "").split("\n").filter(Boolean);
  const shown = lines.slice(0, DIFF_LINES).join("\n");
  return lines.length > DIFF_LINES ? `${shown}\n… ${lines.length - DIFF_LINES} more lines` : shown;
}

function more(review: Review): string {
  return `see the console or run 'airlock review show ${review.id} --full'`;
}

/** The request itself, as the reviewer sees it in `review show`, rendered by the rule (src/shared/render.ts). */
function requestShown(review: Review): Record<string, unknown> {
  const q = review.request;
  const opts = { max: 1000, more: more(review) };
  return {
    method: renderInline(q.method, opts),
    path: renderInline(q.path, opts),
    query: [...new URLSearchParams(q.query).entries()].map(
      ([k, v]) => `${renderInline(k, opts)} = ${renderInline(v, opts)}`,
    ),
    contentType: renderInline(q.contentType, opts),
    exec: q.exec ?? null,
    argv: q.execCommand ? argvLines(q.execCommand, opts) : null,
    body: renderBlock(q.body, { max: BODY_CHARS, more: more(review) }),
  };
}

/**
 * The generic JSON payload. `review.*` keeps exact values for machines (as the admin API does); every string under
 * it that the agent or the cluster controls — requester, request, path, justification, diff, body — is untrusted.
 * `review.display` holds the same rendered by the rule, for anything that shows it to a human.
 */
export function jsonPayload(review: Review, type: ReviewEventType, baseUrl: string): Record<string, unknown> {
  const q = review.request;
  return {
    type: `airlock.review.${type}`,
    review: {
      id: review.id,
      state: review.state,
      requester: review.requester.name,
      // The rest of the chain of who asked (issue 15): none of them may approve.
      onBehalfOf: review.requester.onBehalfOf ?? null,
      credential: review.requester.credentialId ?? null,
      session: review.requester.sessionId ?? null,
      endedReason: review.endedReason ?? null,
      cluster: review.cluster,
      request: requestLine(review),
      method: q.method,
      path: q.path,
      query: q.query,
      contentType: q.contentType,
      execCommand: q.execCommand,
      exec: q.exec ?? null,
      body: q.body.slice(0, BODY_CHARS),
      bodyLength: q.body.length,
      policy: review.policy,
      rule: review.rule,
      justification: review.justification,
      approvals: review.approvals.map((v) => v.by),
      approvalsNeeded: review.requirement.approvals,
      denial: review.denial ? { by: review.denial.by, reason: review.denial.reason } : null,
      expiresAt: review.expiresAt,
      summary: review.preview?.summary ?? null,
      previewError: review.preview?.error ?? null,
      dependents: review.preview?.dependents ?? [],
      diff: diffExcerpt(review),
      url: reviewLink(baseUrl, review.id),
      display: {
        requester: renderName(review.requester.name, { max: 200 }),
        onBehalfOf: review.requester.onBehalfOf
          ? renderName(review.requester.onBehalfOf, { max: 200 })
          : null,
        request: requestLineShown(review),
        details: requestShown(review),
        justification:
          review.justification === null
            ? null
            : `client says: ${renderInline(review.justification, { max: 2000, more: more(review) })}`,
        denial: review.denial ? renderInline(review.denial.reason, { max: 1000 }) : null,
        summary: review.preview ? renderInline(review.preview.summary, { max: 500 }) : null,
        previewError: review.preview?.error ? renderInline(review.preview.error, { max: 1000 }) : null,
        diff: renderBlock(diffExcerpt(review), { max: 20_000, more: more(review) }),
      },
    },
  };
}

/**
 * Untrusted text for Slack mrkdwn, inline: the rendering rule first (one line, controls as markers), then `&`, `<`,
 * `>` escaped (so `<!channel>`, `<@U…>` and `<url|label>` are plain text), backticks replaced by ˋ (U+02CB), and the
 * whole in a code span: no bold or strike, no auto-linked URL or domain, no mention — and nothing can close the span.
 */
export function mrkdwnCode(text: string, max = 500): string {
  return `\`${mrkdwnEscape(renderInline(text, { max }))}\``;
}

function mrkdwnEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("`", "ˋ");
}

/** A block of untrusted text as a Slack code block that the text cannot close. `rendered`: already by the rule. */
export function mrkdwnBlock(text: string, max = 2800, rendered = false): string {
  return `\`\`\`${mrkdwnEscape(rendered ? text : renderBlock(text, { max }))}\`\`\``;
}

/**
 * The Slack incoming-webhook payload. Airlock's own words are mrkdwn; every value the agent or the cluster controls
 * is in a code span or block (mrkdwnCode / mrkdwnBlock); the only link is to this gateway's console.
 */
export function slackPayload(
  review: Review,
  type: ReviewEventType,
  baseUrl: string,
): Record<string, unknown> {
  const link = reviewLink(baseUrl, review.id);
  const q = review.request;
  const target = [q.subresource ? `${q.resource}/${q.subresource}` : q.resource, q.name]
    .filter(Boolean)
    .join(" ");
  const what =
    `${mrkdwnCode(q.action, 60)} ${mrkdwnCode(target, 300)}` +
    (q.namespace ? ` in ${mrkdwnCode(q.namespace, 100)}` : "") +
    ` on ${mrkdwnCode(review.cluster, 100)}`;
  const who = mrkdwnCode(review.requester.name, 100);
  const headline =
    type === "created"
      ? `:lock: ${who} asks to ${what}`
      : `Review for ${who}'s ${what} is *${review.state}*` +
        (review.denial
          ? ` by ${mrkdwnCode(review.denial.by, 100)}: ${mrkdwnCode(review.denial.reason)}`
          : "");
  const query = [...new URLSearchParams(q.query).entries()].filter(([k]) => k !== "command");
  const details = [
    `request: ${mrkdwnCode(`${q.method} ${q.path}`, 400)}` +
      (q.contentType ? ` content-type ${mrkdwnCode(q.contentType, 100)}` : ""),
    query.length ? `query: ${query.map(([k, v]) => mrkdwnCode(`${k}=${v}`, 200)).join(" ")}` : "",
    q.exec
      ? `exec: container ${mrkdwnCode(q.exec.container || "(default)", 100)}, stdin ${q.exec.stdin ? "yes" : "no"}, tty ${q.exec.tty ? "yes" : "no"}`
      : "",
    `policy ${mrkdwnCode(review.policy, 100)} rule ${mrkdwnCode(review.rule, 100)}`,
    review.requester.onBehalfOf
      ? `on behalf of: ${mrkdwnCode(review.requester.onBehalfOf, 100)} (who may not approve it)`
      : "",
    review.requester.credentialId ? `credential: ${mrkdwnCode(review.requester.credentialId, 100)}` : "",
    review.endedReason ? `ended: ${mrkdwnCode(review.endedReason, 300)}` : "",
    review.justification ? `justification (client says): ${mrkdwnCode(review.justification, 1000)}` : "",
    review.preview ? `change: ${mrkdwnCode(review.preview.summary, 300)}` : "",
    review.preview?.error ? `preview failed: ${mrkdwnCode(review.preview.error, 500)}` : "",
    `approve: \`airlock review approve ${mrkdwnEscape(review.id)}\``,
  ]
    .filter(Boolean)
    .join("\n");
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `${headline}\n${details}` } },
  ];
  if (type === "created" && q.execCommand) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `argv, one argument per line:\n${mrkdwnBlock(argvLines(q.execCommand, { max: 500 }).join("\n"), 0, true)}`,
      },
    });
  }
  const excerpt = diffExcerpt(review);
  if (type === "created" && excerpt) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: mrkdwnBlock(excerpt, 2800) } });
  } else if (type === "created" && q.body) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `body:\n${mrkdwnBlock(q.body, 2000)}` } });
  }
  // The one link: this gateway's console. The id is a UUID the gateway made; escaped all the same.
  blocks.push({
    type: "section",
    text: { type: "mrkdwn", text: `<${mrkdwnEscape(link)}|Open review ${mrkdwnEscape(review.id)}>` },
  });
  return {
    text: `${headline} — ${mrkdwnEscape(link)}`,
    blocks,
    // Mentions, channel pings and link previews are never expanded, whatever the text holds.
    link_names: false,
    unfurl_links: false,
    unfurl_media: false,
  };
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
