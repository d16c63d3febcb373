// The recording stage as the pipeline sees it: which session a request belongs to (set on the context before the
// write-ahead audit record, so the event carries it), the decision counted on the session, and the recording of an
// upgraded stream opened before it is forwarded.
//
// Fail closed when `recording.required`: a stream whose recording cannot be opened is refused with 503 before
// anything reaches the cluster. A session that cannot be assigned (the store failing) never blocks a request: the
// audit event, which is what must not be lost, has already been written or refused by then.

import { recordingRequired } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import { TextStreamMasker } from "../mask/index.ts";
import type { ActiveRecording } from "../recording/service.ts";
import type { RequestContext } from "./context.ts";
import { header } from "./context.ts";
import type { GatewayRuntime } from "./runtime.ts";
import type { RequestMasking } from "./transform/index.ts";

/** Assigns the request's session (needs the principal and the cluster). */
export async function assignSession(gw: GatewayRuntime, ctx: RequestContext): Promise<void> {
  const svc = gw.recordings;
  const p = ctx.principal;
  if (!svc || !p) return;
  try {
    ctx.sessionId = await svc.sessions.assign({
      identityId: p.identityId,
      identityName: p.name,
      cluster: ctx.cluster,
      kubectlSession: header(ctx.headers, "kubectl-session"),
      kubectlCommand: header(ctx.headers, "kubectl-command"),
      mcpSession: ctx.mcp?.session,
    });
  } catch (err) {
    gw.log.error({ requestId: ctx.id, err: (err as Error).message }, "session assignment failed");
  }
}

/** Counts the policy decision on the request's session. */
export function countDecision(gw: GatewayRuntime, ctx: RequestContext): void {
  if (!ctx.sessionId || !ctx.decision) return;
  const kube = ctx.kube;
  const resource = kube
    ? kube.info.isResourceRequest
      ? `${kube.info.resource}${kube.info.subresource ? `/${kube.info.subresource}` : ""}${kube.info.apiGroup ? `.${kube.info.apiGroup}` : ""}`
      : kube.info.path
    : "";
  gw.recordings?.sessions.decided(
    ctx.sessionId,
    ctx.decision.effect,
    kube ? { action: kube.action, resource, claim: header(ctx.headers, "kubectl-command") } : undefined,
  );
}

/**
 * Opens the recording of an exec, attach or port-forward. `active` is undefined when recording is off or failed
 * without being required; a Status refuses the stream.
 */
export async function openStreamRecording(
  gw: GatewayRuntime,
  ctx: RequestContext,
  masking: RequestMasking | undefined,
): Promise<{ ok: true; active: ActiveRecording | undefined } | { ok: false; status: Status }> {
  const svc = gw.recordings;
  if (!svc || !ctx.kube || !ctx.principal) return { ok: true, active: undefined };
  const opened = ctx.sessionId
    ? await svc.open({
        requestId: ctx.id,
        sessionId: ctx.sessionId,
        identityName: ctx.principal.name,
        kube: ctx.kube,
        inputMasker: masking
          ? new TextStreamMasker(
              masking.detectors ?? masking.profile.detectors,
              masking.placeholders,
              masking.counts,
            )
          : undefined,
      })
    : ({ ok: false, error: "the request has no session" } as const);
  if (opened.ok) return { ok: true, active: opened.active };
  gw.log.error({ requestId: ctx.id, err: opened.error }, "recording could not be opened");
  if (!svc.config.required) return { ok: true, active: undefined };
  return {
    ok: false,
    status: recordingRequired(ctx.kube.action, opened.error),
  };
}
