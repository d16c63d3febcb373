// The typed per-request context passed from stage to stage (STYLE.md: ctx.principal, ctx.kube, ctx.decision,
// ctx.audit). Each stage fills in its part; nothing downstream reads the raw request's credentials.
import type { IncomingHttpHeaders } from "node:http";
import type { AuditEvent } from "../audit/types.ts";
import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Decision } from "../policy/decision.ts";

/** The MCP tool call a request stands for (src/mcp): its session groups the calls, `command` is shown in it. */
export interface McpCall {
  tool: string;
  /** The tool and a summary of its arguments (long values such as manifests by size only). */
  command: string;
  session: string;
}

/**
 * A request that entered through the internal dispatch (src/gateway/dispatch.ts) rather than the network: it is
 * already authenticated (at /mcp, by the same authenticator chain), and every later stage runs as for any request.
 */
export interface InternalEntry {
  principal: Principal;
  /** The address of the client that made the call (the MCP client), for the audit event. */
  sourceAddress: string;
  mcp?: McpCall;
  /** Wait-mode reviews answer at once, as retry-mode ones do: MCP clients drop calls that block for minutes. */
  reviewsAnswerAtOnce?: boolean;
  /** The call's own justification (the MCP `justification` argument), as sent: checked like the header. */
  justification?: string;
  /**
   * A server-side dry run the gateway itself built (MCP k8s_diff, "no change" checks): a write with dryRun=All set by
   * gateway code, never from client input. Policy decides it as a `get` of the same object (it changes nothing and
   * answers with the object, masked as a get's answer is); a request carrying this flag that is not a dry-run write
   * is refused (src/gateway/stages/decide.ts). Only in-process code builds an InternalEntry.
   */
  gatewayDryRun?: boolean;
}

export interface RequestContext {
  /** The request id: also the audit event id and the `airlock.dev/request-id` impersonation extra. */
  id: string;
  startedAt: number;
  method: string;
  /** The request target as received (path and query). */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  sourceAddress: string;
  cluster: string;
  principal?: Principal;
  kube?: KubeRequest;
  decision?: Decision;
  audit?: AuditEvent;
  /** Set when the request is an MCP tool call's. */
  mcp?: McpCall;
  /** The session the request belongs to (src/recording/sessions.ts), once the caller is authenticated. */
  sessionId?: string;
  bytesIn: number;
  bytesOut: number;
  /** What masking did to the response (profile, values masked), for the request's log line. */
  masked?: { profile: string; masked: number };
  /** Set once the request's audit completion has been written (or given up): it is written once. */
  completed?: boolean;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
