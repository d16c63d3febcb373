// Strategic merge patch (application/strategic-merge-patch+json), the patch `kubectl apply` (client-side),
// `kubectl edit` and `kubectl set` send for built-in kinds. Like a merge patch, except that lists with a merge key
// (containers by name, env by name, ports by port, …; see schema.ts) are merged element by element, primitive
// sets such as finalizers are unioned, and the directives `$patch`, `$retainKeys`,
// `$deleteFromPrimitiveList/<f>` and `$setElementOrder/<f>` are honoured.
//
// Kinds we hold no schema for (custom resources) get merge-patch semantics. A malformed patch (a merge-list element
// without its merge key, an unknown `$patch` value) is 400 BadRequest, as in apimachinery's strategicpatch.

import type { KubeObject } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { isBuiltInKind, type ListStrategy, listStrategy } from "./schema.ts";
import { clone, deepEqual, isObject, type JsonObject } from "./values.ts";

const DELETE_FROM = "$deleteFromPrimitiveList/";
const SET_ORDER = "$setElementOrder/";

function bad(message: string): StatusError {
  return StatusError.of("BadRequest", message);
}

/** Merges `patch` into `orig` (owned by the caller); undefined means "`$patch: delete` removed this map". */
function mergeMap(orig: JsonObject, patch: JsonObject, kind: string, path: string[]): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === "delete") return undefined;
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return mergeMap({}, rest, kind, path);
  }
  if (directive !== undefined && directive !== "merge") {
    throw bad(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw bad("$retainKeys must be a list of field names");
    for (const k of Object.keys(orig)) if (!retain.includes(k)) delete orig[k];
  }
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      if (!Array.isArray(v)) throw bad(`${k} must be a list`);
      const cur = orig[field];
      if (Array.isArray(cur)) orig[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (k.startsWith(SET_ORDER)) {
      if (!Array.isArray(v)) throw bad(`${k} must be a list`);
      orders.push([k.slice(SET_ORDER.length), v]);
      continue;
    }
    if (v === null) {
      delete orig[k];
    } else if (isObject(v)) {
      const merged = mergeMap(isObject(orig[k]) ? (orig[k] as JsonObject) : {}, v, kind, [...path, k]);
      if (merged === undefined) delete orig[k];
      else orig[k] = merged;
    } else if (Array.isArray(v)) {
      orig[k] = mergeList(orig[k], v, listStrategy(kind, [...path, k]), kind, [...path, k]);
    } else {
      orig[k] = v;
    }
  }
  for (const [field, order] of orders) {
    const cur = orig[field];
    if (Array.isArray(cur)) orig[field] = reorder(cur, order, listStrategy(kind, [...path, field]));
  }
  return orig;
}

function mergeList(
  orig: unknown,
  patch: unknown[],
  strategy: ListStrategy,
  kind: string,
  path: string[],
): unknown[] {
  const base = Array.isArray(orig) ? orig : [];
  if (strategy.type === "atomic") return clone(patch);
  if (strategy.type === "set") {
    const out = [...base];
    for (const x of patch) if (!out.some((y) => deepEqual(x, y))) out.push(clone(x));
    return out;
  }
  const key = strategy.key;
  if (patch.some((p) => isObject(p) && p.$patch === "replace")) {
    return patch
      .filter((p) => !(isObject(p) && p.$patch === "replace"))
      .map((p) => (isObject(p) ? mergeMap({}, p, kind, path) : clone(p)));
  }
  const out = [...base];
  for (const p of patch) {
    if (!isObject(p))
      throw bad(`list ${path.join(".")} is merged by "${key}" but the patch holds a ${typeof p}`);
    if (!Object.hasOwn(p, key)) {
      throw bad(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    }
    const at = out.findIndex((o) => isObject(o) && deepEqual(o[key], p[key]));
    if (p.$patch === "delete") {
      if (at >= 0) {
        const kept = out.filter((o) => !(isObject(o) && deepEqual(o[key], p[key])));
        out.length = 0;
        out.push(...kept);
      }
      continue;
    }
    const merged = mergeMap(at >= 0 ? (out[at] as JsonObject) : {}, p, kind, path);
    if (merged === undefined) continue;
    if (at >= 0) out[at] = merged;
    else out.push(merged);
  }
  return out;
}

/**
 * `$setElementOrder/<f>`: elements named in `order` come first, in that order; elements only the server has keep
 * their relative order after them. A simplification of apimachinery's interleaving that never drops an element.
 */
function reorder(list: unknown[], order: unknown[], strategy: ListStrategy): unknown[] {
  const id = (x: unknown): unknown => (strategy.type === "map" && isObject(x) ? x[strategy.key] : x);
  const ids = order.map(id);
  const placed: unknown[] = [];
  for (const want of ids) {
    const at = list.findIndex((x) => deepEqual(id(x), want));
    if (at >= 0 && !placed.includes(list[at])) placed.push(list[at]);
  }
  const rest = list.filter((x) => !placed.includes(x));
  return [...placed, ...rest];
}

export function applyStrategicMergePatch(obj: KubeObject, patch: unknown, kind: string): KubeObject {
  if (!isBuiltInKind(kind)) return applyMergePatch(obj, patch);
  if (!isObject(patch)) {
    const got = Array.isArray(patch) ? "array" : patch === null ? "null" : typeof patch;
    throw bad(`json: cannot unmarshal ${got} into Go value of type map[string]interface {}`);
  }
  const out = mergeMap(clone(obj) as unknown as JsonObject, patch, kind, []);
  if (out === undefined) throw bad("a strategic merge patch cannot delete the whole object");
  return out as unknown as KubeObject;
}
