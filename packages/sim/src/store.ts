// The simulator's object store: every object of every type in memory, one cluster-wide resourceVersion counter (like
// etcd's revision) and a bounded event history that watches replay from.
//
// Failure stance: every refusal is a StatusError with kube-apiserver's reason and message (NotFound, AlreadyExists,
// Conflict, Expired). Objects are deep-copied on the way in and out, so no caller can change stored state by
// mutating what it got back. One kube-apiserver rule lives here because every writer (the API layer and the
// controllers) must obey it: an update that leaves an object being deleted with no finalizers completes the deletion.
import { randomUUID } from "node:crypto";
import type { KubeObject, ListResult, ObjectStore, ResourceType, WatchEvent } from "./contracts.ts";
import { StatusError } from "./status.ts";

export interface MemoryStoreOptions {
  /** How many events the history keeps; a watch from before them gets 410 Expired. */
  historyLimit?: number;
  now?: () => Date;
}

interface HistoryEntry {
  rv: number;
  typeKey: string;
  namespace: string;
  event: WatchEvent;
  /** The object before a MODIFIED event: a stored version no longer in the map, so never mutated again. */
  previous?: KubeObject;
}

interface Watcher {
  typeKey: string;
  namespace: string;
  listener: (event: WatchEvent, previous?: KubeObject) => void;
}

export interface MemoryStore extends ObjectStore {
  /** Events older than this version are gone: watching or continuing from before it gets 410. */
  compactedResourceVersion(): number;
}

/** "deployments.apps" or "pods": how kube-apiserver names a resource in messages. */
export function qualifiedResource(type: ResourceType): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

export function notFound(type: ResourceType, name: string): StatusError {
  return StatusError.of("NotFound", `${qualifiedResource(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.resource,
  });
}

export function conflict(type: ResourceType, name: string, why: string): StatusError {
  return StatusError.of(
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`,
    {
      name,
      group: type.group,
      kind: type.resource,
    },
  );
}

export const STALE_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

// The alphabet apiserver's generateName suffix uses: no vowels (no words) and no look-alike characters.
const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)];
  return s;
}

