// The garbage collector: deletes dependents whose owners are gone (background propagation), deletes an owner's
// dependents before the owner when it carries the `foregroundDeletion` finalizer, and strips owner references from
// dependents before letting an owner with the `orphan` finalizer go.
//
// It keeps a uid index of every object and owner reference seen on the watches, so finding dependents costs a map
// lookup, but it always re-reads the store before deleting anything: the index says where to look, the store decides.
// An owner reference to a kind the registry does not serve is treated as alive — never delete on a guess.
import type { KubeObject, ObjectMeta, OwnerReference, ResourceType, WatchEvent } from "../contracts.ts";
import { type ControllerContext, deleteObject, removeFinalizer } from "./context.ts";
import { apiGroupOf } from "./objects.ts";

interface Ref {
  type: ResourceType;
  namespace: string;
  name: string;
  uid: string;
}

export interface GarbageCollector {
  /** Called from every watch listener; only updates the index and enqueues. */
  observe(type: ResourceType, event: WatchEvent): void;
}

export function createGarbageCollector(ctx: ControllerContext): GarbageCollector {
  const objects = new Map<string, Ref>();
  const ownersOf = new Map<string, string[]>();
  const dependentsOf = new Map<string, Set<string>>();

  const link = (uid: string, owners: string[]) => {
    for (const o of ownersOf.get(uid) ?? []) dependentsOf.get(o)?.delete(uid);
    if (owners.length === 0) ownersOf.delete(uid);
    else ownersOf.set(uid, owners);
    for (const o of owners) {
      const set = dependentsOf.get(o) ?? new Set<string>();
      dependentsOf.set(o, set);
      set.add(uid);
    }
  };

  const read = (ref: Ref): KubeObject | undefined => {
    const obj = ctx.store.get(ref.type, ref.namespace, ref.name);
    return obj?.metadata.uid === ref.uid ? obj : undefined;
  };

  const ownerAlive = (dependent: KubeObject, ref: OwnerReference): boolean => {
    const ownerType = ctx.registry.byKind(apiGroupOf(ref.apiVersion), ref.kind);
    if (!ownerType) return true;
    const ns = ownerType.namespaced ? (dependent.metadata.namespace ?? "") : "";
    return ctx.store.get(ownerType, ns, ref.name)?.metadata.uid === ref.uid;
  };

  /** Live dependents of an owner, re-read from the store. */
  const dependents = (ownerUid: string): { ref: Ref; obj: KubeObject }[] => {
    const out: { ref: Ref; obj: KubeObject }[] = [];
    for (const uid of dependentsOf.get(ownerUid) ?? []) {
      const ref = objects.get(uid);
      const obj = ref && read(ref);
      if (ref && obj?.metadata.ownerReferences?.some((r) => r.uid === ownerUid)) out.push({ ref, obj });
    }
    return out;
  };

  function attemptToDelete(ref: Ref): void {
    const obj = read(ref);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const alive = refs.filter((r) => ownerAlive(obj, r));
    if (alive.length === 0) {
      deleteObject(ctx, ref.type, obj, "Background");
    } else if (alive.length < refs.length) {
      ctx.store.update(ref.type, { ...obj, metadata: { ...obj.metadata, ownerReferences: alive } });
    }
  }

  function processDeleting(ref: Ref): void {
    const owner = read(ref);
    if (!owner?.metadata.deletionTimestamp) return;
    const finalizers = owner.metadata.finalizers ?? [];
    if (finalizers.includes("orphan")) {
      for (const { ref: depRef, obj } of dependents(ref.uid)) {
        const ownerReferences = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
        const metadata: ObjectMeta = { ...obj.metadata, ownerReferences };
        if (ownerReferences.length === 0) delete metadata.ownerReferences;
        ctx.store.update(depRef.type, { ...obj, metadata });
      }
      removeFinalizer(ctx, ref.type, owner, "orphan");
    } else if (finalizers.includes("foregroundDeletion")) {
      const deps = dependents(ref.uid);
      for (const { ref: depRef, obj } of deps) {
        const hasOwn = dependents(depRef.uid).length > 0;
        deleteObject(ctx, depRef.type, obj, hasOwn ? "Foreground" : "Background");
      }
      // Removals above emit DELETED events that requeue us; only an owner with nothing left may go.
      if (dependents(ref.uid).length === 0) removeFinalizer(ctx, ref.type, owner, "foregroundDeletion");
    }
    // With no finalizers of ours there is nothing to do: the store completes a deletion when the last finalizer goes,
    // and others' finalizers (a namespace's spec.finalizers) are theirs to clear.
  }

  const enqueueDependent = (ref: Ref) => ctx.queue.add(`gc-dependent|${ref.uid}`, () => attemptToDelete(ref));
  const enqueueOwner = (ref: Ref) => ctx.queue.add(`gc-owner|${ref.uid}`, () => processDeleting(ref));

  return {
    observe(type, event) {
      const meta = event.object.metadata;
      const uid = meta.uid;
      if (!uid || event.type === "BOOKMARK" || event.type === "ERROR") return;
      const ref: Ref = { type, namespace: meta.namespace ?? "", name: meta.name ?? "", uid };
      const owners = (meta.ownerReferences ?? []).map((r) => r.uid);
      if (event.type === "DELETED") {
        objects.delete(uid);
        link(uid, []);
        for (const o of owners) {
          const ownerRef = objects.get(o);
          if (ownerRef) enqueueOwner(ownerRef);
        }
        for (const d of dependentsOf.get(uid) ?? []) {
          const depRef = objects.get(d);
          if (depRef) enqueueDependent(depRef);
        }
        dependentsOf.delete(uid);
        return;
      }
      const before = (ownersOf.get(uid) ?? []).join(",");
      objects.set(uid, ref);
      link(uid, owners);
      if (meta.deletionTimestamp) enqueueOwner(ref);
      if (owners.length > 0 && (event.type === "ADDED" || before !== owners.join(","))) enqueueDependent(ref);
    },
  };
}
