// TEMPORARY SEAMS: minimal stand-ins for modules other engineers are writing in parallel (patch, table). Each export has the signature of the real module, so swapping an import from "./seams.ts" to the real
// module is the whole change. Delete this file once every seam is replaced.
//
// Failure stance: the stand-ins are deliberately small (equality selectors, JSON merge instead of strategic merge,
// a Name/Age table, admin-only auth) but never silently accept what they cannot do: unsupported input is a 400.
import { StatusError } from "../../shared/status.ts";
import type { KubeObject, ResourceType } from "../contracts.ts";

export function applyMergePatch(obj: KubeObject, patch: unknown): KubeObject {
  const merge = (target: unknown, p: unknown): unknown => {
    if (typeof p !== "object" || p === null || Array.isArray(p)) return structuredClone(p);
    const out: Record<string, unknown> =
      typeof target === "object" && target !== null && !Array.isArray(target)
        ? { ...(target as Record<string, unknown>) }
        : {};
    for (const [k, v] of Object.entries(p)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  };
  return merge(obj, patch) as KubeObject;
}

export const applyStrategicMergePatch = (obj: KubeObject, patch: unknown, _kind: string): KubeObject =>
  applyMergePatch(obj, patch);

export function applyJsonPatch(obj: KubeObject, ops: unknown): KubeObject {
  if (!Array.isArray(ops)) throw StatusError.of("BadRequest", "json patch must be an array of operations");
  const doc = structuredClone(obj) as Record<string, unknown>;
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const keys = op.path
      .split("/")
      .slice(1)
      .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = keys.pop() ?? "";
    let parent: Record<string, unknown> = doc;
    for (const k of keys) parent = parent[k] as Record<string, unknown>;
    if (!parent) throw StatusError.of("BadRequest", `json patch path not found: ${op.path}`);
    if (op.op === "add" || op.op === "replace") {
      if (Array.isArray(parent)) {
        if (last === "-") parent.push(op.value);
        else if (op.op === "add") parent.splice(Number(last), 0, op.value);
        else parent[Number(last)] = op.value;
      } else parent[last] = op.value;
    } else if (op.op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
        throw StatusError.of("Invalid", `the json patch test operation failed at ${op.path}`);
      }
    } else throw StatusError.of("BadRequest", `unsupported json patch operation: ${op.op}`);
  }
  return doc as KubeObject;
}

export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  _opts: { manager: string; force: boolean; apiVersion: string; now: string },
): KubeObject {
  return live ? applyMergePatch(live, applied) : structuredClone(applied);
}

export function trackUpdate(
  _before: KubeObject | undefined,
  after: KubeObject,
  _opts: { manager: string; operation: "Update"; apiVersion: string; now: string; subresource?: string },
): KubeObject {
  return after;
}

export function toTable(
  _type: ResourceType,
  objects: KubeObject[],
  opts: { includeObject: "None" | "Metadata" | "Object"; resourceVersion: string; continueToken?: string },
): KubeObject {
  return {
    apiVersion: "meta.k8s.io/v1",
    kind: "Table",
    metadata: {
      resourceVersion: opts.resourceVersion,
      ...(opts.continueToken ? { continue: opts.continueToken } : {}),
    },
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name", priority: 0 },
      { name: "Age", type: "string", format: "", description: "Age", priority: 0 },
    ],
    rows: objects.map((o) => ({
      cells: [o.metadata.name, "<unknown>"],
      object:
        opts.includeObject === "Object"
          ? o
          : opts.includeObject === "None"
            ? undefined
            : { apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadata", metadata: o.metadata },
    })),
  };
}
