// forward → transform → complete: the request goes to the cluster (HTTP streaming, a deletecollection as one
// precondition-bound delete per checked object, or a WebSocket relay for exec, attach and port-forward), its answer
// through the masking transform, and the audit record is completed with what happened.

import type { LiveStream } from "../../identity/streams.ts";
import type { Principal } from "../../identity/types.ts";
import type { KubeRequest } from "../../kube/request.ts";
import type { Status } from "../../kube/status.ts";
import { requestedPorts } from "../../policy/evaluate.ts";
import { impersonationHeaders } from "../../upstream/impersonation.ts";
import { deleteEach } from "../collection.ts";
import { header, type RequestContext } from "../context.ts";
import { forwardHttp } from "../forward/http.ts";
import { portGuard } from "../forward/port-guard.ts";
import { watchErrorEvent } from "../forward/stream-end.ts";
import { tunnelWebSocket } from "../forward/tunnel.ts";
import { bridgeWebSocket } from "../forward/upgrade.ts";
import { completeAudit } from "../record.ts";
import { clientGone, writeHead } from "../respond.ts";
import { StdinLineGate } from "../stdin-inspect.ts";
import {
  maskedHeaders,
  maskJsonAnswer,
  recordMasking,
  responseRelay,
  upgradeFrames,
} from "../transform/stage.ts";
import { admitted, DONE, type Flow, isLongRunning, maskingOf, type Stage } from "./types.ts";

export const forward: Stage = async (flow) => {
  const { kube } = admitted(flow);
  const streamKind =
    flow.answer.kind === "socket"
      ? kube.info.subresource
      : isLongRunning(kube)
        ? kube.info.verb === "watch"
          ? "watch"
          : kube.info.subresource
        : "";
  if (streamKind) flow.gw.metrics.openStreams.inc({ kind: streamKind });
  let outcome: {
    status: number;
    bytesIn: number;
    bytesOut: number;
    note: string | undefined;
    /** The masking note, queued before the completion so both commit in one audit batch. */
    noted: Promise<void>;
  };
  try {
    outcome =
      flow.answer.kind === "socket"
        ? await relayUpgrade(flow)
        : flow.collection
          ? await deleteCollection(flow)
          : await forwardRequest(flow, streamKind);
  } finally {
    if (streamKind) flow.gw.metrics.openStreams.dec({ kind: streamKind });
  }
  const { gw, ctx } = flow;
  ctx.bytesIn = outcome.bytesIn;
  ctx.bytesOut = outcome.bytesOut;
  await completeAudit(gw, ctx, outcome.status, flow.closed.reason ?? outcome.note);
  await outcome.noted;
  return DONE;
};

async function forwardRequest(flow: Flow, streamKind: string) {
  const { gw, ctx } = flow;
  const { kube, principal, upstream } = admitted(flow);
  if (flow.answer.kind !== "http") throw new Error("pipeline: forwardRequest on an upgrade");
  const res = flow.answer.res;
  const masking = maskingOf(flow);
  const result = await forwardHttp(ctx.method, res, {
    upstream,
    pathAndQuery: flow.pathAndQuery,
    headers: maskedHeaders(masking, flow.forward),
    body: flow.body,
    timeoutMs: isLongRunning(kube) ? undefined : gw.config.limits.upstreamTimeoutSeconds * 1000,
    onOpen: (close) =>
      gw.streams.add(liveStream(ctx.id, principal, streamKind || "request", close, flow.closed)),
    // A JSON watch closed at shutdown ends with an ERROR event carrying the Status (not protobuf: no JSON line there).
    ...(streamKind === "watch" && !/protobuf/i.test(header(ctx.headers, "accept") ?? "")
      ? { endWith: watchErrorEvent }
      : {}),
    relay: responseRelay(masking, kube, res),
  });
  if (result.upstreamError) gw.metrics.upstreamErrors.inc({ cluster: ctx.cluster });
  const noted = recordMasking(gw, ctx, masking);
  const hidden = flow.hidden ? `policy left out ${flow.hidden} item(s)` : undefined;
  return { ...result, note: result.upstreamError ?? hidden, noted };
}

