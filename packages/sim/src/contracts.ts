// The contracts between the simulator's parts: the object store, the resource registry, identity, and the stream
// handlers. The simulator is the reference the gateway is tested against, so it shares no code with the gateway's
// request classifier: it routes requests with its own parser (packages/sim/src/router.ts).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** Kubernetes ObjectMeta, as far as the simulator uses it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** One served resource: what discovery advertises and what the router accepts. */
export interface ResourceType {
  group: string; // "" for core
  version: string;
  resource: string; // plural, e.g. "deployments"
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: string[]; // e.g. ["status", "scale"]
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

/**
 * The object store: a single in-memory history with a cluster-wide resourceVersion counter, like etcd's revision.
 * All methods are synchronous; errors are thrown as StatusError (status.ts) with the reason
 * kube-apiserver would give (NotFound, AlreadyExists, Conflict, Gone, Invalid).
 */
export interface ObjectStore {
  /** The latest resourceVersion handed out. */
  currentResourceVersion(): number;
  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined;
  /** namespace "" lists across all namespaces (or a cluster-scoped type). */
  list(type: ResourceType, namespace: string): ListResult;
  /** Assigns uid, resourceVersion, creationTimestamp, generation; resolves generateName. */
  create(type: ResourceType, object: KubeObject): KubeObject;
  /** Replaces the object. When `object.metadata.resourceVersion` is set and stale → 409 Conflict. */
  update(type: ResourceType, object: KubeObject): KubeObject;
  /** Removes the object now (finalizers and propagation are the API layer's business) and emits DELETED. */
  remove(type: ResourceType, namespace: string, name: string): KubeObject;
  /**
   * Subscribes to changes of one type (namespace "" = all). Events after `sinceResourceVersion` are replayed first;
   * a version older than the retained history throws a 410 Gone StatusError ("too old resource version").
   * Returns an unsubscribe function. A MODIFIED event comes with the object as it was before (read-only: it is
   * shared with the history), so a filtered watch can tell "stopped matching" from "changed".
   */
  watch(
    type: ResourceType,
    namespace: string,
    sinceResourceVersion: number,
    listener: (event: WatchEvent, previous?: KubeObject) => void,
  ): () => void;
}

/** The authenticated (and possibly impersonated) user, as kube-apiserver's user.Info. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** What the authorizer is asked: kube-apiserver's authorizer.Attributes. */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): { allowed: boolean; reason: string };
}

/** The routed form of a request, computed by the simulator's own router. */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  verb: string; // get, list, watch, create, update, patch, delete, deletecollection, or a lower-case method
  resourceRequest: boolean;
  type?: ResourceType;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

/** Everything a stream handler (log, exec, attach, portforward) needs from the simulator. */
export interface StreamContext {
  store: ObjectStore;
  types: ResourceRegistry;
  /** The per-pod sandbox root; each pod gets DIR/<namespace>/<pod>/ created on demand. */
  sandboxRoot: string;
  /** How exec'd commands are contained (streams/isolation.ts), decided once at start-up. */
  isolation: import("./streams/isolation.ts").ExecIsolation;
}

export interface ResourceRegistry {
  all(): ResourceType[];
  find(group: string, version: string, resource: string): ResourceType | undefined;
  byKind(group: string, kind: string): ResourceType | undefined;
  /** Adds the types a CustomResourceDefinition serves (and removes them on delete). */
  register(type: ResourceType): void;
  unregister(group: string, resource: string): void;
}

/** The HTTP-level request for an upgrade, with the route already computed. */
export interface UpgradeRequest {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  route: SimRequest;
  user: UserInfo;
}
