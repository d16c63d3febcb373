// create, update (PUT) and patch (JSON, merge, strategic merge, server-side apply) of objects and of their status
// subresource. managedFields are kept by the patch module (trackUpdate / serverSideApply).
//
// Failure stance: every refusal comes from kube-apiserver's catalogue — 404 for a missing object or namespace, 403
// for new content in a terminating namespace, 409 AlreadyExists / Conflict, 422 Invalid, 415 for an unknown patch
// type. dryRun=All runs every check and stores nothing.
import type { IncomingMessage } from "node:http";
import { forbiddenError } from "../auth/forbidden.ts";
import type { KubeObject, ResourceType, SimRequest, UserInfo } from "../contracts.ts";
import { crdTypes } from "../crd.ts";
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  serverSideApply,
  trackUpdate,
} from "../patch/index.ts";
import { apiVersionOf } from "../registry.ts";
import { StatusError } from "../status.ts";
import { notFound, qualifiedResource } from "../store.ts";
import { asObject, decodeObjectBody, decodePatchBody, type PatchType, patchTypeOf } from "./body.ts";
import type { ApiContext } from "./context.ts";
import { timestamp } from "./context.ts";
import { validateFields } from "./field-validation.ts";
import { applyCreateDefaults, checkObject, invalid, stripServerFields } from "./prepare.ts";
import { type Writer, writerFor } from "./writer.ts";

function authorizeCreate(ctx: ApiContext, route: SimRequest, user: UserInfo): void {
  if (user.username === "system:anonymous") return;
  const attrs = {
    user,
    verb: "create",
    resourceRequest: true,
    apiGroup: route.apiGroup,
    apiVersion: route.apiVersion,
    namespace: route.namespace,
    resource: route.resource,
    subresource: route.subresource,
    name: route.name,
    path: route.path,
  };
  const decision = ctx.auth.authorizer.authorize(attrs);
  if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
}

export interface WriteResult {
  code: number;
  object: KubeObject;
  /** `Warning` header values (fieldValidation=Warn). */
  warnings?: string[];
}

/** The field manager of a write: the query parameter, else the client's user-agent prefix, as kube-apiserver does. */
export function fieldManagerOf(route: SimRequest, req: IncomingMessage): string {
  const explicit = route.query.get("fieldManager");
  if (explicit) return explicit;
  return (req.headers["user-agent"] ?? "unknown").split("/")[0] ?? "unknown";
}

export function decodeBody(ctx: ApiContext, req: IncomingMessage, body: Buffer): Record<string, unknown> {
  return asObject(
    decodeObjectBody(req.headers["content-type"], body, (b) => ctx.auth.decodeProtobuf(b)),
    "the request body",
  );
}

function ensureNamespaceAccepts(ctx: ApiContext, type: ResourceType, obj: KubeObject) {
  if (!type.namespaced) return;
  const nsType = ctx.registry.find("", "v1", "namespaces");
  if (!nsType) return;
  const ns = ctx.store.get(nsType, "", obj.metadata.namespace ?? "");
  if (!ns) throw notFound(nsType, obj.metadata.namespace ?? "");
  if (ns.metadata.deletionTimestamp) {
    throw StatusError.of(
      "Forbidden",
      `${qualifiedResource(type)} "${obj.metadata.name ?? ""}" is forbidden: unable to create new content in namespace ${ns.metadata.name} because it is being terminated`,
      { name: obj.metadata.name ?? "", group: type.group, kind: type.resource },
    );
  }
}

function createObject(
  ctx: ApiContext,
  writer: Writer,
  type: ResourceType,
  obj: KubeObject,
  manager: string,
): KubeObject {
  stripServerFields(obj);
  applyCreateDefaults(type, obj);
  ensureNamespaceAccepts(ctx, type, obj);
  if (type.group === "apiextensions.k8s.io" && type.resource === "customresourcedefinitions") crdTypes(obj);
  const tracked = trackUpdate(undefined, obj, {
    manager,
    operation: "Update",
    apiVersion: apiVersionOf(type),
    now: timestamp(ctx),
  });
  return writer.create(type, tracked);
}

export function handleCreate(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
): WriteResult {
  const obj = checkObject(type, { ...route, name: "" }, decodeBody(ctx, req, body));
  const warnings = validateFields(type, route, obj);
  return {
    code: 201,
    object: createObject(ctx, writerFor(ctx, route), type, obj, fieldManagerOf(route, req)),
    warnings,
  };
}

/**
 * The merge rules of an update: the server's identity and deletion fields survive whatever the client sent; the
 * main resource cannot change status and the status subresource can change nothing else.
 */
