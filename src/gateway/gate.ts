// gate: the review stage (DESIGN.md invariant 8). Runs after `decide` said "review" and before the write-ahead
// audit record: a request leaves here either released (with a note naming the grant or the approval that let it
// through, for the audit event) or refused with a 403 naming the review, the reviewer's reason or the timeout.
//
// Stance: fail closed. No review service, an unreadable store, a client that went away: the request is not sent.
// The approval consumed is the one bound to this request's fingerprint (identity, cluster, verb, target, body digest,
// Content-Type, exec argv and flags, query, justification: src/review/fingerprint.ts), so an approval for one
// request never releases another.

import type { LiveStream } from "../identity/streams.ts";
import type { Principal, ReviewRequester } from "../identity/types.ts";
import {
  clientGone,
  reviewDenied,
  reviewNotUsable,
  reviewPending,
  reviewsDisabled,
  reviewTimedOut,
  reviewUnrecorded,
  reviewWithdrawn,
} from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import { kindForResource, type MaskContext, maskedCopy } from "../mask/index.ts";
import type { Decision } from "../policy/decision.ts";
import { bodyDigest, requestFingerprint } from "../review/fingerprint.ts";
import { computePreview } from "../review/preview.ts";
import type { ReviewService } from "../review/service.ts";
import type { Review, ReviewedRequest } from "../review/types.ts";
import { impersonationHeaders } from "../upstream/impersonation.ts";
import { header, type RequestContext } from "./context.ts";
import type { GatewayRuntime } from "./runtime.ts";
import { displayMasking } from "./transform/stage.ts";

export type GateResult = { ok: true; note: string } | { ok: false; status: Status };

type ReviewDecision = Extract<Decision, { effect: "review" }>;

function approvedBy(review: Review): string {
  return review.approvals.map((v) => v.by).join(", ");
}

function reviewedRequest(
  ctx: RequestContext,
  kube: KubeRequest,
  body: Buffer | undefined,
  mask: MaskContext,
): ReviewedRequest {
  const contentType = header(ctx.headers, "content-type") ?? "";
  // The reviewer sees the parsed body with Secret values masked; the digest binds the exact bytes. A body the
  // gateway could not parse (protobuf, which kubectl uses for Secrets) is not shown at all: what cannot be parsed
  // cannot be masked. The dry-run diff still shows its effect, rendered from the cluster's JSON answer.
  let shown = "";
  if (kube.body !== undefined)
    shown = JSON.stringify(maskedCopy(kube.body, mask, kindForResource(kube.info.resource)), null, 2);
  else if (body?.length)
    shown = `(${body.length} bytes of ${contentType || "unknown type"}, not shown: it could not be parsed, so it could not be masked)`;
  const { info } = kube;
  return {
    method: ctx.method,
    path: info.path,
    query: kube.query.toString(),
    contentType,
    body: shown,
    bodyEncoding: "utf8",
    bodySha256: bodyDigest(body),
    action: kube.action,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
    execCommand: kube.exec?.command ?? null,
    exec: kube.exec
      ? {
          container: kube.exec.container,
          stdin: kube.exec.stdin,
          stdout: kube.exec.stdout,
          stderr: kube.exec.stderr,
          tty: kube.exec.tty,
        }
      : null,
  };
}

export interface GateInput {
  ctx: RequestContext;
  principal: Principal;
  kube: KubeRequest;
  decision: ReviewDecision;
  pathAndQuery: string;
  body: Buffer | undefined;
  /** Aborts when the client goes away while held. */
  signal: AbortSignal;
}

export async function gateReview(gw: GatewayRuntime, input: GateInput): Promise<GateResult> {
  const { ctx, kube, decision } = input;
  const reviews = gw.reviews;
  const what = `${kube.action} requires a review by policy ${decision.policy} rule ${decision.rule}`;
  if (!reviews)
    return {
      ok: false,
      status: reviewsDisabled(kube, what),
    };
  try {
    return await gate(gw, reviews, input, what);
  } catch (err) {
    gw.log.error({ requestId: ctx.id, err: (err as Error).message }, "review gate failed; request refused");
    return {
      ok: false,
      status: reviewUnrecorded(what),
    };
  }
}

