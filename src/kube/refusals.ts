// The refusal catalogue: every Status the gateway, the admin API, the console and the MCP endpoint answer with is
// built by one of these named entries, so each refusal has one HTTP code, one Kubernetes reason and one wording.
// docs/errors.md lists every entry (code, reason, when, what the client should do); test/kube/refusals.test.ts fails
// when an entry is missing there.
//
// Wording: kubectl prints `Error from server (<Reason>): <message>`, so a message says what was refused and why
// (the policy and rule, the review, the limit), in Kubernetes' own form where there is one: `pods "web" is
// forbidden: airlock: <why>`. Gateway-made messages start `airlock:` so an operator can tell them from the cluster's.
import { failure, isReason, type Reason, reasonForCode, type Status, type StatusDetails } from "./status.ts";

interface Entry {
  code: number;
  reason: Reason;
}

/** Every entry: its HTTP code and Kubernetes reason. The builders below are the only users of failure(). */
export const CATALOGUE = {
  // 400
  badRequest: { code: 400, reason: "BadRequest" },
  invalidClusterName: { code: 400, reason: "BadRequest" },
  justificationInvalid: { code: 400, reason: "BadRequest" },
  justificationConflict: { code: 400, reason: "BadRequest" },
  // 401
  unauthorized: { code: 401, reason: "Unauthorized" },
  // 403
  forbidden: { code: 403, reason: "Forbidden" },
  deniedByPolicy: { code: 403, reason: "Forbidden" },
  scopeRefused: { code: 403, reason: "Forbidden" },
  justificationRequired: { code: 403, reason: "Forbidden" },
  impersonationRefused: { code: 403, reason: "Forbidden" },
  reviewPending: { code: 403, reason: "Forbidden" },
  reviewNotUsable: { code: 403, reason: "Forbidden" },
  reviewDenied: { code: 403, reason: "Forbidden" },
  reviewTimedOut: { code: 403, reason: "Forbidden" },
  reviewWithdrawn: { code: 403, reason: "Forbidden" },
  reviewsDisabled: { code: 403, reason: "Forbidden" },
  // 404
  notFound: { code: 404, reason: "NotFound" },
  noSuchCluster: { code: 404, reason: "NotFound" },
  // 405, 406
  methodNotAllowed: { code: 405, reason: "MethodNotAllowed" },
  notAcceptable: { code: 406, reason: "NotAcceptable" },
  // 409
  conflict: { code: 409, reason: "Conflict" },
  alreadyExists: { code: 409, reason: "AlreadyExists" },
  // 408
  requestTimeout: { code: 408, reason: "Timeout" },
  // 416: Kubernetes has no reason for it
  rangeNotSatisfiable: { code: 416, reason: "BadRequest" },
  // 413, 415, 422
  tooLarge: { code: 413, reason: "RequestEntityTooLarge" },
  unsupportedMediaType: { code: 415, reason: "UnsupportedMediaType" },
  invalid: { code: 422, reason: "Invalid" },
  maskedValueWritten: { code: 422, reason: "Invalid" },
  // 429
  rateLimited: { code: 429, reason: "TooManyRequests" },
  tooManyStreams: { code: 429, reason: "TooManyRequests" },
  throttled: { code: 429, reason: "TooManyRequests" },
  overLimit: { code: 429, reason: "TooManyRequests" },
  // 431: Kubernetes has no reason for it
  headersTooLarge: { code: 431, reason: "BadRequest" },
  // 499: recorded for a client that left; nobody reads the body
  clientGone: { code: 499, reason: "BadRequest" },
  // 500
  internalError: { code: 500, reason: "InternalError" },
  maskingUnavailable: { code: 500, reason: "InternalError" },
  // 502: Kubernetes has no reason for it; client-go reads any 5xx without one as InternalError
  maskingFailed: { code: 502, reason: "InternalError" },
  upstreamBadAnswer: { code: 502, reason: "InternalError" },
  upstreamNoCredential: { code: 502, reason: "InternalError" },
  // 503
  upstreamUnreachable: { code: 503, reason: "ServiceUnavailable" },
  upstreamLost: { code: 503, reason: "ServiceUnavailable" },
  auditUnavailable: { code: 503, reason: "ServiceUnavailable" },
  storeUnavailable: { code: 503, reason: "ServiceUnavailable" },
  rateLimitUnavailable: { code: 503, reason: "ServiceUnavailable" },
  reviewUnrecorded: { code: 503, reason: "ServiceUnavailable" },
  recordingRequired: { code: 503, reason: "ServiceUnavailable" },
  dependencyUnavailable: { code: 503, reason: "ServiceUnavailable" },
  noAgentConnected: { code: 503, reason: "ServiceUnavailable" },
  notEnabled: { code: 503, reason: "ServiceUnavailable" },
  notReady: { code: 503, reason: "ServiceUnavailable" },
  shuttingDown: { code: 503, reason: "ServiceUnavailable" },
  // 504
  upstreamTimeout: { code: 504, reason: "Timeout" },
  // the cluster's own refusal of a read the gateway made for policy: its code and reason are relayed (0: varies)
  clusterRefused: { code: 0, reason: "BadRequest" },
} as const satisfies Record<string, Entry>;

