// The pipeline, in the one place its order is written down (DESIGN.md, docs/security-model.md): STAGES below. Each
// stage is one file in ./stages with one signature (stages/types.ts): it fills in the request's Flow, or refuses
// with a Status, or answers and audits the request itself.
//
//   route → authenticate → classify → justification → scopes → in-flight → body → objects → decide → collection → gate (review)
//   → record (write-ahead) → impersonate → upgrade-target → self-review → mask → upgrade-protocol → stream-slot
//   → filter → stream-recording → forward → transform → complete
//
// The gate runs before the record so that a request held for minutes is recorded once, with the review that
// released it; the review's own trail (review_events) records the hold itself.
//
// `listen` (src/server/listener.ts) hands every Kubernetes request here, plain or a protocol upgrade (exec, attach,
// port-forward), and so does the internal dispatch (dispatch.ts) for MCP tool calls: those arrive already
// authenticated (an InternalEntry) and then pass every other stage unchanged. Plain requests and upgrades run the
// same list; a stage that applies to one kind only lets the other pass. A refusal is still audited: before the
// write-ahead record as a refusal, after it as the record's completion. Nothing is forwarded before its audit record
// is committed (invariant 3), and every failure path refuses rather than forwards (invariant 2).
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Duplex } from "node:stream";
import type { Status } from "../kube/status.ts";
import { requestScope } from "../shared/request-scope.ts";
import type { InternalEntry, RequestContext } from "./context.ts";
import { completeAudit, recordRefusal } from "./record.ts";
import { type AnyResponse, sendStatus, sendStatusOnSocket } from "./respond.ts";
import type { GatewayRuntime } from "./runtime.ts";
import { authenticate } from "./stages/authenticate.ts";
import { body } from "./stages/body.ts";
import { classify } from "./stages/classify.ts";
import { collection } from "./stages/collection.ts";
import { decide } from "./stages/decide.ts";
import { filter } from "./stages/filter.ts";
import { forward } from "./stages/forward.ts";
import { gate } from "./stages/gate.ts";
import { impersonate } from "./stages/impersonate.ts";
import { inFlight } from "./stages/in-flight.ts";
import { justification } from "./stages/justification.ts";
import { mask } from "./stages/mask.ts";
import { objects } from "./stages/objects.ts";
import { record } from "./stages/record.ts";
import { route } from "./stages/route.ts";
import { scopes } from "./stages/scopes.ts";
import { selfReview } from "./stages/self-review.ts";
import { streamRecording } from "./stages/stream-recording.ts";
import { streamSlot } from "./stages/stream-slot.ts";
import { type Answer, DONE, type Flow, type Stage } from "./stages/types.ts";
import { upgradeProtocol } from "./stages/upgrade-protocol.ts";
import { upgradeTarget } from "./stages/upgrade-target.ts";

/** The stages, in order. */
export const STAGES: readonly Stage[] = [
  route, // which cluster
  authenticate, // credential → Principal; the session
  classify, // header and path hygiene, RequestInfo
  justification, // the one reason the request is sent with (header, MCP argument or credential)
  scopes, // what the credential itself allows
  inFlight, // requests in flight, in total and per identity
  body, // one strict reading of the body; write options; no masking markers
  objects, // the objects the matching rules read
  decide, // policy
  collection, // a deletecollection's objects, decided one by one
  gate, // review: wait for a human, or answer "approval required"
  record, // write-ahead audit: no record, no request
  impersonate, // the cluster sees the real caller
  upgradeTarget, // upgrades: pods exec, attach, portforward only
  selfReview, // kubectl auth can-i: RBAC combined with policy
  mask, // the masking obligation, resolved (fail closed)
  upgradeProtocol, // upgrades: WebSocket only
  streamSlot, // long-running requests: the identity's stream places
  filter, // lists and watches: only the items policy lets the caller read
  streamRecording, // exec, attach, port-forward: the recording is open first
  forward, // forward → transform → complete
];

export async function handleKubeRequest(
  gw: GatewayRuntime,
  req: IncomingMessage | Http2ServerRequest,
  res: AnyResponse,
  entry?: InternalEntry,
): Promise<void> {
  await run(newFlow(gw, req, { kind: "http", res }, entry));
}

export async function handleKubeUpgrade(
  gw: GatewayRuntime,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  entry?: InternalEntry,
): Promise<void> {
  socket.on("error", () => socket.destroy());
  await run(newFlow(gw, req, { kind: "socket", socket }, entry, head));
}

async function run(flow: Flow): Promise<void> {
  try {
    for (const stage of STAGES) {
      const result = await stage(flow);
      if (result === undefined) continue;
      if (result !== DONE) await refuse(flow, result);
      return;
    }
  } catch (err) {
    // A stage that throws after the write-ahead record still leaves the record complete (invariant: every request
    // the cluster may have seen has its completion). The listener answers the client and logs the error.
    if (flow.recorded && !flow.ctx.completed) {
      await completeAudit(
        flow.gw,
        flow.ctx,
        500,
        `the gateway failed handling the request: ${(err as Error).message}`,
      );
    }
    throw err;
  }
}

/** Answers a refusal, and audits it: as a refusal before the write-ahead record, as its completion after. */
async function refuse({ gw, ctx, answer, recorded }: Flow, status: Status): Promise<void> {
  // sendStatus sets Retry-After from the Status's retryAfterSeconds
  ctx.bytesOut =
    answer.kind === "http" ? sendStatus(answer.res, status) : sendStatusOnSocket(answer.socket, status);
  if (recorded) await completeAudit(gw, ctx, status.code, status.message);
  else await recordRefusal(gw, ctx, status);
}

function newFlow(
  gw: GatewayRuntime,
  req: IncomingMessage | Http2ServerRequest,
  answer: Answer,
  entry: InternalEntry | undefined,
  head?: Buffer,
): Flow {
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
  return {
    gw,
    ctx,
    req,
    answer,
    entry,
    ...(head ? { head } : {}),
    pathAndQuery: ctx.rawUrl,
    forward: [],
    gateNote: null,
    recorded: false,
    hidden: 0,
    closed: {},
  };
}
