// One tool call as the tools see it: who calls (the principal authenticated at /mcp), the Kubernetes requests the
// call stands for (each through the whole pipeline via dispatch), and the shapes of its answers — a result, a
// pending review (returned at once, never held), or a refusal the model can read.
//
// Stance: a tool never talks to the cluster or the store behind the pipeline's back. The only exceptions are the
// review tools and can_i, which read the caller's own reviews and ask the decider — both without touching the cluster.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { InternalEntry } from "../gateway/context.ts";
import {
  type BufferedResponse,
  type DispatchRequest,
  dispatch,
  dispatchBuffered,
} from "../gateway/dispatch.ts";
import type { GatewayRuntime } from "../gateway/runtime.ts";
import type { Principal } from "../identity/types.ts";
import { maskedLine, maskedPaths, summarizeArgs, untrusted } from "./format.ts";

export interface CallContext {
  gw: GatewayRuntime;
  principal: Principal;
  sourceAddress: string;
  /** The MCP session the call belongs to (groups the calls into one Airlock session). */
  session: string;
  tool: string;
  args: Record<string, unknown>;
  /** Aborts when the client cancels the call or goes away. */
  signal?: AbortSignal;
}

export function entryOf(c: CallContext): InternalEntry {
  return {
    principal: c.principal,
    sourceAddress: c.sourceAddress,
    mcp: { tool: c.tool, command: summarizeArgs(c.tool, c.args), session: c.session },
    reviewsAnswerAtOnce: true,
    // The call's justification argument (tools/define.ts), checked by the pipeline like the header.
    ...(typeof c.args.justification === "string" ? { justification: c.args.justification } : {}),
  };
}

/** One Kubernetes request of the call, through the pipeline as the caller. */
export function kube(c: CallContext, req: DispatchRequest, maxBytes?: number): Promise<BufferedResponse> {
  return dispatchBuffered(c.gw, entryOf(c), req, maxBytes);
}

/**
 * A server-side dry run built here, by the gateway (query dryRun=All set last, whatever the caller's arguments held),
 * decided by policy as a `get` of the object (InternalEntry.gatewayDryRun; stages/decide.ts): it opens no review and
 * its answer is masked as a get's. Only for create/update/patch; anything else is refused by the decide stage.
 */
export function kubeDryRun(c: CallContext, req: DispatchRequest): Promise<BufferedResponse> {
  return dispatchBuffered(
    c.gw,
    { ...entryOf(c), gatewayDryRun: true },
    { ...req, query: { ...req.query, dryRun: "All" } },
  );
}

/**
 * A streaming request (follow, watch) read for at most `ms` milliseconds and `maxBytes` bytes, then cancelled: the
 * stream is destroyed, which ends the request upstream. `ended` says whether the server ended it first.
 */
export async function kubeWindow(
  c: CallContext,
  req: DispatchRequest,
  ms: number,
  maxBytes: number,
): Promise<BufferedResponse & { ended: boolean }> {
  // The window covers the wait for the response headers too (a masked answer's headers come with its first bytes).
  const started = Date.now();
  const early = new AbortController();
  const headerTimer = setTimeout(() => early.abort(), ms);
  let res: Awaited<ReturnType<typeof dispatch>>;
  try {
    res = await dispatch(c.gw, entryOf(c), req, early.signal);
  } catch (err) {
    if (!early.signal.aborted) throw err;
    return { status: 504, headers: {}, body: Buffer.alloc(0), truncated: false, ended: false };
  } finally {
    clearTimeout(headerTimer);
  }
  const left = Math.max(0, ms - (Date.now() - started));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (ended: boolean, truncated: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.signal?.removeEventListener("abort", onAbort);
      if (!ended) res.body.destroy();
      resolve({ status: res.status, headers: res.headers, body: Buffer.concat(chunks), truncated, ended });
    };
    const onAbort = () => finish(false, false);
    const timer = setTimeout(() => finish(false, false), left);
    c.signal?.addEventListener("abort", onAbort);
    res.body.on("data", (b: Buffer) => {
      const room = maxBytes - size;
      chunks.push(b.length > room ? b.subarray(0, room) : b);
      size += Math.min(b.length, room);
      if (b.length >= room) finish(false, true);
    });
    res.body.on("end", () => finish(true, false));
    res.body.on("error", () => finish(false, false));
  });
}

export function json(res: BufferedResponse): unknown {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

export function ok(res: BufferedResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

/** Airlock's masking notes and the cluster's warnings (Warning: 299 headers), as lines for the model. */
export function warnings(res: BufferedResponse): string[] {
  const raw = res.headers.warning;
  // Airlock's own masking warning becomes the answer's closing "Masked …" line (maskNote), not a warning.
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter((w) => !MASK_WARNING.test(w));
  if (list.length === 0) return [];
  // Warning headers quote cluster data (admission webhooks write them): fenced like any other cluster text.
  const lines = list.map((w) => `Warning: ${w.replace(/^\d{3} \S+ "?/, "").replace(/"$/, "")}`);
  return [untrusted("warning headers", lines.join("\n"))];
}

const MASK_WARNING = /^299 - "airlock: (?:(\d+) values? masked|values are masked) by profile (\S+)"$/;

/** What the gateway's masking did to a response: the profile and how many values (undefined: none said). */
export function maskingOf(res: BufferedResponse): { profile: string; count?: number } | undefined {
  const raw = res.headers.warning;
  for (const w of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const m = MASK_WARNING.exec(w);
    if (m?.[2]) return { profile: m[2], ...(m[1] ? { count: Number(m[1]) } : {}) };
  }
  return undefined;
}

/**
 * The masked fields of an answer's data and the line naming them (fields, profile, why), or undefined when none.
 * The structured form is { fields, profile } so a model can tell a masked value from a real one.
 */
export function masking(
  res: BufferedResponse | undefined,
  data: unknown,
): { line: string; structured: { fields: string[]; profile: string } } | undefined {
  const fields = maskedPaths(data);
  const said = res ? maskingOf(res) : undefined;
  if (fields.length === 0) return undefined;
  const profile = said?.profile ?? "default";
  const line = maskedLine(fields, profile) ?? "";
  return { line, structured: { fields, profile } };
}

export function text(body: string, structured?: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: "text", text: body }],
    ...(structured ? { structuredContent: structured } : {}),
  };
}

