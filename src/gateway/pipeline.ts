// The pipeline, in the one place its order is written down (DESIGN.md):
//
//   listen → authenticate → classify → decide → gate (review) → record (write-ahead) → forward → transform → complete
//
// The gate runs before the record so that a request held for minutes is recorded once, with the review that
// released it; the review's own trail (review_events) records the hold itself.
//
// `listen` (src/server/listener.ts) hands every Kubernetes request here, and so does the internal dispatch (dispatch.ts) for MCP
// tool calls: those arrive already authenticated (an InternalEntry) and then pass every other stage unchanged.
// Each stage either fills in the context or refuses with a Status; a refusal is still audited. Nothing is forwarded
// before its audit record is committed (invariant 3), and every failure path refuses rather than forwards
// (invariant 2).
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Duplex } from "node:stream";
import { peerCertificateOf } from "../identity/authenticate.ts";
import { authenticate } from "../identity/authenticators.ts";
import { checkScopes } from "../identity/scopes.ts";
import type { LiveStream } from "../identity/streams.ts";
import type { Principal } from "../identity/types.ts";
import { readRequestBody } from "../kube/classify/body.ts";
import { classifyRequest, inspectClientHeaders } from "../kube/classify/index.ts";
import { resolveWriteOptions } from "../kube/classify/options.ts";
import { auditUnavailable, badRequest, deniedByPolicy, rateLimited } from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import { requestedPorts } from "../policy/evaluate.ts";
import { requestScope } from "../shared/request-scope.ts";
import { impersonationHeaders } from "../upstream/impersonation.ts";
import { readBody } from "./body.ts";
import { checkCollection, deleteEach, type ExpandedCollection } from "./collection.ts";
import { header, type InternalEntry, type RequestContext } from "./context.ts";
import { describeTarget } from "./decide.ts";
import { forwardHttp } from "./forward/http.ts";
import { portGuard } from "./forward/port-guard.ts";
import { watchErrorEvent } from "./forward/stream-end.ts";
import { tunnelWebSocket } from "./forward/tunnel.ts";
import { bridgeWebSocket, UPGRADE_SUBRESOURCES } from "./forward/upgrade.ts";
import { gateReview } from "./gate.ts";
import { loadNeededObjects } from "./objects.ts";
import { beginAudit, completeAudit, recordRefusal } from "./record.ts";
import { assignSession, countDecision, openStreamRecording } from "./recording.ts";
import { admitInFlight, bodyRefusal, reserveStream } from "./request-limits.ts";
import { type AnyResponse, sendStatus, sendStatusOnSocket, writeHead } from "./respond.ts";
import { routeCluster } from "./route.ts";
import type { GatewayRuntime } from "./runtime.ts";
import { answerSelfReview, isAnsweredSelfReview } from "./self-review.ts";
import { StdinLineGate } from "./stdin-inspect.ts";
import { refuseMarkers } from "./transform/markers.ts";
import {
  filterItems,
  maskedHeaders,
  maskJsonAnswer,
  prepareMasking,
  recordMasking,
  responseRelay,
  upgradeFrames,
} from "./transform/stage.ts";

type Answer = { kind: "http"; res: AnyResponse } | { kind: "socket"; socket: Duplex };

function newContext(req: IncomingMessage | Http2ServerRequest, entry?: InternalEntry): RequestContext {
  const ctx: RequestContext = {
    id: randomUUID(),
    startedAt: performance.now(),
    method: req.method ?? "GET",
    rawUrl: req.url ?? "/",
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    sourceAddress: entry ? entry.sourceAddress : (req.socket?.remoteAddress ?? ""),
    cluster: "",
    bytesIn: 0,
    bytesOut: 0,
  };
  if (entry?.mcp) ctx.mcp = entry.mcp;
  const scope = requestScope.getStore();
  if (scope) scope.requestId = ctx.id;
  return ctx;
}

async function refuse(
  gw: GatewayRuntime,
  ctx: RequestContext,
  answer: Answer,
  status: Status,
): Promise<void> {
  // sendStatus sets Retry-After from the Status's retryAfterSeconds
  ctx.bytesOut =
    answer.kind === "http" ? sendStatus(answer.res, status) : sendStatusOnSocket(answer.socket, status);
  await recordRefusal(gw, ctx, status);
}

