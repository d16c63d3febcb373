// RFC 6902 JSON Patch (application/json-patch+json), with the error split kube-apiserver uses: a body that is not a
// list of operations is 400 BadRequest; an operation that cannot apply to this object (a failed `test`, a path that
// does not exist) is 422 Invalid. An operation we do not know is refused (400), never skipped.
//
// The patch is all-or-nothing: operations run on a private copy, so a failure part-way leaves the input untouched.

import type { KubeObject } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { clone, deepEqual, isObject, type JsonObject } from "./values.ts";

type Op = { op: string; path: string; from?: string; value?: unknown; hasValue: boolean };
type Container = JsonObject | unknown[];

function bad(message: string): StatusError {
  return StatusError.of("BadRequest", message);
}

/** The apiserver answers apply-time failures with a generic 422; the detail travels as a cause. */
function invalid(message: string, field: string): StatusError {
  return StatusError.of("Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ type: "FieldValueInvalid", message, field }],
  });
}

function decode(ops: unknown): Op[] {
  if (!Array.isArray(ops)) {
    throw bad(
      `json: cannot unmarshal ${ops === null ? "null" : typeof ops} into Go value of type jsonpatch.Patch`,
    );
  }
  return ops.map((raw, i) => {
    if (!isObject(raw))
      throw bad(`json: cannot unmarshal operation ${i} into Go value of type jsonpatch.Operation`);
    const op = raw.op;
    if (typeof op !== "string") throw bad(`Unexpected kind: unknown (operation ${i} has no "op")`);
    if (!["add", "remove", "replace", "move", "copy", "test"].includes(op))
      throw bad(`Unexpected kind: ${op}`);
    if (typeof raw.path !== "string") throw bad(`operation ${i} (${op}): missing "path"`);
    const hasValue = Object.hasOwn(raw, "value");
    if ((op === "add" || op === "replace" || op === "test") && !hasValue) {
      throw bad(`operation ${i} (${op}): missing "value"`);
    }
    if ((op === "move" || op === "copy") && typeof raw.from !== "string") {
      throw bad(`operation ${i} (${op}): missing "from"`);
    }
    const out: Op = { op, path: raw.path, value: raw.value, hasValue };
    if (typeof raw.from === "string") out.from = raw.from;
    return out;
  });
}

/** Splits a JSON Pointer into unescaped tokens ("~1" is "/", "~0" is "~"). */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/"))
    throw bad(`JSON pointer must be empty or start with '/': ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** Resolves all but the last token: the container the operation acts on. */
function parent(doc: JsonObject, tokens: string[]): Container | undefined {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1);
      cur = i === undefined ? undefined : cur[i];
    } else if (isObject(cur)) cur = Object.hasOwn(cur, t) ? cur[t] : undefined;
    else return undefined;
  }
  return Array.isArray(cur) || isObject(cur) ? cur : undefined;
}

function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const i = Number(token);
  return i <= max ? i : undefined;
}

function get(doc: JsonObject, path: string): { found: boolean; value?: unknown } {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return { found: true, value: doc };
  const c = parent(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(c)) {
    const i = arrayIndex(last, c.length - 1);
    return i === undefined ? { found: false } : { found: true, value: c[i] };
  }
  if (c && Object.hasOwn(c, last)) return { found: true, value: c[last] };
  return { found: false };
}

function add(doc: JsonObject, path: string, value: unknown, what = "add"): void {
  const tokens = parsePointer(path);
  if (tokens.length === 0)
    throw invalid(`${what} operation does not apply: cannot replace the whole document`, path);
  const c = parent(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (c === undefined)
    throw invalid(`${what} operation does not apply: doc is missing path: "${path}": missing value`, path);
  if (Array.isArray(c)) {
    const i = last === "-" ? c.length : arrayIndex(last, c.length);
    if (i === undefined)
      throw invalid(`Unable to access invalid index: ${last}: invalid index referenced`, path);
    c.splice(i, 0, value);
  } else c[last] = value;
}

function remove(doc: JsonObject, path: string, what = "remove"): unknown {
  const tokens = parsePointer(path);
  const c = tokens.length ? parent(doc, tokens) : undefined;
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(c)) {
    const i = arrayIndex(last, c.length - 1);
    if (i === undefined)
      throw invalid(`Unable to access invalid index: ${last}: invalid index referenced`, path);
    return c.splice(i, 1)[0];
  }
  if (!c || !Object.hasOwn(c, last)) {
    const msg =
      what === "remove"
        ? `Unable to remove nonexistent key: ${last}: missing value`
        : `${what} operation does not apply: doc is missing from path: ${path}: missing value`;
    throw invalid(msg, path);
  }
  const v = c[last];
  delete c[last];
  return v;
}

function applyOne(doc: JsonObject, op: Op): JsonObject {
  switch (op.op) {
    case "add":
      add(doc, op.path, clone(op.value));
      return doc;
    case "remove":
      remove(doc, op.path);
      return doc;
    case "replace": {
      if (op.path === "") {
        if (!isObject(op.value))
          throw invalid("replace operation does not apply: the document must stay an object", "");
        return clone(op.value);
      }
      if (!get(doc, op.path).found) {
        throw invalid(
          `replace operation does not apply: doc is missing key: ${op.path}: missing value`,
          op.path,
        );
      }
      remove(doc, op.path, "replace");
      add(doc, op.path, clone(op.value), "replace");
      return doc;
    }
    case "move": {
      if (op.from === op.path) return doc;
      if (op.path.startsWith(`${op.from}/`))
        throw invalid("move operation does not apply: cannot move into a child of itself", op.path);
      const v = remove(doc, op.from!, "move");
      add(doc, op.path, v, "move");
      return doc;
    }
    case "copy": {
      const src = get(doc, op.from!);
      if (!src.found) {
        throw invalid(
          `copy operation does not apply: doc is missing from path: ${op.from}: missing value`,
          op.from!,
        );
      }
      add(doc, op.path, clone(src.value), "copy");
      return doc;
    }
    default: {
      // "test": a missing path equals null, as evanphx/json-patch (the apiserver's library) treats it.
      const cur = get(doc, op.path);
      const ok = cur.found ? deepEqual(cur.value, op.value) : op.value === null;
      if (!ok) throw invalid(`testing value ${op.path} failed: test failed`, op.path);
      return doc;
    }
  }
}

/** Applies RFC 6902 operations to a copy of `obj`. */
export function applyJsonPatch(obj: KubeObject, ops: unknown): KubeObject {
  const decoded = decode(ops);
  let doc = clone(obj) as unknown as JsonObject;
  for (const op of decoded) doc = applyOne(doc, op);
  return doc as unknown as KubeObject;
}