export type RefusalName = keyof typeof CATALOGUE;

function make(name: RefusalName, message: string, details?: StatusDetails): Status {
  const entry: Entry = CATALOGUE[name];
  return failure(entry.reason, message, details, entry.code);
}

/** What a Kubernetes-style message names: the resource (with its group) and the object, from RequestInfo. */
export interface Target {
  isResourceRequest: boolean;
  apiGroup: string;
  resource: string;
  name: string;
}

/** A request as the messages name it: its target and its action (get, create, exec, ...). */
export interface Refused {
  info: Target;
  action: string;
}

/** The rule that decided: named in every policy refusal. */
export interface RuleRef {
  policy: string;
  rule: string;
  message: string;
}

// ---- 400 ------------------------------------------------------------------------------------------------------

/** A request the gateway cannot read one way only (malformed, ambiguous, unsupported): says what was wrong. */
export function badRequest(message: string, details?: StatusDetails): Status {
  return make("badRequest", message, details);
}

export function invalidClusterName(name: string): Status {
  return make("invalidClusterName", `airlock: "${name.slice(0, 64)}" is not a valid cluster name`);
}

/** The justification sent (header, credential reason, MCP argument) is not one printable line of ≤ 500 characters. */
export function justificationInvalid(where: string, why: string): Status {
  return make("justificationInvalid", `airlock: the justification in ${where} is refused: ${why}`, {
    causes: [{ field: where, message: why }],
  });
}

/** A per-request justification and the credential's bound reason disagree: the audit must record exactly one. */
export function justificationConflict(perRequest: string): Status {
  return make(
    "justificationConflict",
    `airlock: the request carries two different justifications, ${perRequest} and the one its session credential ` +
      `was issued with (airlock credential --reason / AIRLOCK_REASON); send one of them, or the same text in both`,
  );
}

// ---- 401 ------------------------------------------------------------------------------------------------------

/** No valid credential; the message says what is wrong with the one sent (or that none was). */
export function unauthorized(why: string): Status {
  return make("unauthorized", why.startsWith("Unauthorized:") ? why : `Unauthorized: ${why}`);
}

// ---- 403 ------------------------------------------------------------------------------------------------------

/** The Kubernetes-style forbidden message kubectl prints after "Error from server (Forbidden): ". */
export function forbiddenMessage(target: Target, reason: string): string {
  if (!target.isResourceRequest) return `forbidden: ${reason}`;
  const resource = target.apiGroup ? `${target.resource}.${target.apiGroup}` : target.resource;
  return target.name
    ? `${resource} "${target.name}" is forbidden: ${reason}`
    : `${resource} is forbidden: ${reason}`;
}

/** A refusal of a request's target; `reason` says why (it starts with "airlock:" when the gateway decided). */
export function forbidden(target: Target, reason: string, details?: StatusDetails): Status {
  return make("forbidden", forbiddenMessage(target, reason), details);
}

