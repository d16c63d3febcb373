// Field ownership: server-side apply (application/apply-patch+yaml) and the `Update` bookkeeping every other write
// records in `metadata.managedFields`, after structured-merge-diff's Updater.
//
// Apply makes the applied configuration's fields the manager's; fields it applied last time and no longer applies
// are removed unless another manager still owns them. Changing a field another manager owns is a 409 Conflict
// listing every contested field (reason Conflict, causes of type FieldManagerConflict) unless `force`, which
// takes the fields over. Nothing is written on a conflict: the input objects are never mutated.

import type { KubeObject, ManagedFieldsEntry } from "../contracts.ts";
import { type StatusCause, StatusError } from "../status.ts";
import {
  ancestorsIn,
  type FieldSet,
  fieldsOf,
  fromFieldsV1,
  pathKeys,
  pathString,
  removeAt,
  type Scope,
  toFieldsV1,
  valueAt,
} from "./fieldpath.ts";
import { listStrategy } from "./schema.ts";
import { clone, deepEqual, isObject, type JsonObject } from "./values.ts";

type Entry = Omit<ManagedFieldsEntry, "fieldsV1" | "fieldsType"> & { set: FieldSet };

function decode(obj: KubeObject | undefined): Entry[] {
  const mf = obj?.metadata?.managedFields;
  if (!Array.isArray(mf)) return [];
  return mf
    .filter((e) => isObject(e) && typeof e.manager === "string")
    .map((e) => {
      const { fieldsV1, fieldsType: _, ...rest } = e;
      return { ...rest, set: fromFieldsV1(fieldsV1) };
    });
}

function encode(entries: Entry[]): ManagedFieldsEntry[] {
  return entries
    .filter((e) => e.set.size > 0)
    .map(({ set, ...e }) => {
      const out: ManagedFieldsEntry = {
        manager: e.manager,
        operation: e.operation,
        apiVersion: e.apiVersion,
        fieldsType: "FieldsV1",
        fieldsV1: toFieldsV1(set),
      };
      if (e.time !== undefined) out.time = e.time;
      if (e.subresource) out.subresource = e.subresource;
      return out;
    });
}

/** The apiserver's manager identity: appliers are one manager whatever apiVersion they use; updaters are not. */
function sameManager(
  e: Entry,
  manager: string,
  operation: string,
  apiVersion: string,
  subresource?: string,
): boolean {
  return (
    e.manager === manager &&
    e.operation === operation &&
    (e.subresource ?? "") === (subresource ?? "") &&
    (operation === "Apply" || e.apiVersion === apiVersion)
  );
}

/** As printManager in the apiserver: Update managers are named with their apiVersion. */
function describe(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === "Update" ? `${s} using ${e.apiVersion}` : s;
}