async function deleteCollection(flow: Flow) {
  const { gw, ctx } = flow;
  const { kube, principal, upstream } = admitted(flow);
  const collection = flow.collection;
  if (flow.answer.kind !== "http" || !collection)
    throw new Error("pipeline: deleteCollection without a collection");
  const res = flow.answer.res;
  const masking = maskingOf(flow);
  const as = upstream.impersonate !== false ? impersonationHeaders(principal, ctx.id) : [];
  // Registered like a stream for as long as it deletes: a revocation or expiry stops it before the next object.
  let stop: string | undefined;
  const unregister = gw.streams.add(
    liveStream(ctx.id, principal, "deletecollection", (reason) => (stop ??= reason), flow.closed),
  );
  const gone = () => (clientGone(res) ? "the client left" : undefined);
  const done = await deleteEach(upstream, kube, as, collection, () => stop ?? gone()).finally(unregister);
  const answered = maskJsonAnswer(masking, kube, done.body);
  const body = answered.ok ? answered.body : Buffer.from(JSON.stringify(answered.status));
  const code = answered.ok ? done.status : answered.status.code;
  writeHead(res, code, {
    "content-type": "application/json",
    "content-length": String(body.length),
    "cache-control": "no-store",
  });
  res.end(body);
  const noted = recordMasking(gw, ctx, masking);
  const note = `deletecollection: ${done.deleted} of ${collection.objects.length} checked objects deleted`;
  return {
    noted,
    status: code,
    bytesIn: ctx.bytesIn,
    bytesOut: body.length,
    note: done.error ?? (answered.ok ? note : answered.status.message),
  };
}

async function relayUpgrade(flow: Flow) {
  const { gw, ctx } = flow;
  const { kube, principal, upstream } = admitted(flow);
  if (flow.answer.kind !== "socket" || !flow.head)
    throw new Error("pipeline: relayUpgrade on a plain request");
  const masking = maskingOf(flow);
  const active = flow.recording;
  // Port-forward frames are opaque SPDY: tunnel them after a verified handshake. Exec and attach frames are
  // relayed one by one, so the transform stage can see them.
  const relay = kube.info.subresource === "portforward" ? tunnelWebSocket : bridgeWebSocket;
  // exec.stdin: inspect — lines piped into the exec's shell are checked one by one (stdin-inspect.ts).
  const lineCheck = kube.action === "exec" ? gw.decider.stdinInspector?.(principal, kube) : undefined;
  const stdinGate = lineCheck ? new StdinLineGate(lineCheck) : undefined;
  const result = await relay(flow.req as Parameters<typeof relay>[0], flow.answer.socket, flow.head, {
    upstream,
    pathAndQuery: flow.pathAndQuery,
    headers: flow.forward,
    onOpen: (close) =>
      gw.streams.add(liveStream(ctx.id, principal, kube.info.subresource, close, flow.closed)),
    ...(masking.request ? { frames: upgradeFrames(masking, kube) } : {}),
    ...(active ? { tap: (protocol: string, abort: (r: string) => void) => active.tap(protocol, abort) } : {}),
    ...portGuardOption(ctx.decision, kube),
    ...(stdinGate ? { stdinGate } : {}),
  });
  await active?.finish();
  const noted = recordMasking(gw, ctx, masking);
  if (result.upstreamError) gw.metrics.upstreamErrors.inc({ cluster: ctx.cluster });
  return { ...result, note: result.refused ?? result.upstreamError ?? stdinGate?.summary(), noted };
}

/** Port-forward under a rule that names its ports: every stream is checked against them. */
function portGuardOption(decision: RequestContext["decision"], kube: KubeRequest) {
  if (kube.info.subresource !== "portforward" || !decision || decision.effect === "deny" || !decision.ports) {
    return {};
  }
  const allowed = decision.ports;
  const asked = requestedPorts(kube) ?? [];
  return { guard: (protocol: string) => portGuard(protocol, allowed, asked) };
}

/**
 * The registry entry of a forwarded request: revocation of its identity or credential, or their expiry, closes it,
 * and the reason becomes the audit note of its completion.
 */
function liveStream(
  id: string,
  principal: Principal,
  kind: string,
  close: (reason: string, status?: Status) => void,
  closed: { reason?: string },
): LiveStream {
  const stream: LiveStream = {
    id,
    identityId: principal.identityId,
    credentialId: principal.credentialId,
    kind,
    close: (reason, status) => {
      closed.reason = `airlock closed the ${kind}: ${reason}`;
      close(reason, status);
    },
  };
  if (principal.expiresAt) stream.expiresAtMs = Date.parse(principal.expiresAt);
  if (principal.sessionId) stream.sessionId = principal.sessionId;
  if (principal.onBehalfOf) stream.onBehalfOf = principal.onBehalfOf;
  return stream;
}
