// The exec sessions the simulator is running, per store: a deleted pod (or one marked for deletion) takes its
// sessions' processes with it, as the kubelet kills a pod's containers, and the simulator's close() kills every
// process it started.
//
// Stance: no process outlives its pod or its simulator. A killed session ends the normal way — its process exits
// (137 for SIGKILL, 143 for a tty's SIGTERM) and the client gets that exit Status, as kubectl does from a cluster.
import type { ObjectStore, StreamContext, WatchEvent } from "../contracts.ts";
import { forgetPod } from "./main-process.ts";

interface Tracker {
  byPod: Map<string, Set<() => void>>;
  unsubscribe: () => void;
}

const trackers = new WeakMap<ObjectStore, Tracker>();

function killAll(kills: Iterable<() => void>): void {
  for (const kill of [...kills]) {
    try {
      kill();
    } catch {
      // One process that cannot be killed must not keep the others alive.
    }
  }
}

function trackerFor(ctx: StreamContext): Tracker {
  let tracker = trackers.get(ctx.store);
  if (tracker) return tracker;
  const byPod = new Map<string, Set<() => void>>();
  const podType = ctx.types.find("", "v1", "pods");
  const onPodEvent = (event: WatchEvent) => {
    const meta = event.object.metadata;
    const gone = event.type === "DELETED" || (event.type === "MODIFIED" && meta.deletionTimestamp);
    if (!gone || !meta.uid) return;
    const sessions = byPod.get(meta.uid);
    if (sessions) killAll(sessions);
    if (event.type === "DELETED") forgetPod(ctx, meta.namespace ?? "", meta.name ?? "", meta.uid);
  };
  const unsubscribe = podType
    ? ctx.store.watch(podType, "", ctx.store.currentResourceVersion(), onPodEvent)
    : () => {};
  tracker = { byPod, unsubscribe };
  trackers.set(ctx.store, tracker);
  return tracker;
}

/** Registers a running session of pod `uid`; returns the function that forgets it when it ends. */
export function trackSession(ctx: StreamContext, podUid: string, kill: () => void): () => void {
  const { byPod } = trackerFor(ctx);
  let sessions = byPod.get(podUid);
  if (!sessions) {
    sessions = new Set();
    byPod.set(podUid, sessions);
  }
  sessions.add(kill);
  return () => {
    const set = byPod.get(podUid);
    set?.delete(kill);
    if (set?.size === 0) byPod.delete(podUid);
  };
}

/** How many sessions are running (for tests and the record). */
export function sessionCount(ctx: StreamContext): number {
  let n = 0;
  for (const set of trackers.get(ctx.store)?.byPod.values() ?? []) n += set.size;
  return n;
}

/** Kills every running session's process and stops watching pods: the simulator is closing. */
export function closeSessions(ctx: StreamContext): void {
  const tracker = trackers.get(ctx.store);
  if (!tracker) return;
  tracker.unsubscribe();
  trackers.delete(ctx.store);
  for (const sessions of tracker.byPod.values()) killAll(sessions);
}