/** A refusal of the console, admin API or MCP endpoint that has no Kubernetes target. */
export function forbiddenHere(message: string): Status {
  return make("forbidden", message);
}

/** Policy denied the request: names the action, the policy, the rule and the rule's message. */
export function deniedByPolicy(kube: Refused, rule: RuleRef): Status {
  return make("deniedByPolicy", forbiddenMessage(kube.info, `airlock: ${kube.action} ${policyDenial(rule)}`));
}

/** "denied by policy P rule R: message" — the one wording of a policy denial, also inside longer messages. */
export function policyDenial(rule: RuleRef): string {
  return `denied by policy ${rule.policy} rule ${rule.rule}: ${rule.message}`;
}

/**
 * A matching rule requires a justification and the request has none, or one that does not match the rule's pattern.
 * `why` names the rule and what was wrong; `how` says every way to give one (src/shared/justification.ts).
 */
export function justificationRequired(kube: Refused, rule: RuleRef, how: string): Status {
  return make(
    "justificationRequired",
    forbiddenMessage(
      kube.info,
      `airlock: ${kube.action} refused by policy ${rule.policy} rule ${rule.rule}: ${rule.message}; ${how}`,
    ),
  );
}

/** The credential's own scope (read-only, clusters) does not allow the request, whatever policy says. */
export function scopeRefused(kube: Refused, identity: string, why: string): Status {
  return make("scopeRefused", forbiddenMessage(kube.info, `airlock: identity "${identity}": ${why}`));
}

export const IMPERSONATION_REFUSED =
  "airlock: impersonation headers are not accepted from clients; Airlock impersonates the caller itself";

/** A client sent an Impersonate-* header; `header` is the one refused. */
export function impersonationRefused(header: string): Status {
  return make("impersonationRefused", IMPERSONATION_REFUSED, { causes: [{ field: header }] });
}

/** The request needs a human's approval; it is not held (retry mode), or the caller's own review is still open. */
export function reviewPending(kube: Refused, what: string, reviewId: string, check: string): Status {
  return make(
    "reviewPending",
    forbiddenMessage(
      kube.info,
      `airlock: ${what}: approval required, review ${reviewId} is pending; ${check} and send the same request again once it is approved`,
    ),
  );
}

/** The review of this request is not (or no longer) usable: `state` says why (denied, expired, its one use taken). */
export function reviewNotUsable(
  kube: Refused,
  what: string,
  reviewId: string,
  state: string,
  check: string,
): Status {
  return make(
    "reviewNotUsable",
    forbiddenMessage(kube.info, `airlock: ${what}: review ${reviewId} is ${state}; ${check}`),
  );
}

/** A reviewer denied the request; `by` names them and their reason (" by alice: not now"). */
export function reviewDenied(kube: Refused, reviewId: string, by: string): Status {
  return make(
    "reviewDenied",
    forbiddenMessage(kube.info, `airlock: ${kube.action} denied in review ${reviewId}${by}`),
  );
}

export function reviewTimedOut(kube: Refused, what: string, reviewId: string, seconds: number): Status {
  return make(
    "reviewTimedOut",
    forbiddenMessage(
      kube.info,
      `airlock: ${what}: review ${reviewId} was not decided within ${seconds}s, so the request was not sent`,
    ),
  );
}

/** The review was withdrawn: the caller's credential was cut off while it waited, or someone withdrew it. */
export function reviewWithdrawn(
  kube: Refused,
  reviewId: string,
  why: { cutOff: string } | { ended: string },
): Status {
  const reason =
    "cutOff" in why
      ? `airlock: ${why.cutOff} while this request waited for review ${reviewId}; the review was withdrawn and the request was not sent`
      : `airlock: review ${reviewId} was withdrawn (${why.ended}), so the request was not sent`;
  return make("reviewWithdrawn", forbiddenMessage(kube.info, reason));
}

export function reviewsDisabled(kube: Refused, what: string): Status {
  return make(
    "reviewsDisabled",
    forbiddenMessage(kube.info, `airlock: ${what}, and reviews are not enabled on this gateway`),
  );
}

