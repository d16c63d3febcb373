// What every stage of the pipeline (../pipeline.ts) receives and returns. A stage reads and fills in the Flow of one
// request, then either lets it go on (undefined), refuses it with a Status (the pipeline answers it and audits the
// refusal), or says it answered and audited the request itself (DONE).
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Duplex } from "node:stream";
import type { Principal } from "../../identity/types.ts";
import type { KubeRequest } from "../../kube/request.ts";
import type { Status } from "../../kube/status.ts";
import type { ActiveRecording } from "../../recording/service.ts";
import type { Upstream } from "../../upstream/index.ts";
import type { ExpandedCollection } from "../collection.ts";
import type { InternalEntry, RequestContext } from "../context.ts";
import type { AnyResponse } from "../respond.ts";
import type { GatewayRuntime } from "../runtime.ts";
import type { StdinLineGate } from "../stdin-inspect.ts";
import type { StageMasking } from "../transform/stage.ts";

/** Where the answer goes: an HTTP response, or the socket of a protocol upgrade (exec, attach, port-forward). */
export type Answer = { kind: "http"; res: AnyResponse } | { kind: "socket"; socket: Duplex };

/** The stage answered the request and completed its audit record; the pipeline stops. */
export const DONE = Symbol("done");

export type StageResult = undefined | Status | typeof DONE;

/** One stage: the one signature every stage has. */
export type Stage = (flow: Flow) => Promise<StageResult>;

/** One request on its way through the stages. */
export interface Flow {
  readonly gw: GatewayRuntime;
  /** The typed context: principal, kube, decision, audit (context.ts). */
  readonly ctx: RequestContext;
  readonly req: IncomingMessage | Http2ServerRequest;
  readonly answer: Answer;
  /** Set when the request entered through the internal dispatch (MCP tool calls), already authenticated. */
  readonly entry: InternalEntry | undefined;
  /** Upgrades: the bytes read past the request head. */
  readonly head?: Buffer;
  /** The target without a /k8s/<cluster> prefix (route). */
  pathAndQuery: string;
  upstream?: Upstream;
  /** The client's headers that may be forwarded (classify), then the impersonation of the caller (impersonate). */
  forward: [string, string][];
  /** The body as forwarded: the JSON of the one reading (body). */
  body?: Buffer;
  /** A deletecollection checked object by object: forwarded as one precondition-bound delete each (collection). */
  collection?: ExpandedCollection;
  /** The review or grant that released a request (gate), for its audit event. */
  gateNote: string | null;
  /** The write-ahead audit record is committed (record): refusals from here on complete it. */
  recorded: boolean;
  /** The decision's masking obligation (mask). */
  masking?: StageMasking;
  /** How many items policy left out of a list or watch (filter). */
  hidden: number;
  /** The stream's recording (stream-recording), and the stdin line check of an exec (forward). */
  recording?: ActiveRecording;
  stdinGate?: StdinLineGate;
  /** Why airlock closed the stream (revocation, expiry, shutdown), for the audit completion. */
  closed: { reason?: string };
}

/** The classified request and its caller: present from classify on (the stage order guarantees it). */
export function admitted(flow: Flow): { kube: KubeRequest; principal: Principal; upstream: Upstream } {
  const { kube, principal } = flow.ctx;
  if (!kube || !principal || !flow.upstream)
    throw new Error("pipeline: a stage ran before route/authenticate/classify");
  return { kube, principal, upstream: flow.upstream };
}

/** The masking obligation: present from the mask stage on (a stage that needs it never runs without it). */
export function maskingOf(flow: Flow): StageMasking {
  if (!flow.masking) throw new Error("pipeline: a stage ran before mask");
  return flow.masking;
}

/** Long-running requests hold a stream place instead of an in-flight one, and have no upstream timeout. */
export function isLongRunning(kube: KubeRequest): boolean {
  return (
    kube.info.verb === "watch" ||
    kube.info.verb === "proxy" ||
    ["attach", "exec", "proxy", "log", "portforward"].includes(kube.info.subresource)
  );
}