async function gate(
  gw: GatewayRuntime,
  reviews: ReviewService,
  input: GateInput,
  what: string,
): Promise<GateResult> {
  const { ctx, principal, kube, decision } = input;
  const { info } = kube;
  const grant = await reviews.findGrant(principal.identityId, ctx.cluster, {
    verb: kube.action,
    apiGroup: info.apiGroup,
    resource: info.subresource ? `${info.resource}/${info.subresource}` : info.resource,
    namespace: info.namespace,
  });
  if (grant) return { ok: true, note: `grant ${grant.id} by ${grant.createdBy} (review ${grant.reviewId})` };

  // The one reason the request carries, settled by the justification stage (header, MCP argument or credential):
  // one printable line of at most 500 characters, shown to the reviewer and bound into the fingerprint.
  const justification = principal.justification ?? null;
  const fingerprint = requestFingerprint({
    identityId: principal.identityId,
    cluster: ctx.cluster,
    kube,
    body: input.body,
    contentType: header(ctx.headers, "content-type"),
    contentEncoding: header(ctx.headers, "content-encoding"),
    justification,
  });
  const used = await reviews.consumeApproved(fingerprint, ctx.id);
  if (used) return { ok: true, note: `review ${used.id} approved by ${approvedBy(used)}` };

  const held = decision.review.mode === "wait";
  // What the reviewer is shown is masked like any response (fail closed: no masking, no review).
  const mask = await displayMasking(gw, decision.mask);
  const { review, joined } = await reviews.open({
    fingerprint,
    requester: requesterOf(principal),
    justification,
    cluster: ctx.cluster,
    policy: decision.policy,
    rule: decision.rule,
    requirement: decision.review,
    request: reviewedRequest(ctx, kube, input.body, mask),
    held,
  });
  if (!joined) startPreview(gw, reviews, input, review.id, mask);

  const check = `check it with 'airlock review show ${review.id}'`;
  if (!held) {
    return {
      ok: false,
      status: reviewPending(kube, what, review.id, check),
    };
  }
  // While held, the request is a live stream of its identity and credential: revoking or disabling either, ending the
  // delegation it acts under, or reaching their expiry closes it like a watch (on this replica or, through the
  // cut-off messages, on any other), and the review is withdrawn so nobody approves a request that cannot run.
  const cut = new AbortController();
  let cutReason: string | undefined;
  const unregister = gw.streams.add(
    heldStream(ctx.id, principal, (reason) => {
      cutReason ??= reason;
      cut.abort();
    }),
  );
  let outcome: Awaited<ReturnType<ReviewService["waitForDecision"]>>;
  try {
    // Cut off between authentication and now (the registration above came too late to see it): the store says so.
    const goneAlready = await reviews.requesterGone({ ...review, requester: requesterOf(principal) });
    if (goneAlready !== undefined) cutReason ??= goneAlready;
    outcome = cutReason
      ? { kind: "aborted" }
      : await reviews.waitForDecision(review.id, AbortSignal.any([input.signal, cut.signal]));
  } finally {
    unregister();
  }
  if (cutReason !== undefined) {
    const why = heldReason(principal, cutReason);
    await reviews.withdraw(review.id, why);
    await reviews.leave(review.id, principal.name);
    return {
      ok: false,
      status: reviewWithdrawn(kube, review.id, { cutOff: why }),
    };
  }
  if (outcome.kind === "aborted") {
    await reviews.leave(review.id, principal.name);
    return {
      ok: false,
      status: clientGone(`airlock: the client went away while review ${review.id} was pending`),
    };
  }
  if (outcome.kind === "timeout") {
    await reviews.expire(review.id);
    const current = await reviews.get(review.id);
    if (current.state !== "approved") {
      return {
        ok: false,
        status: reviewTimedOut(kube, what, review.id, decision.review.timeoutSeconds),
      };
    }
  }
  const decided = outcome.kind === "decided" ? outcome.review : await reviews.get(review.id);
  if (decided.state === "denied") {
    const by = decided.denial ? ` by ${decided.denial.by}: ${decided.denial.reason}` : "";
    return {
      ok: false,
      status: reviewDenied(kube, review.id, by),
    };
  }
  if (decided.state === "approved") {
    const released = await reviews.consumeApproved(fingerprint, ctx.id, review.id);
    if (released) return { ok: true, note: `review ${released.id} approved by ${approvedBy(released)}` };
  }
  const now = await reviews.get(review.id).catch(() => decided);
  if (now.state === "withdrawn" && now.endedReason) {
    return {
      ok: false,
      status: reviewWithdrawn(kube, review.id, { ended: now.endedReason }),
    };
  }
  return {
    ok: false,
    status: reviewNotUsable(
      kube,
      what,
      review.id,
      decided.state === "approved" ? "approved but its single use is taken" : decided.state,
      check,
    ),
  };
}

