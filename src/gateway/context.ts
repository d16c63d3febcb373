// The typed per-request context passed from stage to stage (STYLE.md: ctx.principal, ctx.kube, ctx.decision,
// ctx.audit). Each stage fills in its part; nothing downstream reads the raw request's credentials.
import type { IncomingHttpHeaders } from "node:http";
import type { AuditEvent, Decision, KubeRequest, Principal } from "./contracts.ts";

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
  /** The session the request belongs to (src/recording/sessions.ts), once the caller is authenticated. */
  sessionId?: string;
  bytesIn: number;
  bytesOut: number;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