export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

const PENDING = /review ([0-9a-f-]{36}) is pending/;

/** The message of a failed request's Status (or its status code when the body is not one). */
export function statusMessage(res: BufferedResponse): { reason: string; message: string } {
  const body = json(res) as { kind?: string; reason?: string; message?: string } | undefined;
  if (body?.kind === "Status")
    return { reason: body.reason ?? String(res.status), message: body.message ?? "" };
  return { reason: String(res.status), message: res.body.toString("utf8").slice(0, 500) };
}

/**
 * A request that did not succeed, as the model should see it: a pending review (not an error — the model should
 * wait or tell its user), or the refusal with the policy message (an error the model can read and explain).
 */
export async function failed(c: CallContext, res: BufferedResponse): Promise<CallToolResult> {
  const { reason, message } = statusMessage(res);
  const pending = res.status === 403 ? PENDING.exec(message) : null;
  if (pending?.[1]) return pendingReview(c, pending[1], message);
  // A Status message can quote cluster data (object names, webhook denials): fenced.
  const lines = [`Error from server (${reason}):`, untrusted("error message", message)];
  const how = res.status === 403 ? howToAsk(message) : undefined;
  if (how) lines.push(how);
  return toolError(lines.join("\n"));
}

/**
 * One line saying how to ask for a refused call: a policy denial cannot be approved by a review (deny wins over
 * review), so the way is a person who can change policy or grant access; the line names groups, never people.
 */
export function howToAsk(message: string): string | undefined {
  if (/justification/i.test(message)) return undefined; // that refusal already says how to give one
  if (!/refused by policy|denied by policy|policy \S+ rule/i.test(message)) return undefined;
  return (
    "How to ask: no review can approve a denied request (deny wins over review); tell your user what you need and " +
    "why: the policy's owners (group airlock:admins) can change the rule this names."
  );
}

async function pendingReview(c: CallContext, id: string, message: string): Promise<CallToolResult> {
  const lines = [
    `PENDING REVIEW ${id}: this call needs a human's approval before it runs; nothing was changed.`,
    untrusted("error message", message),
    "",
    `Wait for the decision with airlock_review_wait {"id":"${id}"} (up to ~50 s per call; repeat while pending),`,
    "then repeat this exact call (same arguments) to run it once approved. A reviewer can also be asked directly:",
    `airlock review show ${id}`,
  ];
  const review = await shownToReviewer(c, id);
  // Names, argv and the diff in it are the agent's and the cluster's text: fenced as a whole.
  if (review) lines.push("", "What the reviewer sees:", untrusted("review as the reviewer sees it", review));
  const approvers = await approverGroups(c, id);
  return text(lines.join("\n"), {
    review: { id, state: "pending", ...(approvers ? { approverGroups: approvers } : {}) },
  });
}

async function approverGroups(c: CallContext, id: string): Promise<string[] | undefined> {
  const review = await c.gw.reviews?.get(id).catch(() => undefined);
  return review ? [...review.requirement.approvers.groups] : undefined;
}

/** The review as a reviewer sees it: the request (Secret values masked) and the dry-run diff when ready. */
async function shownToReviewer(c: CallContext, id: string): Promise<string | undefined> {
  const reviews = c.gw.reviews;
  if (!reviews) return undefined;
  // The preview is computed in the background when the review opens; give it a moment, not more.
  for (let i = 0; i < 20; i++) {
    const review = await reviews.get(id).catch(() => undefined);
    if (!review) return undefined;
    if (review.preview || i === 19) {
      const r = review.request;
      const target = `${r.action} ${r.resource}${r.subresource ? `/${r.subresource}` : ""}${r.name ? ` ${r.name}` : ""}${r.namespace ? ` in ${r.namespace}` : ""}`;
      const out = [
        `  request: ${target} (cluster ${review.cluster})`,
        `  justification: ${review.justification === null ? "(none given)" : review.justification}`,
        `  policy: ${review.policy} rule ${review.rule}; approvers: ${describeApprovers(review.requirement.approvers)}`,
        `  expires: ${review.expiresAt}`,
      ];
      if (r.execCommand) out.push(`  command: ${JSON.stringify(r.execCommand)}`);
      if (review.preview?.summary) out.push(`  preview: ${review.preview.summary}`);
      // The diff is rendered from the cluster's objects (Secret values already masked by the preview).
      if (review.preview?.diff) out.push("  diff:", review.preview.diff.trimEnd());
      if (review.preview?.dependents.length)
        out.push(`  also removed: ${review.preview.dependents.map((d) => `${d.kind}/${d.name}`).join(", ")}`);
      return out.join("\n");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** Who approves, as groups (people's names are not handed to agents): named identities are only counted. */
function describeApprovers(a: { identities: string[]; groups: string[] }): string {
  const parts = a.groups.map((g) => `group ${g}`);
  if (a.identities.length)
    parts.push(`${a.identities.length} named ${a.identities.length === 1 ? "approver" : "approvers"}`);
  return parts.join(", ") || "(none named)";
}