/** The chain of who asked, as the review records it (issue 15). */
function requesterOf(principal: Principal): ReviewRequester {
  return {
    identityId: principal.identityId,
    name: principal.name,
    kind: principal.kind,
    groups: principal.groups,
    credentialId: principal.credentialId,
    ...(principal.sessionId ? { sessionId: principal.sessionId } : {}),
    onBehalfOf: principal.onBehalfOf ?? null,
    owner: principal.owner ?? null,
    expiresAt: principal.expiresAt ?? null,
  };
}

/** A held request in the stream registry: closing it ends the wait (the gate answers and withdraws the review). */
function heldStream(id: string, principal: Principal, close: (reason: string) => void): LiveStream {
  const stream: LiveStream = {
    id: `${id}:held`,
    identityId: principal.identityId,
    credentialId: principal.credentialId,
    kind: "held request",
    close,
  };
  if (principal.sessionId) stream.sessionId = principal.sessionId;
  if (principal.onBehalfOf) stream.onBehalfOf = principal.onBehalfOf;
  if (principal.expiresAt) stream.expiresAtMs = Date.parse(principal.expiresAt);
  return stream;
}

/** The registry's close reason, said of this requester ("its credential … expired" names no one). */
function heldReason(principal: Principal, reason: string): string {
  return reason.startsWith("its ") ? `the credential or identity of ${principal.name} expired` : reason;
}

/** Computes the dry-run diff in the background: the reviewer needs it, the request path does not wait for it. */
function startPreview(
  gw: GatewayRuntime,
  reviews: ReviewService,
  input: GateInput,
  reviewId: string,
  mask: MaskContext,
): void {
  const upstream = gw.upstreams.get(input.ctx.cluster);
  const headers: [string, string][] =
    upstream?.impersonate === false ? [] : impersonationHeaders(input.principal, input.ctx.id);
  const contentType = header(input.ctx.headers, "content-type");
  if (contentType) headers.push(["Content-Type", contentType]);
  const preview = upstream
    ? computePreview({
        upstream,
        kube: input.kube,
        method: input.ctx.method,
        pathAndQuery: input.pathAndQuery,
        headers,
        body: input.body,
        mask,
      })
    : Promise.resolve({
        diff: "",
        summary: "no preview",
        dependents: [],
        error: "the cluster is not connected",
      });
  void preview
    .catch((err: unknown) => ({
      diff: "",
      summary: "no preview",
      dependents: [],
      error: (err as Error).message,
    }))
    .then((p) => reviews.setPreview(reviewId, p))
    .catch((err: unknown) =>
      gw.log.warn({ reviewId, err: (err as Error).message }, "review preview could not be stored"),
    );
}
