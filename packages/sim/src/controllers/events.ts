// Core v1 Events, so that `kubectl describe` shows what the controllers did. Best effort and bounded: a failed write
// is logged and dropped (an Event is never worth failing a reconcile for), a repeat of the same event bumps `count`,
// and beyond MAX_EVENTS the oldest events this recorder wrote are deleted.
import type { KubeObject, ObjectStore, ResourceType } from "../contracts.ts";
import type { Log } from "./queue.ts";

export interface EventRecorder {
  record(
    obj: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    component: string,
  ): void;
}

export const MAX_EVENTS = 500;

interface Written {
  namespace: string;
  name: string;
  dedupe: string;
}

export function createEventRecorder(
  store: ObjectStore,
  eventType: ResourceType | undefined,
  now: () => Date,
  log: Log,
  max = MAX_EVENTS,
  /** Namespaces being torn down take no new events, or they would never empty. */
  namespaceClosed: (namespace: string) => boolean = () => false,
): EventRecorder {
  const written: Written[] = [];
  const byDedupe = new Map<string, Written>();
  let seq = 0;

  function evictOldest(): void {
    while (written.length > max) {
      const old = written.shift();
      if (!old || !eventType) break;
      byDedupe.delete(old.dedupe);
      if (store.get(eventType, old.namespace, old.name)) store.remove(eventType, old.namespace, old.name);
    }
  }

  return {
    record(obj, type, reason, message, component) {
      if (!eventType) return;
      const namespace = obj.metadata.namespace || "default";
      if (namespaceClosed(namespace)) return;
      const time = now();
      const stamp = time.toISOString().replace(/\.\d+Z$/, "Z");
      const dedupe = `${obj.metadata.uid}|${type}|${reason}|${message}`;
      try {
        const prior = byDedupe.get(dedupe);
        const existing = prior && store.get(eventType, prior.namespace, prior.name);
        if (existing) {
          store.update(eventType, {
            ...existing,
            count: ((existing.count as number | undefined) ?? 1) + 1,
            lastTimestamp: stamp,
          });
          return;
        }
        seq = (seq + 1) % 1000;
        const name = `${obj.metadata.name}.${(BigInt(time.getTime()) * 1_000_000n + BigInt(seq)).toString(16)}`;
        store.create(eventType, {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
          reason,
          message,
          type,
          count: 1,
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          eventTime: null,
          source: { component, ...(component === "kubelet" ? { host: "sim-node-1" } : {}) },
          reportingComponent: component,
          reportingInstance: component === "kubelet" ? "sim-node-1" : "",
        });
        const entry = { namespace, name, dedupe };
        written.push(entry);
        byDedupe.set(dedupe, entry);
        evictOldest();
      } catch (err) {
        log(`event ${reason} for ${obj.kind} ${namespace}/${obj.metadata.name} not recorded`, err);
      }
    },
  };
}
