// decide (its input): the objects a write is about, loaded before policy runs — only those that a rule which could
// match reads (Decider.objectNeeds), through one loader per request (src/review/object-context.ts) that acts as the
// requester (same impersonation) and sends exactly the body that will be forwarded.
//
// Fail closed: an object that is needed and cannot be had refuses the request with the loader's Status.

import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import { type ObjectLoader, objectLoader } from "../review/object-context.ts";
import { impersonationHeaders } from "../upstream/impersonation.ts";
import type { Upstream } from "../upstream/index.ts";
import type { Decider } from "./decide.ts";

export interface ObjectStageInput {
  decider: Decider;
  upstream: Upstream | undefined;
  principal: Principal;
  requestId: string;
  kube: KubeRequest;
  method: string;
  pathAndQuery: string;
  /** The body and Content-Type exactly as they will be forwarded. */
  body: Buffer | undefined;
  contentType: string | undefined;
}

/** A write that creates its object when it does not exist: a server-side apply, or a PUT (create-on-update). */
function mayCreate(input: Omit<ObjectStageInput, "decider">): boolean {
  const { info } = input.kube;
  if (!info.isResourceRequest || info.subresource !== "" || !info.name) return false;
  if (input.method === "PUT" && info.verb === "update") return true;
  const type = (input.contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return input.method === "PATCH" && info.verb === "patch" && type === "application/apply-patch+yaml";
}

/** A loader for this request (also for later stages: the review preview reuses what was read). */
export function loaderFor(input: Omit<ObjectStageInput, "decider">): ObjectLoader | undefined {
  if (!input.upstream) return undefined;
  return objectLoader(
    {
      upstream: input.upstream,
      kube: input.kube,
      method: input.method,
      pathAndQuery: input.pathAndQuery,
      impersonation:
        input.upstream.impersonate === false ? [] : impersonationHeaders(input.principal, input.requestId),
      body: input.body,
      contentType: input.contentType,
    },
    input.kube.body,
  );
}

/**
 * Fills in `kube.oldObject` / `kube.object` where policy needs them. Returns the loader used (undefined when nothing
 * was needed) or the Status to refuse with.
 */
export async function loadNeededObjects(
  input: ObjectStageInput,
): Promise<{ ok: true; loader: ObjectLoader | undefined } | { ok: false; status: Status }> {
  let loader: ObjectLoader | undefined;
  // The cluster's verb: a server-side apply (or a PUT, for the types that allow create-on-update) of an object that
  // does not exist creates it, and kube-apiserver authorizes that as `create` (handlers/patch.go, update.go) — so
  // policy decides it as one (fail closed: no answer, no request).
  if (mayCreate(input)) {
    loader = loaderFor(input);
    const stored = await loader?.stored();
    if (stored && !stored.ok) return stored;
    if (stored?.object === null) input.kube.action = "create";
    if (stored) input.kube.oldObject = stored.object;
  }
  const needs = input.decider.objectNeeds?.(input.principal, input.kube);
  if (!needs || (!needs.stored && !needs.result)) return { ok: true, loader };
  loader ??= loaderFor(input);
  if (!loader) return { ok: true, loader: undefined }; // no cluster: routing refuses it
  const [stored, resulting] = await Promise.all([
    needs.stored ? loader.stored() : undefined,
    needs.result ? loader.resulting() : undefined,
  ]);
  if (stored && !stored.ok) return stored;
  if (resulting && !resulting.ok) return resulting;
  if (stored) input.kube.oldObject = stored.object;
  if (resulting) input.kube.object = resulting.object;
  return { ok: true, loader };
}
