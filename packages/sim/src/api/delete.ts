// delete and deletecollection with kube-apiserver's deletion semantics: preconditions, propagationPolicy
// (Background: delete now, dependents go to the garbage collector; Foreground: the `foregroundDeletion` finalizer
// holds the owner until the collector removes dependents; Orphan: dependents lose their ownerReference), finalizers
// (the object gets deletionTimestamp and stays until they are gone) and the namespace lifecycle (Terminating, then
// the namespace controller empties it and removes the `kubernetes` finalizer).
//
// Failure stance: a failed precondition is 409 Conflict; a bad DeleteOptions body is 400; nothing is half-deleted.
import type { IncomingMessage } from "node:http";
import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { apiVersionOf } from "../registry.ts";
import { StatusError } from "../status.ts";
import { conflict, notFound } from "../store.ts";
import { asObject, decodeOptionsBody } from "./body.ts";
import type { ApiContext } from "./context.ts";
import { timestamp } from "./context.ts";
import { listPage } from "./read.ts";
import { type Writer, writerFor } from "./writer.ts";

interface DeleteOptions {
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
  dryRun?: string[];
}

/**
 * DeleteOptions as kube-apiserver reads them (handlers/delete.go): from the body when there is one — and then the
 * query's dryRun, gracePeriodSeconds, propagationPolicy are ignored — else from the query.
 */
export function parseDeleteOptions(route: SimRequest, body: Buffer, contentType?: string): DeleteOptions {
  let opts: DeleteOptions = {};
  if (body.length > 0) {
    opts = asObject(decodeOptionsBody(contentType, body), "DeleteOptions") as DeleteOptions;
  } else {
    const policy = route.query.get("propagationPolicy");
    if (policy) opts.propagationPolicy = policy;
    const grace = route.query.get("gracePeriodSeconds");
    if (grace !== null) opts.gracePeriodSeconds = Number(grace);
    const orphan = route.query.get("orphanDependents");
    if (orphan !== null) opts.orphanDependents = orphan === "true";
    const dry = route.query.getAll("dryRun");
    if (dry.length) opts.dryRun = dry;
  }
  for (const v of opts.dryRun ?? []) {
    if (v !== "All") {
      throw StatusError.of(
        "Invalid",
        `DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "${v}": supported values: "All"`,
      );
    }
  }
  if (opts.orphanDependents === true && !opts.propagationPolicy) opts.propagationPolicy = "Orphan";
  if (opts.propagationPolicy && !["Background", "Foreground", "Orphan"].includes(opts.propagationPolicy)) {
    throw StatusError.of(
      "Invalid",
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  return opts;
}

/** Orphan: dependents in the owner's namespace (or anywhere, for a cluster-scoped owner) drop the ownerReference. */
function orphanDependents(ctx: ApiContext, writer: Writer, owner: KubeObject) {
  if (writer.dryRun) return;
  const uid = owner.metadata.uid;
  for (const type of ctx.registry.all()) {
    if (!type.verbs.includes("list")) continue;
    for (const obj of ctx.store.list(type, owner.metadata.namespace ?? "").items) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      obj.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
      if (obj.metadata.ownerReferences.length === 0) delete obj.metadata.ownerReferences;
      writer.update(type, obj);
    }
  }
}

/** Deletes one object; returns what kube-apiserver answers: the object (still present or as it was deleted). */
export function deleteObject(
  ctx: ApiContext,
  writer: Writer,
  type: ResourceType,
  live: KubeObject,
  opts: DeleteOptions,
): KubeObject {
  const name = live.metadata.name ?? "";
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== live.metadata.uid) {
    throw conflict(
      type,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`,
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
    throw conflict(
      type,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`,
    );
  }
  const meta = live.metadata;
  const isNamespace = type.group === "" && type.resource === "namespaces";
  if (meta.deletionTimestamp) return live; // already being deleted: deleting again changes nothing
  if (opts.propagationPolicy === "Orphan") orphanDependents(ctx, writer, live);
  const finalizers = [...(meta.finalizers ?? [])];
  if (opts.propagationPolicy === "Foreground" && !finalizers.includes("foregroundDeletion")) {
    finalizers.push("foregroundDeletion");
  }
  if (isNamespace || finalizers.length > 0) {
    const next = structuredClone(live);
    next.metadata.deletionTimestamp = timestamp(ctx);
    next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? 0;
    if (finalizers.length > 0) next.metadata.finalizers = finalizers;
    if (isNamespace) next.status = { ...(next.status as object | undefined), phase: "Terminating" };
    return writer.update(type, next);
  }
  return writer.remove(type, meta.namespace ?? "", name);
}

export function handleDelete(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  body: Buffer,
  contentType?: string,
): KubeObject {
  const opts = parseDeleteOptions(route, body, contentType);
  const live = ctx.store.get(type, route.namespace, route.name);
  if (!live) throw notFound(type, route.name);
  return deleteObject(ctx, writerFor(ctx, route, Boolean(opts.dryRun?.length)), type, live, opts);
}

export function handleDeleteCollection(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
): KubeObject {
  const opts = parseDeleteOptions(route, body, req.headers["content-type"]);
  const writer = writerFor(ctx, route, Boolean(opts.dryRun?.length));
  const page = listPage(ctx, type, { ...route, query: withoutPaging(route.query) });
  const items = page.items.map((obj) => deleteObject(ctx, writer, type, obj, opts));
  return {
    kind: type.listKind,
    apiVersion: apiVersionOf(type),
    metadata: { resourceVersion: String(ctx.store.currentResourceVersion()) },
    items,
  } as KubeObject;
}

function withoutPaging(query: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams(query);
  q.delete("limit");
  q.delete("continue");
  return q;
}