function typeKeyOf(type: ResourceType): string {
  return `${type.group}/${type.resource}`;
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The parts of an object whose change bumps metadata.generation: everything but metadata and status. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

function withoutVolatile(obj: KubeObject): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

function isFinalized(obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return false;
  const spec = obj.spec as { finalizers?: string[] } | undefined;
  // A namespace also waits for its spec.finalizers ("kubernetes"), which the namespace controller removes.
  if (obj.kind === "Namespace" && (spec?.finalizers ?? []).length > 0) return false;
  return true;
}

export function createMemoryStore(opts: MemoryStoreOptions = {}): MemoryStore {
  const historyLimit = opts.historyLimit ?? 10_000;
  const now = opts.now ?? (() => new Date());
  const objects = new Map<string, Map<string, KubeObject>>();
  const history: HistoryEntry[] = [];
  const watchers = new Set<Watcher>();
  let rv = 1;
  let compacted = 1;
  const pending: HistoryEntry[] = [];
  let delivering = false;

  const bucket = (type: ResourceType) => {
    const key = typeKeyOf(type);
    let b = objects.get(key);
    if (!b) {
      b = new Map();
      objects.set(key, b);
    }
    return b;
  };

  const emit = (type: ResourceType, namespace: string, event: WatchEvent, previous?: KubeObject) => {
    const entry: HistoryEntry = {
      rv,
      typeKey: typeKeyOf(type),
      namespace,
      event,
      ...(previous ? { previous } : {}),
    };
    history.push(entry);
    if (history.length > historyLimit) {
      const dropped = history.splice(0, history.length - historyLimit);
      compacted = dropped[dropped.length - 1]?.rv ?? compacted;
    }
    // A listener may write to the store (controllers do); queueing keeps every watcher's events in order.
    pending.push(entry);
    if (delivering) return;
    delivering = true;
    try {
      for (let next = pending.shift(); next; next = pending.shift()) {
        for (const w of watchers) {
          if (w.typeKey === next.typeKey && (w.namespace === "" || w.namespace === next.namespace)) {
            try {
              w.listener(structuredClone(next.event), next.previous);
            } catch {
              // A broken watcher must not fail the write that woke it, nor starve the other watchers.
            }
          }
        }
      }
    } finally {
      delivering = false;
    }
  };

  const timestamp = () =>
    now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");

  const store: MemoryStore = {
    currentResourceVersion: () => rv,
    compactedResourceVersion: () => compacted,

    get(type, namespace, name) {
      const obj = bucket(type).get(objectKey(type.namespaced ? namespace : "", name));
      return obj ? structuredClone(obj) : undefined;
    },

    list(type, namespace): ListResult {
      const items: KubeObject[] = [];
      for (const obj of bucket(type).values()) {
        if (namespace === "" || !type.namespaced || obj.metadata.namespace === namespace) {
          items.push(structuredClone(obj));
        }
      }
      items.sort((a, b) =>
        objectKey(a.metadata.namespace ?? "", a.metadata.name ?? "").localeCompare(
          objectKey(b.metadata.namespace ?? "", b.metadata.name ?? ""),
        ),
      );
      return { items, resourceVersion: String(rv) };
    },

    create(type, input) {
      const obj = structuredClone(input);
      const meta = obj.metadata;
      const namespace = type.namespaced ? (meta.namespace ?? "") : "";
      if (!type.namespaced) delete meta.namespace;
      const b = bucket(type);
      if (!meta.name && meta.generateName) {
        do meta.name = meta.generateName + randomSuffix();
        while (b.has(objectKey(namespace, meta.name)));
      }
      const name = meta.name ?? "";
      if (b.has(objectKey(namespace, name))) {
        throw StatusError.of("AlreadyExists", `${qualifiedResource(type)} "${name}" already exists`, {
          name,
          group: type.group,
          kind: type.resource,
        });
      }
      rv++;
      obj.apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
      obj.kind = type.kind;
      meta.uid = randomUUID();
      meta.resourceVersion = String(rv);
      meta.creationTimestamp = timestamp();
      // Kinds with a spec track generations; ConfigMaps, Secrets and the like have none, as in kube-apiserver.
      if (obj.spec !== undefined) meta.generation = 1;
      else delete meta.generation;
      b.set(objectKey(namespace, name), obj);
      emit(type, namespace, { type: "ADDED", object: structuredClone(obj) });
      return structuredClone(obj);
    },

    update(type, input) {
      const obj = structuredClone(input);
      const meta = obj.metadata;
      const namespace = type.namespaced ? (meta.namespace ?? "") : "";
      const name = meta.name ?? "";
      const b = bucket(type);
      const old = b.get(objectKey(namespace, name));
      if (!old) throw notFound(type, name);
      if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) {
        throw conflict(type, name, STALE_MESSAGE);
      }
      // Identity fields are the server's, whatever the writer sent.
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      if (!type.namespaced) delete meta.namespace;
      obj.apiVersion = old.apiVersion;
      obj.kind = old.kind;
      if (old.metadata.generation !== undefined) {
        meta.generation = old.metadata.generation + (specOf(obj) !== specOf(old) ? 1 : 0);
      } else delete meta.generation;
      meta.resourceVersion = old.metadata.resourceVersion;
      if (meta.deletionTimestamp && isFinalized(obj)) {
        b.set(objectKey(namespace, name), obj);
        return store.remove(type, namespace, name);
      }
      // A no-op write changes nothing and wakes no watcher, as in kube-apiserver.
      if (withoutVolatile(obj) === withoutVolatile(old)) return structuredClone(old);
      rv++;
      meta.resourceVersion = String(rv);
      b.set(objectKey(namespace, name), obj);
      emit(type, namespace, { type: "MODIFIED", object: structuredClone(obj) }, old);
      return structuredClone(obj);
    },

    remove(type, namespace, name) {
      const ns = type.namespaced ? namespace : "";
      const b = bucket(type);
      const obj = b.get(objectKey(ns, name));
      if (!obj) throw notFound(type, name);
      b.delete(objectKey(ns, name));
      rv++;
      obj.metadata.resourceVersion = String(rv);
      emit(type, ns, { type: "DELETED", object: structuredClone(obj) });
      return structuredClone(obj);
    },

    watch(type, namespace, since, listener) {
      if (since < compacted) {
        throw StatusError.of("Expired", `too old resource version: ${since} (${compacted})`);
      }
      const typeKey = typeKeyOf(type);
      for (const entry of history) {
        // Entries still queued for delivery reach this watcher through the queue, not twice.
        if (pending.includes(entry)) continue;
        if (
          entry.rv > since &&
          entry.typeKey === typeKey &&
          (namespace === "" || entry.namespace === namespace)
        ) {
          listener(structuredClone(entry.event), entry.previous);
        }
      }
      const w: Watcher = { typeKey, namespace, listener };
      watchers.add(w);
      return () => {
        watchers.delete(w);
      };
    },
  };
  return store;
}
