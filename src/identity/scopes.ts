// Credential scopes, checked after classification and before policy: limits a credential carries whatever the
// policy would allow. Pure, table-tested.
//
// Fail closed: read-only means get, list and watch on resources, and GET/HEAD on non-resource paths (discovery,
// /version, /openapi); every other action — including exec, attach, port-forward and proxy, which ride on GET —
// is refused with a 403 that names the scope.

import { scopeRefused } from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import type { Principal } from "./types.ts";

const READ_ACTIONS = new Set(["get", "list", "watch"]);

export type ScopeResult = { ok: true } | { ok: false; status: Status };

export function checkScopes(principal: Principal, kube: KubeRequest, method: string): ScopeResult {
  const scopes = principal.scopes;
  if (!scopes) return { ok: true };
  if (scopes.clusters && !scopes.clusters.includes(kube.cluster)) {
    return refuse(
      principal,
      kube,
      `the credential's scope "clusters: ${scopes.clusters.join(", ") || "<none>"}" does not include cluster "${kube.cluster}"`,
    );
  }
  if (scopes.readOnly) {
    const read = kube.info.isResourceRequest
      ? READ_ACTIONS.has(kube.action)
      : method === "GET" || method === "HEAD";
    if (!read)
      return refuse(principal, kube, `the credential's scope "read-only" does not allow ${kube.action}`);
  }
  return { ok: true };
}

function refuse(principal: Principal, kube: KubeRequest, why: string): ScopeResult {
  return { ok: false, status: scopeRefused(kube, principal.name, why) };
}