function mergeForUpdate(
  type: ResourceType,
  subresource: string,
  live: KubeObject,
  next: KubeObject,
): KubeObject {
  let out: KubeObject;
  if (subresource === "status") {
    out = { ...structuredClone(live), status: next.status };
    out.metadata.resourceVersion = next.metadata.resourceVersion ?? live.metadata.resourceVersion;
  } else {
    out = next;
    if (type.subresources.includes("status")) {
      if (live.status === undefined) delete out.status;
      else out.status = structuredClone(live.status);
    }
  }
  const meta = out.metadata;
  meta.uid = live.metadata.uid;
  meta.creationTimestamp = live.metadata.creationTimestamp;
  if (live.metadata.deletionTimestamp) {
    meta.deletionTimestamp = live.metadata.deletionTimestamp;
    if (live.metadata.deletionGracePeriodSeconds !== undefined) {
      meta.deletionGracePeriodSeconds = live.metadata.deletionGracePeriodSeconds;
    }
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  meta.generation = live.metadata.generation;
  if (!meta.resourceVersion) meta.resourceVersion = live.metadata.resourceVersion;
  return out;
}

function commitUpdate(
  ctx: ApiContext,
  writer: Writer,
  type: ResourceType,
  route: SimRequest,
  live: KubeObject,
  next: KubeObject,
  manager: string,
): KubeObject {
  const merged = mergeForUpdate(type, route.subresource, live, next);
  const tracked = trackUpdate(live, merged, {
    manager,
    operation: "Update",
    apiVersion: apiVersionOf(type),
    now: timestamp(ctx),
    ...(route.subresource ? { subresource: route.subresource } : {}),
  });
  return writer.update(type, tracked);
}

export function handleUpdate(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
): WriteResult {
  const next = checkObject(type, route, decodeBody(ctx, req, body));
  const warnings = validateFields(type, route, next);
  const live = ctx.store.get(type, route.namespace, route.name);
  if (!live) throw notFound(type, route.name);
  const writer = writerFor(ctx, route);
  return {
    code: 200,
    object: commitUpdate(ctx, writer, type, route, live, next, fieldManagerOf(route, req)),
    warnings,
  };
}

function applyPatch(patchType: PatchType, type: ResourceType, live: KubeObject, patch: unknown): KubeObject {
  switch (patchType) {
    case "json":
      return applyJsonPatch(live, patch);
    case "merge":
      return applyMergePatch(live, asObject(patch, "a merge patch"));
    case "strategic":
      return applyStrategicMergePatch(live, asObject(patch, "a strategic merge patch"), type.kind);
    case "apply":
      throw new Error("server-side apply is not a plain patch");
  }
}

export function handlePatch(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
  user?: UserInfo,
): WriteResult {
  const patchType = patchTypeOf(req.headers["content-type"]);
  const patch = decodePatchBody(patchType, body);
  const writer = writerFor(ctx, route);
  const live = ctx.store.get(type, route.namespace, route.name);
  if (patchType === "apply") {
    const manager = route.query.get("fieldManager");
    if (!manager) {
      throw invalid(
        "PatchOptions",
        "meta.k8s.io",
        "",
        "fieldManager",
        "Required value: is required for apply patch",
      );
    }
    const applied = checkObject(type, route, asObject(patch, "an apply configuration"));
    const warnings = validateFields(type, route, applied);
    const result = serverSideApply(live, applied, {
      manager,
      force: route.query.get("force") === "true",
      apiVersion: apiVersionOf(type),
      now: timestamp(ctx),
    });
    if (!live) {
      // kube-apiserver (handlers/patch.go) authorizes an apply that creates as `create` too, beyond the `patch` the
      // request was admitted with.
      if (user) authorizeCreate(ctx, route, user);
      stripServerFields(result);
      applyCreateDefaults(type, result);
      ensureNamespaceAccepts(ctx, type, result);
      return { code: 201, object: writer.create(type, result), warnings };
    }
    const merged = mergeForUpdate(type, route.subresource, live, result);
    return { code: 200, object: writer.update(type, merged), warnings };
  }
  if (!live) throw notFound(type, route.name);
  const patched = applyPatch(patchType, type, live, patch);
  // A merge or strategic patch is checked itself (fields already stored are not the client's doing now); a JSON
  // patch has no object shape, so its result is.
  const warnings = validateFields(type, route, patchType === "json" ? patched : patch);
  const next = checkObject(type, route, asObject(patched, "the patched object"));
  return {
    code: 200,
    object: commitUpdate(ctx, writer, type, route, live, next, fieldManagerOf(route, req)),
    warnings,
  };
}
