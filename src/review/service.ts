// The review service: the life of a review from the request's side (open/join, wait, consume, leave) and the
// reviewer's side (approve, deny), with every step written to the review's event trail and logged.
//
// Stance (DESIGN.md invariant 8): an approval is bound to a fingerprint, counted in uses (single-use by default) and
// time-limited; every change is a compare-and-set on the stored review, so two racing approvals, an approval racing an
// expiry, or two requests racing for one use cannot both win. Expiry is applied whenever a review is read, so a
// stale pending or approved review is never acted on. Notifications never block: they are handed off and forgotten.
//
// Audit (issue 4, docs/audit.md "Notes"): every step is a chained note `review.<step>` and a row in the review's
// trail (review_events), in that order. Steps that let a request run or decide a review — created, joined, approved,
// denied, executed, grant created — are write-ahead: the note is committed before the review is saved, so a step that
// cannot be recorded fails like a failed store write and does not take effect. Steps that only close a review —
// expired, withdrawn, grant revoked — and the informational ones (notified, previewed) take effect first and are
// noted after; a failed note is logged and never blocks them. If a compare-and-set retry finds the review changed
// under a step already noted, a `review.superseded` note says that step did not take effect.
//
// Revocation (issue 15): a review lives only as long as the chain of who asked for it. When the requester's identity
// or credential is revoked, disabled or expired, or the delegation it acted under ended, the review is withdrawn
// (with the reason, chained), its approval is refused, and a grant whose approver or requester is gone ends. The
// gateway closes held requests through the stream registry; `withdrawFor` reaches the reviews no one holds (retry
// mode), and every read re-checks the chain (`chain`), so expiry needs no sweep of its own.
import { randomUUID } from "node:crypto";
import type { AuditNote } from "../audit/types.ts";
import type { Principal } from "../identity/types.ts";
import { badRequest, conflict, forbiddenHere, notFound } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { grantNote, type ReviewAudit, reviewNote, sameNote } from "./audit.ts";
import type { ReviewBus } from "./bus.ts";
import { mayDecide } from "./eligibility.ts";
import { type GrantTarget, grantCovers, grantFor } from "./grants.ts";
import type { Grant, Review, ReviewEventType, ReviewPreview, ReviewQuery, ReviewStore } from "./types.ts";
import { type WaitOutcome, waitForDecision } from "./wait.ts";

export type { WaitOutcome } from "./wait.ts";

export interface ReviewLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Whether the people and credentials behind a review or grant still stand; a reason string when they do not. */
export interface ChainCheck {
  /** Why the requester of a review may no longer have it run (revoked, disabled, expired, delegation ended). */
  requester(requester: Review["requester"]): Promise<string | undefined>;
  /** Why a grant's approver (by name) no longer stands behind it. */
  approver(name: string): Promise<string | undefined>;
}

export interface ReviewServiceOptions {
  store: ReviewStore & Partial<ReviewAudit>;
  /** Where review steps are chained; defaults to the store when it is the gateway's (it has audit.note). */
  audit?: ReviewAudit;
  bus: ReviewBus;
  /** How long an approval may be used, in seconds (default 3600). */
  approvalTtlSeconds?: number;
  /** Longest grant a reviewer may give, in seconds (default 24 h). */
  maxGrantSeconds?: number;
  now?: () => number;
  log?: ReviewLog;
  /** Fire-and-forget notification (webhooks); must not throw or block. */
  notify?: (review: Review, type: ReviewEventType) => void;
  /** Re-checks the chain of who asked on every read; without it (unit tests) nothing is re-checked. */
  chain?: ChainCheck;
}

export type OpenInput = Omit<
  Review,
  | "id"
  | "state"
  | "createdAt"
  | "updatedAt"
  | "expiresAt"
  | "approvals"
  | "denial"
  | "approvedUntil"
  | "usesLeft"
  | "waiters"
  | "preview"
  | "version"
> & { held: boolean };

const NOOP_LOG: ReviewLog = { info: () => {}, warn: () => {} };

export class ReviewService {
  readonly store: ReviewStore;
  readonly bus: ReviewBus;
  readonly approvalTtlSeconds: number;
  readonly maxGrantSeconds: number;
  readonly #now: () => number;
  readonly #log: ReviewLog;
  readonly #notify: (review: Review, type: ReviewEventType) => void;
  readonly #audit: ReviewAudit | undefined;
  #chain: ChainCheck | undefined;

