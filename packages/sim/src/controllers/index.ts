// The simulator's kube-controller-manager, scheduler and kubelet in one: startControllers() watches every served
// type, routes each change to the controllers that care (as informers' event handlers would), and drains their work
// on a deduplicating queue. Objects that already exist when it starts are reconciled as if just added, so seeding
// before or after starting gives the same cluster.
//
// Failure stance: nothing thrown by a controller escapes a watch listener or the queue; failures are logged and
// retried with a capped backoff. stop() cancels every watch and timer.
import type { KubeObject, ObjectStore, ResourceRegistry, ResourceType, WatchEvent } from "../contracts.ts";
import { type ControllerContext, rfc3339 } from "./context.ts";
import { reconcileDaemonSet } from "./daemonsets.ts";
import { reconcileDeployment } from "./deployments.ts";
import { createEventRecorder } from "./events.ts";
import { createGarbageCollector } from "./gc.ts";
import { createIpPool } from "./ipam.ts";
import { reconcileJob } from "./jobs.ts";
import { reconcileNamespace } from "./namespaces.ts";
import { reconcilePod } from "./pods.ts";
import { createWorkQueue, type Log } from "./queue.ts";
import { reconcileReplicaSet } from "./replicasets.ts";
import { allocateServiceAddresses, reconcileEndpoints } from "./services.ts";
import { reconcileStatefulSet } from "./statefulsets.ts";

export interface ControllerOptions {
  clock?: () => Date;
  /** Where controller failures are reported; defaults to stderr. */
  log?: Log;
  /** The cluster CA (PEM) published in every namespace's kube-root-ca.crt ConfigMap. */
  rootCaPem?: string;
}

export interface Controllers {
  stop(): void;
}

const defaultLog: Log = (message, err) => {
  process.stderr.write(
    `sim controllers: ${message}${err ? `: ${err instanceof Error ? err.message : String(err)}` : ""}\n`,
  );
};