// ---- 404, 405, 406, 409 ---------------------------------------------------------------------------------------

export function notFound(message: string, details?: StatusDetails): Status {
  return make("notFound", message, details);
}

export function noSuchCluster(name: string, configured: string[]): Status {
  return make("noSuchCluster", `airlock: no cluster named "${name}" (configured: ${configured.join(", ")})`);
}

/** A method this path does not serve; send `Allow` with the ones it does. */
export function methodNotAllowed(message: string): Status {
  return make("methodNotAllowed", message);
}

export function notAcceptable(message: string): Status {
  return make("notAcceptable", message);
}

export function conflict(message: string, details?: StatusDetails): Status {
  return make("conflict", message, details);
}

export function alreadyExists(kind: string, name: string, what = kind): Status {
  return make("alreadyExists", `${what} "${name}" already exists`, { name, kind });
}

// ---- 413, 415, 422 --------------------------------------------------------------------------------------------

export function tooLarge(message: string): Status {
  return make("tooLarge", message);
}

export function unsupportedMediaType(message: string): Status {
  return make("unsupportedMediaType", message);
}

/** A Range header outside the file (recording downloads); Content-Range says the file's size. */
export function rangeNotSatisfiable(message: string): Status {
  return make("rangeNotSatisfiable", message);
}

export function invalid(message: string, details?: StatusDetails): Status {
  return make("invalid", message, details);
}

/** A write carries an Airlock masking marker where a real value belongs; `target` is describeTarget's wording. */
export function maskedValueWritten(target: string, action: string, field: string, encoding: string): Status {
  return make(
    "maskedValueWritten",
    `${target} is invalid: airlock: ${action} refused: field ${field} holds an Airlock masking marker${encoding} ` +
      "(‹masked:…›), not a real value; writing it back would replace the real value with the placeholder. " +
      "Remove the masked fields from the object (or set their real values) and send it again.",
  );
}

// ---- 429 ------------------------------------------------------------------------------------------------------

/** A policy rate limit: names the rule; Retry-After says when the next request fits. */
export function rateLimited(action: string, rule: RuleRef, retryAfterSeconds: number): Status {
  return make(
    "rateLimited",
    `airlock: ${action} rate-limited by policy ${rule.policy} rule ${rule.rule}: ${rule.message}`,
    { retryAfterSeconds },
  );
}

/** The rate-limit counters the replicas share cannot be used (the store is down): refused, not counted. */
export function rateLimitUnavailable(action: string, rule: RuleRef, retryAfterSeconds: number): Status {
  return make(
    "rateLimitUnavailable",
    `airlock: ${action} refused by policy ${rule.policy} rule ${rule.rule}: ${rule.message}`,
    { retryAfterSeconds },
  );
}

/** limits.maxStreamsPerIdentity reached. */
export function tooManyStreams(identity: string, open: number, max: number): Status {
  return make(
    "tooManyStreams",
    `airlock: ${identity} already has ${open} open streams (watch, log follow, exec, attach, port-forward); ` +
      `the limit is ${max} (limits.maxStreamsPerIdentity). Close one and retry.`,
    { retryAfterSeconds: 1 },
  );
}

/** Sign-in or session minting throttled after failures (or too many mints); the message says which and until when. */
export function throttled(message: string, retryAfterSeconds: number): Status {
  return make("throttled", message, { retryAfterSeconds });
}

/** A gateway limit (limits.<name>, named in the message) is reached: connections, requests in flight. */
export function overLimit(message: string): Status {
  return make("overLimit", message, { retryAfterSeconds: 1 });
}

/** The request's head or body did not arrive in time (limits.requestHeaderTimeoutSeconds, requestTimeoutSeconds). */
export function requestTimeout(message: string): Status {
  return make("requestTimeout", message);
}

/** limits.maxHeaderBytes exceeded. */
export function headersTooLarge(message: string): Status {
  return make("headersTooLarge", message);
}

// ---- 499, 5xx -------------------------------------------------------------------------------------------------

/** The client left before the answer (recorded in the audit; nothing reaches the client). */
export function clientGone(message: string): Status {
  return make("clientGone", message);
}

