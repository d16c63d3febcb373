// record and complete: the audit event of each request. `beginAudit` must resolve before anything is forwarded
// (invariant 3, write-ahead); a refusal is recorded too. Tokens and credentials are never part of an event: the
// event is built from the classified request and the principal, never from raw headers.

import type { AuditEvent } from "../audit/types.ts";
import type { Status } from "../kube/status.ts";
import type { Logger } from "../shared/log.ts";
import { describeStoreFailure } from "../store/faults.ts";
import { impersonatedGroups } from "../upstream/impersonation.ts";
import { header, type RequestContext } from "./context.ts";
import type { GatewayRuntime } from "./runtime.ts";

function buildEvent(
  ctx: RequestContext,
  decision: AuditEvent["decision"],
  reason: string | null,
): AuditEvent {
  const info = ctx.kube?.info;
  const d = ctx.decision;
  return {
    id: ctx.id,
    time: new Date(performance.timeOrigin + ctx.startedAt).toISOString(),
    identityId: ctx.principal?.identityId ?? null,
    identityName: ctx.principal?.name ?? null,
    identityKind: ctx.principal?.kind ?? null,
    // The groups as the cluster sees them (impersonated), so the audit export names the same actor as its log.
    ...(ctx.principal && ctx.principal.kind !== "admin"
      ? { identityGroups: impersonatedGroups(ctx.principal) }
      : {}),
    credentialId: ctx.principal?.credentialId ?? null,
    sourceAddress: ctx.sourceAddress,
    userAgent: header(ctx.headers, "user-agent") ?? "",
    kubectlCommand: header(ctx.headers, "kubectl-command") ?? null,
    kubectlSession: header(ctx.headers, "kubectl-session") ?? null,
    cluster: ctx.cluster,
    method: ctx.method,
    // The path only, as classified: query strings can carry tokens in some APIs, so they are not stored raw.
    path: info?.path ?? ctx.rawUrl.split("?")[0]?.slice(0, 2048) ?? "",
    verb: ctx.kube?.action ?? "",
    apiGroup: info?.apiGroup ?? "",
    apiVersion: info?.apiVersion ?? "",
    namespace: info?.namespace ?? "",
    resource: info?.resource ?? "",
    subresource: info?.subresource ?? "",
    name: info?.name ?? "",
    execCommand: ctx.kube?.exec?.command ?? null,
    decision,
    policy: d?.policy ?? null,
    rule: d?.rule ?? null,
    reason,
    status: null,
    bytesIn: null,
    bytesOut: null,
    durationMs: null,
    completedAt: null,
    // Every event of a session credential carries its justification and delegation (src/identity/session.ts).
    ...(ctx.principal?.justification ? { justification: ctx.principal.justification } : {}),
    ...(ctx.principal?.onBehalfOf ? { onBehalfOf: ctx.principal.onBehalfOf } : {}),
    ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}),
  };
}

export async function beginAudit(
  gw: GatewayRuntime,
  ctx: RequestContext,
  /** Why an allowed request was allowed beyond policy (the review or grant that released it). */
  reason: string | null = null,
): Promise<{ ok: true } | { ok: false; error: string; fault: string }> {
  const event = buildEvent(ctx, "allow", reason);
  try {
    await gw.store.audit.begin(event);
    ctx.audit = event;
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message, fault: describeStoreFailure(err) };
  }
}

function elapsed(ctx: RequestContext): number {
  return Math.round(performance.now() - ctx.startedAt);
}

/**
 * The request line's logger: the gateway's logger (same destination, same level) without the redaction walk. The
 * line is built below from classified fields only — no header, no credential, no key the redaction list names — so
 * the walk never changed it, and it cost ~24 µs of the ~31 µs a line takes (pino with redaction, bench). A pino child
 * follows its parent's level when it changes (reload; server.test.ts checks it).
 */
const plainLoggers = new WeakMap<Logger, Logger>();
function requestLogger(log: Logger): Logger {
  let plain = plainLoggers.get(log);
  if (!plain) {
    plain = log.child({}, { redact: [] });
    plainLoggers.set(log, plain);
  }
  return plain;
}

function observe(
  gw: GatewayRuntime,
  ctx: RequestContext,
  status: number,
  decision: string,
  durationMs: number,
): void {
  const verb = ctx.kube?.action ?? "unknown";
  gw.metrics.requests.inc({ verb, code: String(status), decision, cluster: ctx.cluster });
  gw.metrics.latency.observe({ verb, cluster: ctx.cluster }, durationMs / 1000);
  requestLogger(gw.log).info(
    {
      requestId: ctx.id,
      identity: ctx.principal?.name,
      cluster: ctx.cluster,
      verb,
      resource: ctx.kube?.info.resource,
      subresource: ctx.kube?.info.subresource || undefined,
      namespace: ctx.kube?.info.namespace || undefined,
      name: ctx.kube?.info.name || undefined,
      decision,
      status,
      durationMs,
      masking: ctx.masked,
    },
    "request",
  );
}

export async function completeAudit(
  gw: GatewayRuntime,
  ctx: RequestContext,
  status: number,
  reason?: string,
): Promise<void> {
  ctx.completed = true;
  const durationMs = elapsed(ctx);
  observe(gw, ctx, status, "allow", durationMs);
  const completion = {
    status,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    durationMs,
    ...(reason ? { reason } : {}),
  };
  // The request already ran, so its completion is worth waiting for: a store that is briefly unavailable (a lock
  // held by another process, a PostgreSQL restart) gets a few more tries before the completion is given up.
  for (const [attempt, delayMs] of COMPLETION_RETRY_MS.entries()) {
    try {
      await gw.store.audit.complete(ctx.id, completion);
      return;
    } catch (err) {
      if (attempt === COMPLETION_RETRY_MS.length - 1) {
        gw.log.error({ requestId: ctx.id, err: (err as Error).message }, "audit completion failed");
        return;
      }
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** Waits before each retry of a failed completion write (the last entry is never waited). */
const COMPLETION_RETRY_MS = [250, 1000, 2000, 4000, 0];

/** Records a request that was refused before forwarding (the client already has its Status). */
export async function recordRefusal(gw: GatewayRuntime, ctx: RequestContext, status: Status): Promise<void> {
  const decision = status.code === 401 || status.code === 403 || status.code === 429 ? "deny" : "error";
  const durationMs = elapsed(ctx);
  observe(gw, ctx, status.code, decision, durationMs);
  try {
    await gw.store.audit.begin(buildEvent(ctx, decision, status.message ?? null));
    await gw.store.audit.complete(ctx.id, {
      status: status.code,
      bytesIn: 0,
      bytesOut: ctx.bytesOut,
      durationMs,
    });
  } catch (err) {
    gw.log.error({ requestId: ctx.id, err: (err as Error).message }, "audit of a refused request failed");
  }
}
