// Field paths and field sets in the FieldsV1 format of `metadata.managedFields` (structured-merge-diff):
// a path is a list of element keys — `f:<field>`, `k:{"name":"app"}` (an associative-list item by its key),
// `v:"x"` (a set-list value), `i:0` (a list position). A set is a Set of paths, each serialised as a JSON array,
// so that one path's descendants are exactly the strings that extend its prefix.
//
// Only the fields a manager can own are collected: identity and bookkeeping metadata (name, uid, resourceVersion,
// managedFields, …) never are, exactly as the apiserver strips them.
import { listStrategy } from "./schema.ts";
import { deepEqual, isObject, type JsonObject } from "./values.ts";

export type FieldSet = Set<string>;
export type PathKeys = string[];

export const pathId = (keys: PathKeys): string => JSON.stringify(keys);
export const pathKeys = (id: string): PathKeys => JSON.parse(id) as PathKeys;

/** The paths that have a strict descendant in `set`: one pass, so callers avoid a quadratic scan per path. */
export function ancestorsIn(set: FieldSet): Set<string> {
  const out = new Set<string>();
  for (const id of set) {
    const keys = pathKeys(id);
    for (let i = 1; i < keys.length; i++) out.add(pathId(keys.slice(0, i)));
  }
  return out;
}

const SYSTEM_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
  "generateName",
]);

/** Maps whose own existence is recorded (".") when an update creates them, as the apiserver's diff does. */
const GRANULAR_MAPS = new Set(["labels", "annotations", "data", "binaryData", "stringData", "nodeSelector"]);

/** Which top-level part of the object a request may own: the main resource never owns status, /status only it. */
export type Scope = "main" | "status";

function sortedKeyObject(item: JsonObject, key: string): string {
  return JSON.stringify({ [key]: item[key] });
}

/**
 * The fields `obj` sets, as the apiserver's ToFieldSet computes them for an apply configuration: every leaf, every
 * empty map, every atomic list, and every associative-list item. `maps` (optional) collects the paths of granular
 * maps, for the "." entries an update records.
 */
export function fieldsOf(obj: JsonObject, kind: string, scope: Scope = "main", maps?: FieldSet): FieldSet {
  const out: FieldSet = new Set();
  const walk = (v: unknown, keys: PathKeys, names: string[]): void => {
    if (isObject(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) {
        out.add(pathId(keys));
        return;
      }
      if (maps && GRANULAR_MAPS.has(names[names.length - 1] ?? "")) maps.add(pathId(keys));
      for (const [k, child] of entries) walk(child, [...keys, `f:${k}`], [...names, k]);
      return;
    }
    if (Array.isArray(v)) {
      const s = listStrategy(kind, names);
      if (v.length === 0 || s.type === "atomic") out.add(pathId(keys));
      else if (s.type === "set") for (const x of v) out.add(pathId([...keys, `v:${JSON.stringify(x)}`]));
      else if (v.every((x) => isObject(x) && Object.hasOwn(x, s.key))) {
        for (const item of v as JsonObject[]) {
          const ik = [...keys, `k:${sortedKeyObject(item, s.key)}`];
          out.add(pathId(ik));
          for (const [k, child] of Object.entries(item)) walk(child, [...ik, `f:${k}`], [...names, k]);
        }
      } else out.add(pathId(keys));
      return;
    }
    out.add(pathId(keys));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind") continue;
    if ((k === "status") !== (scope === "status")) continue;
    if (k === "metadata" && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (!SYSTEM_METADATA.has(mk)) walk(mv, ["f:metadata", `f:${mk}`], ["metadata", mk]);
      }
      continue;
    }
    walk(v, [`f:${k}`], [k]);
  }
  return out;
}

/** Finds the list item an element key (`k:`, `v:` or `i:`) names; -1 when absent. */
function findItem(list: unknown[], key: string): number {
  const body = key.slice(2);
  if (key.startsWith("i:")) {
    const i = Number(body);
    return i < list.length ? i : -1;
  }
  const want = JSON.parse(body) as unknown;
  if (key.startsWith("v:")) return list.findIndex((x) => deepEqual(x, want));
  const fields = Object.entries(want as JsonObject);
  return list.findIndex((x) => isObject(x) && fields.every(([f, fv]) => deepEqual(x[f], fv)));
}

export function valueAt(obj: unknown, keys: PathKeys): { found: boolean; value?: unknown } {
  let cur = obj;
  for (const key of keys) {
    if (key.startsWith("f:")) {
      if (!isObject(cur) || !Object.hasOwn(cur, key.slice(2))) return { found: false };
      cur = cur[key.slice(2)];
    } else {
      if (!Array.isArray(cur)) return { found: false };
      const i = findItem(cur, key);
      if (i < 0) return { found: false };
      cur = cur[i];
    }
  }
  return { found: true, value: cur };
}

/** Removes the value at `keys` from `obj` (which the caller owns); a missing path is not an error. */
export function removeAt(obj: unknown, keys: PathKeys): void {
  const parent = valueAt(obj, keys.slice(0, -1));
  const last = keys[keys.length - 1];
  if (!parent.found || last === undefined) return;
  const c = parent.value;
  if (last.startsWith("f:")) {
    if (isObject(c)) delete c[last.slice(2)];
  } else if (Array.isArray(c)) {
    const i = findItem(c, last);
    if (i >= 0) c.splice(i, 1);
  }
}

/** The path as the apiserver prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(keys: PathKeys): string {
  return keys
    .map((k) => {
      const body = k.slice(2);
      if (k.startsWith("f:")) return `.${body}`;
      if (k.startsWith("i:")) return `[${body}]`;
      if (k.startsWith("v:")) return `[=${body}]`;
      const fields = Object.entries(JSON.parse(body) as JsonObject).map(
        ([f, v]) => `${f}=${JSON.stringify(v)}`,
      );
      return `[${fields.join(",")}]`;
    })
    .join("");
}

type Node = { member: boolean; children: Map<string, Node> };

export function toFieldsV1(set: FieldSet): JsonObject {
  const root: Node = { member: false, children: new Map() };
  for (const id of set) {
    let n = root;
    for (const k of pathKeys(id)) {
      let c = n.children.get(k);
      if (!c) {
        c = { member: false, children: new Map() };
        n.children.set(k, c);
      }
      n = c;
    }
    n.member = true;
  }
  const encode = (n: Node): JsonObject => {
    const out: JsonObject = {};
    if (n.member && n.children.size > 0) out["."] = {};
    for (const k of [...n.children.keys()].sort()) out[k] = encode(n.children.get(k)!);
    return out;
  };
  return encode(root);
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, keys: PathKeys): void => {
    if (!isObject(node)) return;
    for (const [k, child] of Object.entries(node)) {
      if (k === ".") {
        if (keys.length) out.add(pathId(keys));
        continue;
      }
      if (isObject(child) && Object.keys(child).length === 0) out.add(pathId([...keys, k]));
      else walk(child, [...keys, k]);
    }
  };
  walk(tree, []);
  return out;
}
