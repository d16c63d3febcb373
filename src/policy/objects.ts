// What a write is about, as policy sees it: the stored object (`oldObject`) and the resulting object (`object`), as
// in ValidatingAdmissionPolicy. The gateway loads them from the cluster only when a rule that could match reads them
// (objectNeeds); the evaluator binds them here. Pure.
//
// Stance: fail closed. A rule that reads an object the caller did not load is judged as a CEL error would be: it
// matches for deny and review rules and not for allow rules. Request bodies are never taken for the object of a
// write: a patch document, a DeleteOptions carrying labels or a YAML the cluster reads otherwise proves nothing.
import type { KubeRequest } from "../kube/request.ts";
import type { CompiledRule } from "./types.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const WRITES = new Set(["create", "update", "patch", "delete"]);
const RESULT_WRITES = new Set(["create", "update", "patch"]);

/** The action writes one object (create, update, patch, delete — also the effective views of other writes). */
export function writesOneObject(kube: KubeRequest): boolean {
  return kube.info.isResourceRequest && WRITES.has(kube.action);
}

/** The write leaves an object behind that a server-side dry run can show (not a delete, not an eviction). */
export function hasResultingObject(kube: KubeRequest): boolean {
  return (
    kube.info.isResourceRequest && RESULT_WRITES.has(kube.action) && kube.info.subresource !== "eviction"
  );
}

export interface ObjectNeeds {
  stored: boolean;
  result: boolean;
}

/**
 * The name a create gives its object: from the body, else (a body the gateway cannot read) from the resulting object;
 * undefined when neither is known yet; "" for a generateName create (its name is chosen by the cluster). Not a create:
 * undefined (the path's name applies).
 */
export function createdName(kube: KubeRequest): string | undefined {
  if (!kube.info.isResourceRequest || kube.action !== "create" || kube.info.name) return undefined;
  for (const source of [kube.body, kube.object]) {
    const meta = isObj(source) ? source.metadata : undefined;
    if (isObj(meta)) return typeof meta.name === "string" ? meta.name : "";
  }
  return kube.body === undefined ? undefined : "";
}

/** Which objects `rule` needs to be judged on `kube`. */
export function ruleObjectNeeds(rule: CompiledRule, kube: KubeRequest): ObjectNeeds {
  if (!writesOneObject(kube)) return { stored: false, result: false };
  const { object, oldObject, labels, name } = rule.reads;
  const result = hasResultingObject(kube);
  const nameUnknown = name && kube.action === "create" && createdName(kube) === undefined;
  return { stored: oldObject || labels, result: result && (object || labels || nameUnknown) };
}

/** `object` for CEL: the resulting object of a write (null after a delete), the body otherwise; undefined = not loaded. */
export function objectBinding(kube: KubeRequest): unknown {
  if (!writesOneObject(kube)) return kube.body ?? null;
  if (!hasResultingObject(kube)) return null;
  return kube.object;
}

/** `oldObject` for CEL: the stored object of a write (null when it does not exist); undefined = not loaded. */
export function oldObjectBinding(kube: KubeRequest): unknown {
  if (!writesOneObject(kube)) return null;
  return kube.oldObject;
}

function labelsOf(obj: unknown): Record<string, string> {
  const meta = isObj(obj) ? obj.metadata : undefined;
  const raw = isObj(meta) ? meta.labels : undefined;
  const out: Record<string, string> = {};
  if (isObj(raw)) for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * The label sets a write is judged on: the stored object's and (when the write leaves one) the resulting object's,
 * for each that exists. `undefined` for requests that write no single object (reads keep `requestLabels`);
 * "unknown" when a needed object was not loaded.
 */
export function writtenObjectLabels(kube: KubeRequest): Record<string, string>[] | "unknown" | undefined {
  if (!writesOneObject(kube)) return undefined;
  if (kube.oldObject === undefined) return "unknown";
  const sets: Record<string, string>[] = [];
  if (kube.oldObject !== null) sets.push(labelsOf(kube.oldObject));
  if (hasResultingObject(kube)) {
    if (kube.object === undefined) return "unknown";
    if (kube.object !== null) sets.push(labelsOf(kube.object));
  }
  return sets;
}
