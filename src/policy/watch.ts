// Noticing that policy files changed: fs.watch on the configured files' folders and directories, plus a periodic
// check of every file's size and mtime (fs.watch misses changes on some file systems and after editors replace a
// file by renaming). Either one calls `onChange`, debounced; the engine decides whether the new files are good (and
// whether their bytes changed at all: see engine.ts).
import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { listPolicyFiles } from "./load.ts";

/** File names whose events can change the policies of a watched folder (as listPolicyFiles reads them). */
const POLICY_NAME = /\.ya?ml$/;

export interface WatchOptions {
  paths: readonly string[];
  managedDir?: string;
  pollIntervalMs: number;
  debounceMs: number;
  onChange: () => void;
}

/** A fingerprint of the files the paths stand for: names, sizes and mtimes. Errors are part of it. */
export async function filesSignature(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    try {
      for (const f of await listPolicyFiles(p)) {
        const s = await stat(f);
        parts.push(`${f}:${s.size}:${s.mtimeMs}`);
      }
    } catch (err) {
      parts.push(`${p}:!${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  return parts.join("\n");
}

export interface PolicyWatcher {
  close(): void;
}

export async function watchPolicyFiles(opts: WatchOptions): Promise<PolicyWatcher> {
  const all = [...opts.paths, ...(opts.managedDir ? [opts.managedDir] : [])];
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closed) opts.onChange();
    }, opts.debounceMs);
    timer.unref();
  };
  // Idle is idle: only paths that exist are watched, and only events about policy files count. A folder is never
  // watched on behalf of a missing path (the managed policy folder lives in the data directory, whose database
  // changes all the time); the poll below notices when a missing path appears.
  const filters = new Map<string, ((name: string) => boolean)[]>();
  const addFilter = (folder: string, accept: (name: string) => boolean) => {
    filters.set(folder, [...(filters.get(folder) ?? []), accept]);
  };
  for (const p of all) {
    try {
      if ((await stat(p)).isDirectory()) addFilter(p, (name) => POLICY_NAME.test(name));
      else addFilter(dirname(p), (name) => name === basename(p));
    } catch {
      // Missing: the poll covers it.
    }
  }
  const watchers: FSWatcher[] = [];
  for (const [folder, accepts] of filters) {
    try {
      const w = watch(folder, { persistent: false }, (_event, name) => {
        // No name (some platforms): assume it is ours.
        if (name === null || accepts.some((accept) => accept(String(name)))) fire();
      });
      w.on("error", () => w.close()); // the poll below still covers this folder
      watchers.push(w);
    } catch {
      // Unwatchable (no inotify): the poll covers it.
    }
  }
  let last = await filesSignature(all);
  let polling = false;
  const poll = setInterval(async () => {
    if (polling || closed) return;
    polling = true;
    try {
      const now = await filesSignature(all);
      if (now !== last) {
        last = now;
        fire();
      }
    } finally {
      polling = false;
    }
  }, opts.pollIntervalMs);
  poll.unref();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}
