// What every controller gets: the store and registry, the clock, the work queue, the event recorder, and the two
// write helpers that carry kube-apiserver's deletion rules (finalizers keep an object; none left removes it), since
// controllers write through the bare store rather than through the API layer.
import type { KubeObject, ObjectStore, ResourceRegistry, ResourceType } from "../contracts.ts";
import type { EventRecorder } from "./events.ts";
import type { Log, WorkQueue } from "./queue.ts";

export interface ControllerContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  queue: WorkQueue;
  events: EventRecorder;
  log: Log;
  clock: () => Date;
  /** metav1.Time: RFC 3339, second precision. */
  now(): string;
  /** The served type for a well-known resource, or undefined when the registry does not serve it. */
  type(group: string, version: string, resource: string): ResourceType | undefined;
}

export const NODE_NAME = "sim-node-1";
export const NODE_IP = "10.0.0.10";

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export type Propagation = "Background" | "Foreground" | "Orphan";

/**
 * Deletes as the API server would: an object with finalizers (or a propagation that needs one) only gets its
 * deletionTimestamp; an object without is removed now. Already-terminating or vanished objects are left alone.
 */
export function deleteObject(
  ctx: ControllerContext,
  type: ResourceType,
  obj: KubeObject,
  propagation: Propagation = "Background",
): void {
  if (obj.metadata.deletionTimestamp) return;
  const finalizers = [...(obj.metadata.finalizers ?? [])];
  if (propagation === "Foreground" && !finalizers.includes("foregroundDeletion"))
    finalizers.push("foregroundDeletion");
  if (propagation === "Orphan" && !finalizers.includes("orphan")) finalizers.push("orphan");
  const ns = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  if (finalizers.length === 0) {
    if (ctx.store.get(type, ns, name)?.metadata.uid === obj.metadata.uid) ctx.store.remove(type, ns, name);
    return;
  }
  ctx.store.update(type, {
    ...obj,
    metadata: { ...obj.metadata, finalizers, deletionTimestamp: ctx.now(), deletionGracePeriodSeconds: 0 },
  });
}

/** Drops one finalizer; a terminating object whose last finalizer goes is removed, as the API server does. */
export function removeFinalizer(
  ctx: ControllerContext,
  type: ResourceType,
  obj: KubeObject,
  finalizer: string,
): void {
  const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  const ns = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  if (finalizers.length === 0 && obj.metadata.deletionTimestamp) {
    ctx.store.remove(type, ns, name);
    return;
  }
  ctx.store.update(type, { ...obj, metadata: { ...obj.metadata, finalizers } });
}

/** Namespaces being torn down accept no new content, as the NamespaceLifecycle admission plugin enforces. */
export function namespaceTerminating(ctx: ControllerContext, namespace: string): boolean {
  const nsType = ctx.type("", "v1", "namespaces");
  if (!nsType || !namespace) return false;
  const ns = ctx.store.get(nsType, "", namespace);
  return !!ns?.metadata.deletionTimestamp;
}