export function internalError(message = "airlock: internal error; see the gateway log"): Status {
  return make("internalError", message);
}

/** Masking (or list filtering) could not be set up for this request, so it was not sent. */
export function maskingUnavailable(message: string): Status {
  return make("maskingUnavailable", message);
}

/** Masking failed on the cluster's answer: nothing unmasked was sent. */
export function maskingFailed(message: string): Status {
  return make("maskingFailed", `airlock: masking failed: ${message}`);
}

export function upstreamBadAnswer(message: string): Status {
  return make("upstreamBadAnswer", message);
}

export function upstreamNoCredential(cluster: string | undefined, why: string): Status {
  const which = cluster ? `the cluster "${cluster}"` : "the cluster";
  return make("upstreamNoCredential", `airlock: no credential for ${which}: ${why}`);
}

export function upstreamUnreachable(cluster: string | undefined, why: string): Status {
  const which = cluster ? `the cluster "${cluster}"` : "the cluster";
  return make("upstreamUnreachable", `airlock: ${which} could not be reached: ${why}`);
}

/** The cluster's connection was lost mid-session (exec, attach): sent on the stream's error channel. */
export function upstreamLost(cluster: string, why: string): Status {
  return make(
    "upstreamLost",
    `airlock: the connection to the cluster "${cluster}" was lost (${why}); the session ended`,
  );
}

export function upstreamTimeout(cluster: string): Status {
  return make(
    "upstreamTimeout",
    `airlock: the cluster "${cluster}" did not answer in time (upstream timed out)`,
  );
}

/** The write-ahead audit record failed; `fault` says how (full disk, store down), never what was in it. */
export function auditUnavailable(fault?: string): Status {
  const how = fault ? ` (${fault})` : "";
  return make(
    "auditUnavailable",
    `airlock: the audit log cannot be written${how}, so the request was not sent`,
  );
}

export function storeUnavailable(what = "the identity store"): Status {
  return make("storeUnavailable", `airlock: ${what} is unavailable; try again`);
}

export function reviewUnrecorded(what: string): Status {
  return make(
    "reviewUnrecorded",
    `airlock: ${what}, and the review could not be recorded; the request was not sent`,
  );
}

export function recordingRequired(action: string, why: string): Status {
  return make("recordingRequired", `airlock: ${action} refused: recording is required and ${why}`);
}

/** Something the decision or the masking needs (a stored object, a pod's Secrets) could not be had: fail closed. */
export function dependencyUnavailable(message: string): Status {
  return make("dependencyUnavailable", message);
}

/** A tunnel cluster (docs/agent.md) with no agent connected: nothing can reach it until one (re)connects. */
export function noAgentConnected(cluster: string, why = "no agent of this cluster is connected"): Status {
  return make(
    "noAgentConnected",
    `airlock: the cluster "${cluster}" is reached through its agents, and ${why}; start or reconnect an agent ` +
      `(airlock agent --cluster ${cluster}), see airlock cluster list`,
  );
}

/** A feature this gateway is not configured for (audit signing, identity credentials). */
export function notEnabled(message: string): Status {
  return make("notEnabled", message);
}

/** A request that arrives (or a stream still open) while the gateway drains for shutdown. */
export function shuttingDown(message: string): Status {
  return make("shuttingDown", message, { retryAfterSeconds: 1 });
}

/** A request that failed because the store did: names the fault, never the data. */
export function storeFault(reason: string): Status {
  return make(
    "storeUnavailable",
    `airlock: the store cannot be used (${reason}), so the request was not sent`,
  );
}

export function notReady(): Status {
  return make("notReady", "airlock: the gateway is not ready (starting or shutting down); try again");
}

/**
 * The cluster refused a call the gateway made on the caller's behalf (a read for policy, one delete of a
 * deletecollection): its code is relayed, with its reason when it gave a Kubernetes one.
 */
export function clusterRefused(message: string, code: number, reason?: unknown): Status {
  return failure(isReason(reason) ? reason : reasonForCode(code), message, undefined, code);
}