function conflictError(conflicts: { entry: Entry; paths: string[] }[]): StatusError {
  const total = conflicts.reduce((n, c) => n + c.paths.length, 0);
  const causes: StatusCause[] = conflicts.flatMap((c) =>
    c.paths.map((p) => ({
      type: "FieldManagerConflict",
      message: `conflict with ${describe(c.entry)}`,
      field: p,
    })),
  );
  let message: string;
  if (total === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describe(conflicts[0]!.entry)}: ${conflicts[0]!.paths[0]}`;
  } else {
    const lines = [...conflicts]
      .sort((a, b) => describe(a.entry).localeCompare(describe(b.entry)))
      .flatMap((c) => [`conflicts with ${describe(c.entry)}:`, ...c.paths.map((p) => `- ${p}`)]);
    message = `Apply failed with ${total} conflicts: ${lines.join("\n")}`;
  }
  return StatusError.of("Conflict", message, { causes });
}

/** Merges an apply configuration into the live object: maps recurse, keyed lists merge by key, others replace. */
function mergeApplied(live: unknown, cfg: unknown, kind: string, names: string[]): unknown {
  if (isObject(cfg)) {
    const out: JsonObject = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(cfg)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, kind, [...names, k]);
    }
    return out;
  }
  if (Array.isArray(cfg) && Array.isArray(live)) {
    const s = listStrategy(kind, names);
    if (s.type === "set") return [...live, ...cfg.filter((x) => !live.some((y) => deepEqual(x, y)))];
    if (s.type === "map" && [...live, ...cfg].every((x) => isObject(x) && Object.hasOwn(x, s.key))) {
      const out = [...live] as JsonObject[];
      for (const item of cfg as JsonObject[]) {
        const at = out.findIndex((x) => deepEqual(x[s.key], item[s.key]));
        if (at >= 0) out[at] = mergeApplied(out[at], item, kind, names) as JsonObject;
        else out.push(item);
      }
      return out;
    }
  }
  return cfg;
}

/** Whether `id` differs between two objects; a path with owned children only counts when it appears or goes. */
function changedAt(before: unknown, after: unknown, id: string, structural: boolean): boolean {
  const keys = pathKeys(id);
  const a = valueAt(before, keys);
  const b = valueAt(after, keys);
  if (structural || a.found !== b.found) return a.found !== b.found;
  return !deepEqual(a.value, b.value);
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  const out = clone(obj);
  delete out.metadata.managedFields;
  return out;
}

export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  opts: { manager: string; force: boolean; apiVersion: string; now: string },
): KubeObject {
  const mf = applied.metadata?.managedFields;
  if (mf !== undefined && mf !== null && !(Array.isArray(mf) && mf.length === 0)) {
    throw StatusError.of("BadRequest", "metadata.managedFields must be nil");
  }
  const kind = applied.kind;
  const appliedSet = fieldsOf(applied as unknown as JsonObject, kind);
  const mine: Entry = {
    manager: opts.manager,
    operation: "Apply",
    apiVersion: opts.apiVersion,
    time: opts.now,
    set: appliedSet,
  };
  if (live === undefined) {
    const created = withoutManagedFields(applied);
    created.metadata.managedFields = encode([mine]);
    return created;
  }

  let entries = decode(live);
  if (entries.length === 0) {
    // An object nobody tracked yet: the apiserver attributes all of it to this pseudo-manager, so applies conflict.
    entries = [
      {
        manager: "before-first-apply",
        operation: "Update",
        apiVersion: live.apiVersion,
        set: fieldsOf(live as unknown as JsonObject, live.kind),
      },
    ];
  }
  const liveClean = withoutManagedFields(live);
  const merged = mergeApplied(liveClean, withoutManagedFields(applied), kind, []) as KubeObject;
  const previous = entries.find((e) => sameManager(e, opts.manager, "Apply", opts.apiVersion));
  const others = entries.filter((e) => e !== previous);

  // Conflicts: another manager owns a field this apply changes.
  const conflicts: { entry: Entry; paths: string[] }[] = [];
  const appliedParents = ancestorsIn(appliedSet);
  for (const e of others) {
    const ids = [...e.set].filter(
      (id) => appliedSet.has(id) && changedAt(liveClean, merged, id, appliedParents.has(id)),
    );
    if (ids.length > 0) conflicts.push({ entry: e, paths: ids.sort() });
  }
  if (conflicts.length > 0 && !opts.force) {
    throw conflictError(
      conflicts.map((c) => ({ entry: c.entry, paths: c.paths.map((id) => pathString(pathKeys(id))) })),
    );
  }
  for (const c of conflicts) for (const id of c.paths) c.entry.set.delete(id);

  // Prune what this manager applied before and no longer applies, unless someone else owns it (or part of it).
  const stillOwned = new Set<string>();
  for (const e of [mine, ...others]) {
    for (const id of e.set) stillOwned.add(id);
    for (const id of ancestorsIn(e.set)) stillOwned.add(id);
  }
  const owned = (id: string): boolean => stillOwned.has(id);
  for (const id of previous?.set ?? []) if (!appliedSet.has(id) && !owned(id)) removeAt(merged, pathKeys(id));

  const next = previous ? entries.map((e) => (e === previous ? mine : e)) : [...entries, mine];
  if (
    previous &&
    deepEqual(merged, liveClean) &&
    deepEqual([...previous.set].sort(), [...appliedSet].sort())
  ) {
    return clone(live); // a no-op apply changes nothing, not even the timestamp (so no new resourceVersion)
  }
  merged.metadata.managedFields = encode(next);
  return merged;
}

export function trackUpdate(
  before: KubeObject | undefined,
  after: KubeObject,
  opts: { manager: string; operation: "Update"; apiVersion: string; now: string; subresource?: string },
): KubeObject {
  const scope: Scope = opts.subresource === "status" ? "status" : "main";
  // A client may rewrite managedFields itself (kubectl does, migrating client-side apply); otherwise keep the live ones.
  const sent = after.metadata?.managedFields;
  const base = !opts.subresource && Array.isArray(sent) && sent.length > 0 ? after : before;
  const entries = decode(base);
  const result = withoutManagedFields(after);
  const beforeClean = before ? withoutManagedFields(before) : undefined;

  const maps: FieldSet = new Set();
  const afterSet = fieldsOf(result as unknown as JsonObject, result.kind, scope, maps);
  const changed: FieldSet = new Set();
  const afterParents = ancestorsIn(afterSet);
  for (const id of afterSet) {
    if (changedAt(beforeClean, result, id, afterParents.has(id))) changed.add(id);
  }
  for (const id of maps) if (changedAt(beforeClean, result, id, true)) changed.add(id);

  let touched = changed.size > 0;
  for (const e of entries) {
    for (const id of e.set) {
      if (changed.has(id) || !valueAt(result, pathKeys(id)).found) {
        // Fields this write changed or removed are no longer anyone else's.
        if (!sameManager(e, opts.manager, "Update", opts.apiVersion, opts.subresource) || !changed.has(id)) {
          e.set.delete(id);
          touched = true;
        }
      }
    }
  }
  if (changed.size > 0) {
    let own = entries.find((e) => sameManager(e, opts.manager, "Update", opts.apiVersion, opts.subresource));
    if (!own) {
      own = { manager: opts.manager, operation: "Update", apiVersion: opts.apiVersion, set: new Set() };
      if (opts.subresource) own.subresource = opts.subresource;
      entries.push(own);
    }
    for (const id of changed) own.set.add(id);
    own.time = opts.now;
  }
  const encoded = encode(entries);
  if (touched || encoded.length > 0) result.metadata.managedFields = encoded;
  return result;
}
