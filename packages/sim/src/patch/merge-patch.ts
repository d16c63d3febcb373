// RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge key by key, null deletes, everything
// else (lists included) replaces. The result must still be an object: a patch that would turn the resource into a
// list or a string is refused with 400 rather than stored.

import type { KubeObject } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { clone, isObject, type JsonObject } from "./values.ts";

/** Merges `patch` into `target` (a value this module owns), returning the merged value. */
export function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeValue(out[k], v);
  }
  return out;
}

export function applyMergePatch(obj: KubeObject, patch: unknown): KubeObject {
  if (!isObject(patch)) {
    const got = Array.isArray(patch) ? "array" : patch === null ? "null" : typeof patch;
    throw StatusError.of(
      "BadRequest",
      `json: cannot unmarshal ${got} into Go value of type map[string]interface {}`,
    );
  }
  return mergeValue(clone(obj), patch) as KubeObject;
}