  constructor(opts: ReviewServiceOptions) {
    this.store = opts.store;
    this.bus = opts.bus;
    this.approvalTtlSeconds = opts.approvalTtlSeconds ?? 3600;
    this.maxGrantSeconds = opts.maxGrantSeconds ?? 86_400;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log ?? NOOP_LOG;
    this.#notify = opts.notify ?? (() => {});
    // The gateway's store chains notes itself; a bare review store (unit tests) has nowhere to chain them.
    this.#audit = opts.audit ?? (opts.store.audit ? (opts.store as ReviewAudit) : undefined);
    this.#chain = opts.chain;
  }

  /** Sets the chain check once the identity side is built (the gateway wires the two after both exist). */
  setChainCheck(chain: ChainCheck): void {
    this.#chain = chain;
  }

  /** Why the requester of this review no longer stands; undefined while it does (or nothing checks). */
  async requesterGone(review: Review): Promise<string | undefined> {
    return this.#chain?.requester(review.requester);
  }

  /** A write-ahead note: a failure throws, so the step it records is not taken. */
  async #noteAhead(note: AuditNote): Promise<void> {
    await this.#audit?.audit.note(note);
  }

  /** A note after the fact: never blocks a step that only closes or informs; a failure is logged. */
  async #noteAfter(note: AuditNote): Promise<void> {
    try {
      await this.#audit?.audit.note(note);
    } catch (err) {
      this.#log.warn(
        { reviewId: note.subject, note: note.type, err: (err as Error).message },
        "audit note of a review step failed",
      );
    }
  }

  #iso(offsetMs = 0): string {
    return new Date(this.#now() + offsetMs).toISOString();
  }

  async #record(review: Review, type: ReviewEventType, actor: string, detail: string): Promise<void> {
    await this.store.reviews.appendEvent({ reviewId: review.id, time: this.#iso(), type, actor, detail });
    this.#log.info(
      { reviewId: review.id, event: type, actor, detail, state: review.state },
      `review ${type}`,
    );
  }

  /**
   * Read-modify-write with compare-and-set; `change` returns undefined to leave the review as it is. With `ahead`,
   * the note it returns for the new state is committed before the save (write-ahead); a retry whose note says the
   * same is not written twice, and one that ends without a change is closed with `review.superseded`.
   */
  async #update(
    id: string,
    change: (r: Review) => Review | undefined,
    ahead?: (next: Review) => AuditNote,
  ): Promise<Review | undefined> {
    let written: AuditNote | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.store.reviews.get(id);
      if (!current) return undefined;
      const next = change(structuredClone(current));
      if (!next) {
        if (written) await this.#superseded(written, current);
        return current;
      }
      next.version = current.version + 1;
      next.updatedAt = this.#iso();
      const note = ahead?.(next);
      if (note && !(written && sameNote(written, note))) {
        await this.#noteAhead(note);
        written = note;
      }
      if (await this.store.reviews.save(next)) {
        this.bus.publish(id);
        return next;
      }
    }
    if (written) await this.#superseded(written, undefined);
    throw new StatusError(conflict(`review ${id} is changing too often; try again`));
  }

  async #superseded(note: AuditNote, current: Review | undefined): Promise<void> {
    await this.#noteAfter({
      type: "review.superseded",
      actor: note.actor,
      subject: note.subject,
      detail: { step: note.type, state: current?.state ?? null, reason: "the review changed first" },
    });
  }

  /** Applies expiry to a review that was read: pending past its deadline, or approved past its lifetime. */
  async #fresh(review: Review): Promise<Review> {
    const now = this.#now();
    const lapsed =
      (review.state === "pending" && Date.parse(review.expiresAt) <= now) ||
      (review.state === "approved" &&
        review.approvedUntil !== null &&
        Date.parse(review.approvedUntil) <= now);
    if (lapsed) return (await this.expire(review.id)) ?? review;
    if (review.state !== "pending" && review.state !== "approved") return review;
    let gone = await this.requesterGone(review);
    // An approval stands only while its approvers do: one revoked, disabled or expired since withdraws it unused.
    if (gone === undefined && review.state === "approved" && this.#chain) {
      for (const v of review.approvals) {
        const approver = await this.#chain.approver(v.by);
        if (approver !== undefined) {
          gone = `its approver: ${approver}`;
          break;
        }
      }
    }
    if (gone === undefined) return review;
    return (await this.withdraw(review.id, gone)) ?? review;
  }

  /** Joins the pending review for this request's fingerprint, or creates one. */
  async open(input: OpenInput): Promise<{ review: Review; joined: boolean }> {
    const { held, ...fields } = input;
    for (const candidate of await this.store.reviews.find(input.fingerprint, ["pending"])) {
      const fresh = await this.#fresh(candidate);
      if (fresh.state !== "pending") continue;
      const joined = await this.#update(
        fresh.id,
        (r) => (r.state === "pending" ? { ...r, waiters: r.waiters + (held ? 1 : 0) } : undefined),
        (next) => reviewNote("joined", next, input.requester.name, { held }),
      );
      if (joined?.state === "pending") {
        await this.#record(
          joined,
          "joined",
          input.requester.name,
          held ? "an identical request is waiting" : "an identical request asked again",
        );
        return { review: joined, joined: true };
      }
    }
    const review: Review = {
      ...fields,
      id: randomUUID(),
      state: "pending",
      createdAt: this.#iso(),
      updatedAt: this.#iso(),
      expiresAt: this.#iso(input.requirement.timeoutSeconds * 1000),
      approvals: [],
      denial: null,
      approvedUntil: null,
      usesLeft: 0,
      waiters: held ? 1 : 0,
      preview: null,
      version: 1,
    };
    await this.#noteAhead(
      reviewNote("created", review, review.requester.name, {
        method: review.request.method,
        path: review.request.path,
        mode: review.requirement.mode,
        approvals: review.requirement.approvals,
        expiresAt: review.expiresAt,
        justification: review.justification,
      }),
    );
    await this.store.reviews.create(review);
    await this.#record(
      review,
      "created",
      review.requester.name,
      `${review.request.method} ${review.request.path} by policy ${review.policy} rule ${review.rule} (${review.requirement.mode})`,
    );
    return { review, joined: false };
  }

  /** Adds a step to a review's trail from outside the service (the notifier reports deliveries here). */
  async note(reviewId: string, type: ReviewEventType, actor: string, detail: string): Promise<void> {
    await this.#noteAfter({ type: `review.${type}`, actor, subject: reviewId, detail: { detail } });
    await this.store.reviews.appendEvent({ reviewId, time: this.#iso(), type, actor, detail });
    this.#log.info({ reviewId, event: type, actor, detail }, `review ${type}`);
  }

  /** Stores what the request would change; the review's "created" notification waits for it. */
  async setPreview(id: string, preview: ReviewPreview): Promise<void> {
    const review = await this.#update(id, (r) => ({ ...r, preview }));
    if (!review) return;
    // The summary ("3 lines added") and the error only: the diff may show object content.
    await this.#noteAfter(
      reviewNote("previewed", review, "airlock", {
        summary: preview.summary,
        error: preview.error,
        dependents: preview.dependents.length,
      }),
    );
    await this.#record(review, "previewed", "airlock", preview.error ?? preview.summary);
    this.#notify(review, "created");
  }

  /**
   * Takes one use of an approved review with this fingerprint, if there is one. Returns the review whose approval
   * was used; the caller sends the request.
   */
  async consumeApproved(fingerprint: string, requestId: string, only?: string): Promise<Review | undefined> {
    for (const candidate of await this.store.reviews.find(fingerprint, ["approved"])) {
      if (only !== undefined && candidate.id !== only) continue;
      // #fresh re-checks the chain of who asked: a requester revoked since the approval withdraws it here.
      const fresh = await this.#fresh(candidate);
      if (fresh.state !== "approved" || fresh.usesLeft < 1) continue;
      let took = false;
      const used = await this.#update(
        fresh.id,
        (r) => {
          took = false;
          if (r.state !== "approved" || r.usesLeft < 1) return undefined;
          took = true;
          const usesLeft = r.usesLeft - 1;
          return { ...r, usesLeft, state: usesLeft === 0 ? "executed" : "approved" };
        },
        (next) =>
          reviewNote("executed", next, next.requester.name, { request: requestId, usesLeft: next.usesLeft }),
      );
      if (took && used) {
        await this.#record(
          used,
          "executed",
          used.requester.name,
          `request ${requestId} sent (${used.usesLeft} uses left)`,
        );
        return used;
      }
    }
    return undefined;
  }

  /** Waits until the review leaves "pending", the deadline passes, or the client goes away. */
  waitForDecision(id: string, signal: AbortSignal): Promise<WaitOutcome> {
    return waitForDecision({ store: this.store, bus: this.bus, now: this.#now }, id, signal);
  }

  /** A held request went away: one waiter fewer; the last one out withdraws a still-pending review. */
  async leave(id: string, actor: string): Promise<void> {
    let withdrawn = false;
    const review = await this.#update(id, (r) => {
      const waiters = Math.max(0, r.waiters - 1);
      withdrawn = r.state === "pending" && waiters === 0;
      return withdrawn
        ? { ...r, waiters, state: "withdrawn", endedReason: "the waiting client disconnected" }
        : { ...r, waiters };
    });
    if (review && withdrawn) {
      await this.#noteAfter(
        reviewNote("withdrawn", review, actor, { reason: "the waiting client disconnected" }),
      );
      await this.#record(review, "withdrawn", actor, "the waiting client disconnected");
      this.#notify(review, "withdrawn");
    }
  }

  /**
   * Withdraws a review that is still pending or approved but unused, because the chain of who asked is gone
   * (`reason`, e.g. "identity demo-agent was revoked"): it will never run, and nobody may approve it. Taken first,
   * noted after (it only closes). Returns the review as it is afterwards.
   */
  async withdraw(id: string, reason: string, actor = "airlock"): Promise<Review | undefined> {
    let was = "";
    const review = await this.#update(id, (r) => {
      was = "";
      if (r.state !== "pending" && r.state !== "approved") return undefined;
      was = r.state;
      return { ...r, state: "withdrawn", usesLeft: 0, endedReason: reason };
    });
    if (review && was) {
      await this.#noteAfter(reviewNote("withdrawn", review, actor, { was, reason }));
      await this.#record(review, "withdrawn", actor, reason);
      this.#notify(review, "withdrawn");
    }
    return review;
  }

  /**
   * Withdraws every pending or approved review whose requester matches (an identity, a credential, or a delegation
   * by agent and human), and ends the grants the identity was given or gave. Returns how many reviews it withdrew.
   */
  async withdrawFor(
    match: { identityId?: string; credentialId?: string; onBehalfOf?: { agentId?: string; human: string } },
    reason: string,
  ): Promise<number> {
    const matches = (r: Review) =>
      (match.identityId !== undefined && r.requester.identityId === match.identityId) ||
      (match.credentialId !== undefined && r.requester.credentialId === match.credentialId) ||
      (match.onBehalfOf !== undefined &&
        r.requester.onBehalfOf === match.onBehalfOf.human &&
        (match.onBehalfOf.agentId === undefined || r.requester.identityId === match.onBehalfOf.agentId));
    let n = 0;
    for (const state of ["pending", "approved"] as const) {
      for (const r of await this.store.reviews.list({ state, limit: 1000 })) {
        if (!matches(r)) continue;
        const done = await this.withdraw(r.id, reason);
        if (done?.state === "withdrawn" && done.endedReason === reason) n++;
      }
    }
    return n;
  }

  /** Ends the active grants an identity was given (requester) or gave (approver, by name), with the reason. */
  async endGrantsFor(who: { identityId: string; name: string }, reason: string): Promise<number> {
    let n = 0;
    for (const g of await this.store.grants.list({ activeAt: this.#iso() })) {
      if (g.identityId !== who.identityId && g.createdBy !== who.name) continue;
      const why = g.identityId === who.identityId ? `its requester: ${reason}` : `its approver: ${reason}`;
      if (await this.#endGrant(g, why)) n++;
    }
    return n;
  }

  async #endGrant(grant: Grant, reason: string): Promise<boolean> {
    const ended = await this.store.grants.revoke(grant.id, "airlock", reason);
    if (ended?.revokedBy !== "airlock" || ended.endedReason !== reason) return false;
    await this.#noteAfter(grantNote("grant.revoked", ended, "airlock", reason));
    this.#log.info({ grantId: grant.id, reviewId: grant.reviewId, reason }, "grant ended");
    return true;
  }

  /** Why an active grant no longer stands (its approver or requester is gone); undefined while it does. */
  async #grantGone(grant: Grant): Promise<string | undefined> {
    if (!this.#chain) return undefined;
    const approver = await this.#chain.approver(grant.createdBy);
    if (approver !== undefined) return `its approver: ${approver}`;
    const requester = await this.#chain.requester({
      identityId: grant.identityId,
      name: grant.identityName,
      kind: "",
      groups: [],
    });
    return requester === undefined ? undefined : `its requester: ${requester}`;
  }

  /** Grants, newest first; an active one whose approver or requester is gone is ended first (with endedReason). */
  async listGrants(query: { identityId?: string; activeAt?: string }): Promise<Grant[]> {
    const now = this.#iso();
    const grants = await this.store.grants.list(query.identityId ? { identityId: query.identityId } : {});
    const out: Grant[] = [];
    for (const g of grants) {
      let current = g;
      if (g.revokedAt === null && g.expiresAt > now) {
        const gone = await this.#grantGone(g);
        if (gone !== undefined && (await this.#endGrant(g, gone)))
          current = (await this.store.grants.get(g.id)) ?? g;
      }
      if (query.activeAt !== undefined && (current.revokedAt !== null || current.expiresAt <= query.activeAt))
        continue;
      out.push(current);
    }
    return out;
  }

  /** Marks a lapsed review expired (pending past its deadline or approved past its lifetime). */
  async expire(id: string): Promise<Review | undefined> {
    const now = this.#now();
    let was = "";
    const review = await this.#update(id, (r) => {
      was = "";
      const lapsed =
        (r.state === "pending" && Date.parse(r.expiresAt) <= now) ||
        (r.state === "approved" && r.approvedUntil !== null && Date.parse(r.approvedUntil) <= now);
      if (!lapsed) return undefined;
      was = r.state;
      return { ...r, state: "expired" };
    });
    if (review && was) {
      const detail = was === "pending" ? "no decision before the deadline" : "the approval lapsed unused";
      await this.#noteAfter(reviewNote("expired", review, "airlock", { was, reason: detail }));
      await this.#record(review, "expired", "airlock", detail);
      this.#notify(review, "expired");
    }
    return review;
  }

  async approve(
    id: string,
    principal: Principal,
    opts: { reason?: string; grantSeconds?: number } = {},
  ): Promise<{ review: Review; grant?: Grant }> {
    const grantSeconds = opts.grantSeconds;
    if (
      grantSeconds !== undefined &&
      (!Number.isInteger(grantSeconds) || grantSeconds < 1 || grantSeconds > this.maxGrantSeconds)
    ) {
      throw new StatusError(badRequest(`a grant lasts from 1 second to ${this.maxGrantSeconds} seconds`));
    }
    const review = await this.#decide(
      id,
      principal,
      "approve",
      (r, vote) => {
        const approvals = [...r.approvals, vote];
        if (approvals.length < r.requirement.approvals) return { ...r, approvals };
        return {
          ...r,
          approvals,
          state: "approved",
          usesLeft: 1,
          approvedUntil: this.#iso(this.approvalTtlSeconds * 1000),
        };
      },
      opts.reason ?? "",
    );
    const n = `${review.approvals.length}/${review.requirement.approvals}`;
    await this.#record(
      review,
      "approved",
      principal.name,
      `approval ${n}${opts.reason ? `: ${opts.reason}` : ""}`,
    );
    if (review.state === "approved") this.#notify(review, "approved");
    if (review.state !== "approved" || grantSeconds === undefined) return { review };
    const grant = await this.#grant(review, principal, grantSeconds);
    return { review, grant };
  }

  async deny(id: string, principal: Principal, reason: string): Promise<Review> {
    if (!reason.trim()) throw new StatusError(badRequest("a denial needs a reason (the requester sees it)"));
    const review = await this.#decide(
      id,
      principal,
      "deny",
      (r, vote) => ({ ...r, state: "denied", denial: vote }),
      reason,
    );
    await this.#record(review, "denied", principal.name, reason);
    this.#notify(review, "denied");
    return review;
  }

  async #decide(
    id: string,
    principal: Principal,
    action: "approve" | "deny",
    apply: (r: Review, vote: Review["approvals"][number]) => Review,
    reason: string,
  ): Promise<Review> {
    const found = await this.get(id);
    if (found.state === "withdrawn" && found.endedReason) {
      // The chain of who asked is gone (or the client left): say why, so nobody thinks a retry could help.
      const why = `${action} review ${id} is refused: the review was withdrawn (${found.endedReason}); the request will not run`;
      throw new StatusError(action === "approve" ? forbiddenHere(why) : conflict(why));
    }
    if (found.state !== "pending")
      throw new StatusError(conflict(`review ${id} is ${found.state}, not pending`));
    const vote = {
      by: principal.name,
      byId: principal.identityId,
      at: this.#iso(),
      reason,
      person: principal.owner ?? principal.name,
    };
    let refusal: StatusError | undefined;
    const review = await this.#update(
      id,
      (r) => {
        refusal = undefined;
        if (r.state !== "pending") {
          refusal = new StatusError(conflict(`review ${id} is ${r.state}, not pending`));
          return undefined;
        }
        const eligible = mayDecide(principal, r, action);
        if (!eligible.ok) {
          refusal = new StatusError(forbiddenHere(`${action} review ${id} is forbidden: ${eligible.reason}`));
          return undefined;
        }
        return apply(r, vote);
      },
      // Write-ahead: an approval or denial that cannot be chained is not saved (the reviewer sees the error).
      (next) =>
        reviewNote(action === "approve" ? "approved" : "denied", next, principal.name, {
          reviewer: principal.name,
          reason,
          approvals: next.approvals.length,
          required: next.requirement.approvals,
          approvedUntil: next.approvedUntil,
        }),
    );
    if (refusal) throw refusal;
    if (!review) throw reviewNotFound(id);
    return review;
  }

  async #grant(review: Review, principal: Principal, seconds: number): Promise<Grant> {
    const grant = grantFor(review, principal.name, this.#now(), seconds, randomUUID());
    await this.#noteAhead(grantNote("grant.created", grant, principal.name));
    await this.store.grants.create(grant);
    const where = grant.namespace || "(cluster)";
    const detail = `grant ${grant.id}: ${grant.identityName} may ${grant.verb} ${grant.resource} in ${where} until ${grant.expiresAt}`;
    await this.#record(review, "approved", principal.name, detail);
    return grant;
  }

  /** An active grant covering this request, if any. */
  async findGrant(identityId: string, cluster: string, target: GrantTarget): Promise<Grant | undefined> {
    const grants = await this.store.grants.list({ identityId, activeAt: this.#iso() });
    for (const g of grants) {
      if (!grantCovers(g, cluster, target)) continue;
      // A grant stands only while its approver and requester do; one that no longer does ends here, with why.
      const gone = await this.#grantGone(g);
      if (gone === undefined) return g;
      await this.#endGrant(g, gone);
    }
    return undefined;
  }

  async revokeGrant(id: string, principal: Principal): Promise<Grant> {
    const grant = await this.store.grants.revoke(id, principal.name);
    if (!grant) throw new StatusError(notFound(`grant ${id} not found`, { name: id, kind: "grants" }));
    // Revocation takes effect first; its note never blocks it.
    await this.#noteAfter(grantNote("grant.revoked", grant, principal.name));
    this.#log.info({ grantId: id, by: principal.name, reviewId: grant.reviewId }, "grant revoked");
    return grant;
  }

  async get(id: string): Promise<Review> {
    const review = await this.store.reviews.get(id);
    if (!review) throw reviewNotFound(id);
    return this.#fresh(review);
  }

  async list(query: ReviewQuery): Promise<Review[]> {
    const reviews = await Promise.all((await this.store.reviews.list(query)).map((r) => this.#fresh(r)));
    return query.state ? reviews.filter((r) => r.state === query.state) : reviews;
  }
}

function reviewNotFound(id: string): StatusError {
  return new StatusError(notFound(`review ${id} not found`, { name: id, kind: "reviews" }));
}
