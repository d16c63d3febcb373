// The classify stage: the raw request (method, target, headers) → a KubeRequest that policy can decide on.
//
// Order matters and is fixed here: path hygiene on the raw target, then RequestInfo on the decoded path, then exec and
// attach parameters. Every step fails closed with a Status; nothing here normalises a request into a different one.
// The caller strips any /k8s/<cluster> routing prefix before calling and forwards the raw target it classified.

import type { KubeRequest } from "../request.ts";
import { actionOf, parseExecQuery } from "./exec.ts";
import { resolveRequestInfo } from "./requestinfo.ts";
import { badRequest, ok, type Result } from "./result.ts";
import { checkRequestTarget } from "./target.ts";

export { actionOf, parseExecQuery } from "./exec.ts";
export { IMPERSONATION_REFUSED, inspectClientHeaders } from "./headers.ts";
export { resolveRequestInfo } from "./requestinfo.ts";
export type { Result } from "./result.ts";
export { checkRequestTarget, MAX_PATH_LENGTH, MAX_TARGET_LENGTH, type RequestTarget } from "./target.ts";

export function classifyRequest(method: string, rawUrl: string, cluster: string): Result<KubeRequest> {
  const target = checkRequestTarget(rawUrl);
  if (!target.ok) return target;
  const { path, query } = target.value;
  const info = resolveRequestInfo(method, path, query);
  if (!info.ok) return info;
  const request: KubeRequest = { info: info.value, action: actionOf(info.value), cluster, query };
  const sub = info.value.subresource;
  if (info.value.verb !== "proxy" && (sub === "exec" || sub === "attach")) {
    // Attach joins the container's running process: an argv here would be ignored upstream yet read by policy.
    if (sub === "attach" && query.has("command")) return badRequest('"command" is not a parameter of attach');
    const exec = parseExecQuery(query);
    if (!exec.ok) return exec;
    request.exec = exec.value;
  }
  return ok(request);
}
