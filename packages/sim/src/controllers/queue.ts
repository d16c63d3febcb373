// The controllers' work queue: keyed, deduplicated, drained on setImmediate so that store watch listeners (which the
// store may call synchronously inside its own write) only ever enqueue and never re-enter the store.
//
// Failure stance: a reconcile that throws never escapes — it is logged and retried with a short, capped backoff; a
// 409 Conflict (someone wrote in between) is retried at once without a log line, as kube-controller-manager does.
import { StatusError } from "../status.ts";

export type Log = (message: string, err?: unknown) => void;

export interface WorkQueue {
  /** Runs `work` soon; a key already pending keeps one entry, with the latest function. */
  add(key: string, work: () => void): void;
  /** Runs `work` after `ms` (a poll for something no watch will announce). */
  addAfter(key: string, ms: number, work: () => void): void;
  stop(): void;
}

const MAX_ATTEMPTS = 8;

export function createWorkQueue(log: Log): WorkQueue {
  const pending = new Map<string, () => void>();
  const attempts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let immediate: NodeJS.Immediate | undefined;
  let stopped = false;

  function schedule(): void {
    if (stopped || immediate) return;
    immediate = setImmediate(drain);
  }

  function drain(): void {
    immediate = undefined;
    const batch = [...pending];
    pending.clear();
    for (const [key, work] of batch) {
      if (stopped) return;
      try {
        work();
        attempts.delete(key);
      } catch (err) {
        retry(key, work, err);
      }
    }
  }

  function retry(key: string, work: () => void, err: unknown): void {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    const reason = err instanceof StatusError ? err.status.reason : undefined;
    // The object went away under us: whatever watch removed it has queued the follow-up work.
    if (reason === "NotFound") return;
    if (n > MAX_ATTEMPTS) {
      log(`controller gave up on ${key} after ${MAX_ATTEMPTS} attempts`, err);
      attempts.delete(key);
      return;
    }
    if (reason !== "Conflict" && reason !== "AlreadyExists") log(`controller retrying ${key}`, err);
    addAfter(key, Math.min(2 ** n, 200), work);
  }

  function add(key: string, work: () => void): void {
    if (stopped) return;
    pending.set(key, work);
    schedule();
  }

  function addAfter(key: string, ms: number, work: () => void): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      add(key, work);
    }, ms);
    timers.add(timer);
  }

  return {
    add,
    addAfter,
    stop() {
      stopped = true;
      if (immediate) clearImmediate(immediate);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      pending.clear();
    },
  };
}