export function startControllers(
  store: ObjectStore,
  registry: ResourceRegistry,
  opts: ControllerOptions = {},
): Controllers {
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? defaultLog;
  const queue = createWorkQueue(log);
  const find = (g: string, v: string, r: string) => registry.find(g, v, r);
  const nsType = () => find("", "v1", "namespaces");
  const ctx: ControllerContext = {
    store,
    registry,
    queue,
    log,
    clock,
    now: () => rfc3339(clock()),
    type: find,
    events: createEventRecorder(store, find("", "v1", "events"), clock, log, undefined, (namespace) => {
      const t = nsType();
      return !!(t && store.get(t, "", namespace)?.metadata.deletionTimestamp);
    }),
  };
  const podIps = createIpPool("10.244", "sequential", 1);
  const serviceIps = createIpPool("10.96", "random", 10);
  const usedNodePorts = new Set<number>();
  const nodePorts = {
    allocate(): number {
      for (
        let p = 30000 + Math.floor(Math.random() * 2768), i = 0;
        i < 2768;
        i++, p = 30000 + ((p - 30000 + 1) % 2768)
      ) {
        if (!usedNodePorts.has(p)) {
          usedNodePorts.add(p);
          return p;
        }
      }
      throw new Error("node port range 30000-32767 is exhausted");
    },
  };
  const rootCaPem = opts.rootCaPem ?? "";
  const gc = createGarbageCollector(ctx);

  const nsName = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
  const enqueueNamespaced = (
    kind: string,
    ns: string,
    name: string,
    fn: (c: ControllerContext, ns: string, n: string) => void,
  ) => queue.add(`${kind}|${ns}/${name}`, () => fn(ctx, ns, name));
  const enqueueOwner = (o: KubeObject) => {
    const ns = o.metadata.namespace ?? "";
    for (const r of o.metadata.ownerReferences ?? []) {
      if (!r.controller) continue;
      if (r.kind === "ReplicaSet") enqueueNamespaced("rs", ns, r.name, reconcileReplicaSet);
      else if (r.kind === "Deployment") enqueueNamespaced("deploy", ns, r.name, reconcileDeployment);
      else if (r.kind === "StatefulSet") enqueueNamespaced("sts", ns, r.name, reconcileStatefulSet);
      else if (r.kind === "DaemonSet") enqueueNamespaced("ds", ns, r.name, reconcileDaemonSet);
      else if (r.kind === "Job") enqueueNamespaced("job", ns, r.name, reconcileJob);
    }
  };
  const syncEndpointsIn = (ns: string) =>
    queue.add(`endpoints|${ns}`, () => {
      const svcType = find("", "v1", "services");
      if (!svcType) return;
      for (const svc of store.list(svcType, ns).items) reconcileEndpoints(ctx, svc);
    });
  const syncService = (ns: string, name: string) =>
    queue.add(`service|${ns}/${name}`, () => {
      const svcType = find("", "v1", "services");
      const svc = svcType && store.get(svcType, ns, name);
      if (svc) reconcileEndpoints(ctx, allocateServiceAddresses(ctx, serviceIps, nodePorts, svc));
    });

  /** Event routing by group/resource: which controllers a change wakes. */
  const routes: Record<string, (e: WatchEvent) => void> = {
    "/pods": (e) => {
      const o = e.object;
      const ns = o.metadata.namespace ?? "";
      if (e.type === "ADDED") podIps.reserve((o.status as { podIP?: string } | undefined)?.podIP);
      if (e.type !== "DELETED")
        queue.add(`pod|${nsName(o)}`, () => reconcilePod(ctx, podIps, ns, o.metadata.name ?? ""));
      enqueueOwner(o);
      syncEndpointsIn(ns);
    },
    "apps/replicasets": (e) => {
      if (e.type !== "DELETED")
        enqueueNamespaced(
          "rs",
          e.object.metadata.namespace ?? "",
          e.object.metadata.name ?? "",
          reconcileReplicaSet,
        );
      enqueueOwner(e.object);
    },
    "apps/deployments": (e) => {
      if (e.type !== "DELETED")
        enqueueNamespaced(
          "deploy",
          e.object.metadata.namespace ?? "",
          e.object.metadata.name ?? "",
          reconcileDeployment,
        );
    },
    "apps/statefulsets": (e) => {
      if (e.type !== "DELETED")
        enqueueNamespaced(
          "sts",
          e.object.metadata.namespace ?? "",
          e.object.metadata.name ?? "",
          reconcileStatefulSet,
        );
    },
    "apps/daemonsets": (e) => {
      if (e.type !== "DELETED")
        enqueueNamespaced(
          "ds",
          e.object.metadata.namespace ?? "",
          e.object.metadata.name ?? "",
          reconcileDaemonSet,
        );
    },
    "batch/jobs": (e) => {
      if (e.type !== "DELETED")
        enqueueNamespaced(
          "job",
          e.object.metadata.namespace ?? "",
          e.object.metadata.name ?? "",
          reconcileJob,
        );
    },
    "/nodes": () => {
      const dsType = find("apps", "v1", "daemonsets");
      if (!dsType) return;
      for (const ds of store.list(dsType, "").items) {
        enqueueNamespaced("ds", ds.metadata.namespace ?? "", ds.metadata.name ?? "", reconcileDaemonSet);
      }
    },
    "/namespaces": (e) => {
      const name = e.object.metadata.name ?? "";
      queue.add(`namespace|${name}`, () => reconcileNamespace(ctx, name, rootCaPem));
    },
    "/services": (e) => {
      const o = e.object;
      const ns = o.metadata.namespace ?? "";
      const name = o.metadata.name ?? "";
      if (e.type === "ADDED") serviceIps.reserve((o.spec as { clusterIP?: string } | undefined)?.clusterIP);
      for (const p of (o.spec as { ports?: { nodePort?: number }[] } | undefined)?.ports ?? []) {
        if (p.nodePort) usedNodePorts.add(p.nodePort);
      }
      if (e.type !== "DELETED") return syncService(ns, name);
      queue.add(`service|${ns}/${name}`, () => {
        const epType = find("", "v1", "endpoints");
        const svcType = find("", "v1", "services");
        if (epType && svcType && !store.get(svcType, ns, name) && store.get(epType, ns, name))
          store.remove(epType, ns, name);
      });
    },
    "apiextensions.k8s.io/customresourcedefinitions": () => queue.add("rescan-types", watchNewTypes),
  };

  const watched = new Map<string, () => void>();
  let stopped = false;

  function watchType(type: ResourceType): void {
    const key = `${type.group}/${type.resource}`;
    if (watched.has(key) || !type.verbs.includes("watch") || !type.verbs.includes("list")) return;
    const route = routes[key];
    const onEvent = (e: WatchEvent) => {
      try {
        gc.observe(type, e);
        route?.(e);
      } catch (err) {
        log(`watch handler for ${key} failed`, err);
      }
    };
    // List then watch from the list's version, synchronously: no change can fall in between.
    const listed = store.list(type, "");
    for (const object of listed.items) onEvent({ type: "ADDED", object });
    watched.set(key, store.watch(type, "", Number(listed.resourceVersion), onEvent));
  }

  function watchNewTypes(): void {
    if (stopped) return;
    for (const type of registry.all()) watchType(type);
  }

  watchNewTypes();
  const withOnChange = registry as ResourceRegistry & { onChange?: (l: () => void) => void };
  withOnChange.onChange?.(() => {
    if (!stopped) queue.add("rescan-types", watchNewTypes);
  });

  return {
    stop() {
      stopped = true;
      queue.stop();
      for (const unwatch of watched.values()) unwatch();
      watched.clear();
    },
  };
}