/**
 * The stages before forwarding, shared by plain requests and upgrades. Returns the context ready to forward, or
 * undefined when the request was refused (and answered, and audited).
 */
async function admit(
  gw: GatewayRuntime,
  ctx: RequestContext,
  req: IncomingMessage | Http2ServerRequest,
  answer: Answer,
  entry: InternalEntry | undefined,
): Promise<
  | {
      pathAndQuery: string;
      body: Buffer | undefined;
      forward: [string, string][];
      /** A deletecollection, checked object by object: forwarded as one precondition-bound delete each. */
      collection?: ExpandedCollection;
    }
  | undefined
> {
  // listen: which cluster
  const route = routeCluster(ctx.rawUrl, gw.upstreams);
  if (!route.ok) return void (await refuse(gw, ctx, answer, route.status));
  ctx.cluster = route.cluster;

  // authenticate (an internal entry was authenticated where it entered, by the same chain)
  const auth = entry
    ? ({ ok: true, principal: entry.principal } as const)
    : gw.authenticate
      ? await gw.authenticate({ headers: ctx.headers, peerCertificate: peerCertificateOf(req) })
      : await authenticate(gw.store, ctx.headers);
  if (!auth.ok) return void (await refuse(gw, ctx, answer, auth.status));
  ctx.principal = auth.principal;
  // sessions: grouped before anything is recorded, so every audit event of the caller names its session
  await assignSession(gw, ctx);

  // classify: header hygiene, path hygiene, RequestInfo
  const hygiene = inspectClientHeaders(ctx.rawHeaders);
  if (!hygiene.ok) return void (await refuse(gw, ctx, answer, hygiene.status));
  const classified = classifyRequest(ctx.method, route.pathAndQuery, route.cluster);
  if (!classified.ok) return void (await refuse(gw, ctx, answer, classified.status));
  const kube = classified.value;
  ctx.kube = kube;
  // scopes: limits the credential itself carries (read-only, clusters), whatever policy would allow
  const scoped = checkScopes(auth.principal, kube, ctx.method);
  if (!scoped.ok) return void (await refuse(gw, ctx, answer, scoped.status));
  // limits: ordinary requests in flight, in total and per identity (streams are bounded by reserveStream)
  const busy =
    answer.kind === "http" && !isLongRunning(kube)
      ? admitInFlight(gw, auth.principal, answer.res)
      : undefined;
  if (busy) return void (await refuse(gw, ctx, answer, busy));

  const read = await readBody(
    req,
    gw.config.limits.maxRequestBodyBytes,
    gw.config.limits.requestTimeoutSeconds,
  );
  if (!read.ok) return void (await refuse(gw, ctx, answer, bodyRefusal(gw, read)));
  // one reading of the body; what is forwarded is the JSON of that reading (YAML is converted)
  const parsed = readRequestBody(
    ctx.method,
    kube,
    {
      contentType: header(ctx.headers, "content-type"),
      contentEncoding: header(ctx.headers, "content-encoding"),
    },
    read.body,
  );
  if (!parsed.ok) return void (await refuse(gw, ctx, answer, parsed.status));
  if (parsed.value !== undefined) kube.body = parsed.value;
  const body = parsed.body;
  const options = resolveWriteOptions(kube, parsed.value, Boolean(body?.length));
  if (!options.ok) return void (await refuse(gw, ctx, answer, options.status));
  kube.options = options.value;
  if (parsed.contentType !== header(ctx.headers, "content-type")) {
    // Every later stage (review fingerprint and preview, audit, forward) sees the Content-Type that is sent.
    ctx.headers["content-type"] = parsed.contentType;
    hygiene.value.forward = hygiene.value.forward.filter(([n]) => n.toLowerCase() !== "content-type");
    if (parsed.contentType) hygiene.value.forward.push(["Content-Type", parsed.contentType]);
  }
  // markers never flow back: a body carrying a ‹masked:…› marker would store it in place of the real value
  const marker = refuseMarkers(kube, read.body);
  if (marker) return void (await refuse(gw, ctx, answer, marker));

  // decide: first the objects the rules that could match read (stored object, server-side dry run), then policy
  const objects = await loadNeededObjects({
    decider: gw.decider,
    upstream: gw.upstreams.get(ctx.cluster),
    principal: auth.principal,
    requestId: ctx.id,
    kube,
    method: ctx.method,
    pathAndQuery: route.pathAndQuery,
    body,
    contentType: parsed.contentType,
  });
  if (!objects.ok) return void (await refuse(gw, ctx, answer, objects.status));
  const decision = await gw.decider.decide(auth.principal, kube);
  ctx.decision = decision;
  countDecision(gw, ctx);
  if (decision.effect === "deny") {
    const status =
      decision.retryAfterSeconds !== undefined
        ? rateLimited(kube.action, decision, decision.retryAfterSeconds)
        : deniedByPolicy(kube, decision);
    return void (await refuse(gw, ctx, answer, status));
  }
  // deletecollection: the objects it would remove are listed (as the caller) and decided one by one first
  let collection: ExpandedCollection | undefined;
  const decideCollection = gw.decider.decideCollection?.bind(gw.decider);
  const collectionUpstream = gw.upstreams.get(ctx.cluster);
  if (kube.action === "deletecollection" && decideCollection && collectionUpstream) {
    const as = collectionUpstream.impersonate !== false ? impersonationHeaders(auth.principal, ctx.id) : [];
    const checked = await checkCollection(
      decideCollection,
      collectionUpstream,
      auth.principal,
      kube,
      decision,
      as,
    );
    if (!checked.ok) {
      if (checked.decision) ctx.decision = checked.decision;
      return void (await refuse(gw, ctx, answer, checked.status));
    }
    collection = checked.collection;
  }
  // gate: a request that needs a human waits for one (or is answered "approval required"); the note names the
  // grant or approval that released it, for the audit event.
  let gateNote: string | null = null;
  if (decision.effect === "review") {
    const gated = await gateReview(gw, {
      ctx,
      principal: auth.principal,
      kube,
      decision: entry?.reviewsAnswerAtOnce
        ? { ...decision, review: { ...decision.review, mode: "retry" } }
        : decision,
      pathAndQuery: route.pathAndQuery,
      body,
      signal: closedSignal(answer),
    });
    if (!gated.ok) return void (await refuse(gw, ctx, answer, gated.status));
    gateNote = gated.note;
  }

  // record (write-ahead): no record, no request
  const recorded = await beginAudit(gw, ctx, gateNote);
  if (!recorded.ok) {
    const status = auditUnavailable(recorded.fault);
    ctx.bytesOut =
      answer.kind === "http" ? sendStatus(answer.res, status) : sendStatusOnSocket(answer.socket, status);
    gw.log.error({ requestId: ctx.id, err: recorded.error }, "audit write failed; request refused");
    gw.metrics.requests.inc({ verb: kube.action, code: "503", decision: "error", cluster: ctx.cluster });
    return undefined;
  }

  const upstream = gw.upstreams.get(ctx.cluster);
  const forward: [string, string][] = [...hygiene.value.forward];
  if (upstream?.impersonate !== false) forward.push(...impersonationHeaders(ctx.principal, ctx.id));
  return {
    pathAndQuery: route.pathAndQuery,
    body,
    forward,
    ...(collection ? { collection } : {}),
  };
}

/** Aborts when the client's connection closes before we answer (a held request whose client gave up). */
function closedSignal(answer: Answer): AbortSignal {
  const controller = new AbortController();
  const target = answer.kind === "http" ? answer.res : answer.socket;
  target.once("close", () => controller.abort());
  return controller.signal;
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

function isLongRunning(kube: KubeRequest): boolean {
  return (
    kube.info.verb === "watch" ||
    kube.info.verb === "proxy" ||
    ["attach", "exec", "proxy", "log", "portforward"].includes(kube.info.subresource)
  );
}

export async function handleKubeRequest(
  gw: GatewayRuntime,
  req: IncomingMessage | Http2ServerRequest,
  res: AnyResponse,
  entry?: InternalEntry,
): Promise<void> {
  const ctx = newContext(req, entry);
  const admitted = await admit(gw, ctx, req, { kind: "http", res }, entry);
  if (!admitted || !ctx.kube || !ctx.principal) return;
  const upstream = gw.upstreams.get(ctx.cluster);
  if (!upstream) return; // routeCluster checked it; the registry does not change at run time
  if (isAnsweredSelfReview(ctx.kube)) {
    // kubectl auth can-i: the cluster's RBAC answer combined with what policy would decide
    const answered = await answerSelfReview({ decider: gw.decider, upstream }, ctx, res, {
      pathAndQuery: admitted.pathAndQuery,
      body: admitted.body,
      headers: admitted.forward,
    });
    ctx.bytesOut = answered.bytesOut;
    return completeAudit(gw, ctx, answered.status, answered.error);
  }
  const longRunning = isLongRunning(ctx.kube);
  const overLimit = longRunning ? reserveStream(gw, ctx.principal, res) : undefined;
  if (overLimit) {
    ctx.bytesOut = sendStatus(res, overLimit);
    return completeAudit(gw, ctx, overLimit.code, overLimit.message);
  }
  const streamKind = longRunning
    ? ctx.kube.info.verb === "watch"
      ? "watch"
      : ctx.kube.info.subresource
    : "";
  if (streamKind) gw.metrics.openStreams.inc({ kind: streamKind });
  const principal = ctx.principal;
  const closed: { reason?: string } = {};
  // transform: the decision's masking obligation (fail closed on an unknown profile); JSON asked for when it applies
  const prepared = await prepareMasking(gw, ctx.decision, ctx.kube, ctx.principal);
  if (!prepared.ok) {
    if (streamKind) gw.metrics.openStreams.dec({ kind: streamKind });
    ctx.bytesOut = sendStatus(res, prepared.status);
    return completeAudit(gw, ctx, prepared.status.code, prepared.status.message);
  }
  const masking = prepared.masking;
  // transform (filter): a list or watch shows only the items policy lets the caller read, one by one
  const filtered = await filterItems(gw, principal, ctx.kube, ctx.decision, masking);
  if (!filtered.ok) {
    if (streamKind) gw.metrics.openStreams.dec({ kind: streamKind });
    ctx.bytesOut = sendStatus(res, filtered.status);
    return completeAudit(gw, ctx, filtered.status.code, filtered.status.message);
  }

  if (admitted.collection) {
    // forward (deletecollection): one precondition-bound delete per checked object (collection.ts)
    const as = upstream.impersonate !== false ? impersonationHeaders(principal, ctx.id) : [];
    const done = await deleteEach(upstream, ctx.kube, as, admitted.collection);
    const answered = maskJsonAnswer(masking, ctx.kube, done.body);
    const body = answered.ok ? answered.body : Buffer.from(JSON.stringify(answered.status));
    const code = answered.ok ? done.status : answered.status.code;
    writeHead(res, code, {
      "content-type": "application/json",
      "content-length": String(body.length),
      "cache-control": "no-store",
    });
    res.end(body);
    await recordMasking(gw, ctx.id, masking);
    ctx.bytesOut = body.length;
    const note = `deletecollection: ${done.deleted} of ${admitted.collection.objects.length} checked objects deleted`;
    return completeAudit(gw, ctx, code, done.error ?? (answered.ok ? note : answered.status.message));
  }

  // forward → transform
  const result = await forwardHttp(ctx.method, res, {
    upstream,
    pathAndQuery: admitted.pathAndQuery,
    headers: maskedHeaders(masking, admitted.forward),
    body: admitted.body,
    timeoutMs: longRunning ? undefined : gw.config.limits.upstreamTimeoutSeconds * 1000,
    onOpen: (close) => gw.streams.add(liveStream(ctx.id, principal, streamKind || "request", close, closed)),
    // A JSON watch closed at shutdown ends with an ERROR event carrying the Status (not protobuf: no JSON line there).
    ...(streamKind === "watch" && !/protobuf/i.test(header(ctx.headers, "accept") ?? "")
      ? { endWith: watchErrorEvent }
      : {}),
    relay: responseRelay(masking, ctx.kube, res),
  });
  if (streamKind) gw.metrics.openStreams.dec({ kind: streamKind });
  if (result.upstreamError) gw.metrics.upstreamErrors.inc({ cluster: ctx.cluster });
  await recordMasking(gw, ctx.id, masking);

  // complete
  ctx.bytesIn = result.bytesIn;
  ctx.bytesOut = result.bytesOut;
  // The audit event says how many items policy left out of a list or watch (never which).
  const hidden = filtered.hidden.count ? `policy left out ${filtered.hidden.count} item(s)` : undefined;
  await completeAudit(gw, ctx, result.status, closed.reason ?? result.upstreamError ?? hidden);
}

export async function handleKubeUpgrade(
  gw: GatewayRuntime,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  entry?: InternalEntry,
): Promise<void> {
  const ctx = newContext(req, entry);
  const answer: Answer = { kind: "socket", socket };
  socket.on("error", () => socket.destroy());
  const admitted = await admit(gw, ctx, req, answer, entry);
  if (!admitted || !ctx.kube || !ctx.principal) return;
  const kube = ctx.kube;
  const upgrade = (header(ctx.headers, "upgrade") ?? "").toLowerCase();
  const refuseAfterAudit = async (status: Status) => {
    ctx.bytesOut = sendStatusOnSocket(socket, status);
    await completeAudit(gw, ctx, status.code, status.message);
  };
  if (
    !kube.info.isResourceRequest ||
    kube.info.resource !== "pods" ||
    !UPGRADE_SUBRESOURCES.has(kube.info.subresource)
  ) {
    return refuseAfterAudit(
      badRequest(
        `airlock: protocol upgrades are accepted only for pods/exec, pods/attach and pods/portforward, not ${describeTarget(kube)}`,
      ),
    );
  }
  // transform (mask): before the protocol checks, so a refusal (the pod's Secret values could not be read) answers
  // the WebSocket GET and kubectl's SPDY fallback alike
  const prepared = await prepareMasking(gw, ctx.decision, kube, ctx.principal);
  if (!prepared.ok) return refuseAfterAudit(prepared.status);
  const masking = prepared.masking;
  if (upgrade.startsWith("spdy/")) {
    return refuseAfterAudit(
      badRequest(
        `airlock: ${kube.action} over SPDY is not supported; Airlock relays exec, attach and port-forward over WebSocket. ` +
          "Use kubectl 1.30 or newer and unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS / KUBECTL_PORT_FORWARD_WEBSOCKETS.",
      ),
    );
  }
  if (upgrade !== "websocket" || ctx.method !== "GET") {
    return refuseAfterAudit(badRequest(`airlock: unsupported protocol upgrade "${upgrade}"`));
  }
  const upstream = gw.upstreams.get(ctx.cluster);
  if (!upstream) return;
  const overLimit = reserveStream(gw, ctx.principal, socket);
  if (overLimit) return refuseAfterAudit(overLimit);
  // transform (record): the stream's recording is open before anything is forwarded; required → refused without it
  const recording = await openStreamRecording(gw, ctx, masking.request);
  if (!recording.ok) return refuseAfterAudit(recording.status);
  const active = recording.active;
  const principal = ctx.principal;
  const closed: { reason?: string } = {};
  gw.metrics.openStreams.inc({ kind: kube.info.subresource });
  // Port-forward frames are opaque SPDY: tunnel them after a verified handshake. Exec and attach frames are
  // relayed one by one, so the transform stage can see them.
  const relay = kube.info.subresource === "portforward" ? tunnelWebSocket : bridgeWebSocket;
  // exec.stdin: inspect — lines piped into the exec's shell are checked one by one (stdin-inspect.ts).
  const lineCheck = kube.action === "exec" ? gw.decider.stdinInspector?.(principal, kube) : undefined;
  const stdinGate = lineCheck ? new StdinLineGate(lineCheck) : undefined;
  const result = await relay(req, socket, head, {
    upstream,
    pathAndQuery: admitted.pathAndQuery,
    headers: admitted.forward,
    onOpen: (close) => gw.streams.add(liveStream(ctx.id, principal, kube.info.subresource, close, closed)),
    ...(masking.request ? { frames: upgradeFrames(masking) } : {}),
    ...(active ? { tap: (protocol: string, abort: (r: string) => void) => active.tap(protocol, abort) } : {}),
    ...portGuardOption(ctx.decision, kube),
    ...(stdinGate ? { stdinGate } : {}),
  });
  await active?.finish();
  gw.metrics.openStreams.dec({ kind: kube.info.subresource });
  await recordMasking(gw, ctx.id, masking);
  if (result.upstreamError) gw.metrics.upstreamErrors.inc({ cluster: ctx.cluster });
  ctx.bytesIn = result.bytesIn;
  ctx.bytesOut = result.bytesOut;
  await completeAudit(
    gw,
    ctx,
    result.status,
    closed.reason ?? result.refused ?? result.upstreamError ?? stdinGate?.summary(),
  );
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
