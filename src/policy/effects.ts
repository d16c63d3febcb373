// Effective verbs: what a request does besides what its verb says, as further requests policy decides too. Pure.
//
//   pods/eviction (create)             deletes the pod                        → delete pods/<name>
//   pods/ephemeralcontainers           changes the pod's spec                 → update pods/<name> (object = the pod)
//   a write that adds or changes metadata.ownerReferences (create, update, any patch; judged on the resulting object
//     against the stored one): an owner that does not exist, or stops existing, makes the garbage collector delete it
//                                                                            → delete of the object
//   a write that sets metadata.deletionTimestamp                             → delete of the object
//   a write that removes finalizers from an object already being deleted (it then goes)  → delete of the object
//
// Each effect request must be allowed too (deny > review > allow over all of them) and counts against the rate
// limits of its rules. Stance: when a body cannot be read (protobuf), its objects are loaded and compared; when an
// object that decides the effect is not loaded, the write counts as a delete (fail closed).

import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Decision } from "./decision.ts";
import { admitCharges, evaluate, type LimitCharge, objectNeeds, type RuleIndex } from "./evaluate.ts";
import type { ObjectNeeds } from "./objects.ts";
import { andThen, type Limiter, type RateLimiter } from "./ratelimit.ts";
import type { CompiledRule } from "./types.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const MARKERS = ["ownerReferences", "deletionTimestamp", "finalizers"];

/** Whether the body could touch what makes a write a deletion (walks keys and strings: JSON-patch paths too). */
function mentionsMarkers(value: unknown, depth = 0): boolean {
  if (depth > 600) return true;
  if (typeof value === "string") return MARKERS.some((m) => value.includes(m));
  if (Array.isArray(value)) return value.some((v) => mentionsMarkers(v, depth + 1));
  if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (MARKERS.some((m) => k.includes(m)) || mentionsMarkers(v, depth + 1)) return true;
    }
  }
  return false;
}

const OBJECT_WRITES = new Set(["create", "update", "patch"]);

/** A write on an object itself (not a subresource other than status) whose metadata could change. */
function writesMetadata(kube: KubeRequest): boolean {
  const { info } = kube;
  return (
    info.isResourceRequest &&
    OBJECT_WRITES.has(kube.action) &&
    (info.subresource === "" || info.subresource === "status")
  );
}

/** Whether deciding the deletion effects needs the stored and resulting objects. */
export function effectNeedsObjects(kube: KubeRequest): boolean {
  if (!writesMetadata(kube)) return false;
  // An object already being deleted goes once its finalizers do, and an apply or a PUT can drop them without naming
  // them (a field manager's owned finalizers vanish when its configuration leaves them out): compare the objects.
  if (metaOf(kube.oldObject).deletionTimestamp) return true;
  // An opaque (protobuf) body cannot be inspected: compare the objects.
  if (kube.body === undefined) return kube.info.verb !== "patch";
  return mentionsMarkers(kube.body);
}

function metaOf(obj: unknown): Obj {
  return isObj(obj) && isObj(obj.metadata) ? obj.metadata : {};
}

function ownerKey(refs: unknown): string {
  if (!Array.isArray(refs)) return "[]";
  return JSON.stringify(
    refs
      .filter(isObj)
      .map((r) => [r.apiVersion, r.kind, r.name, r.uid, r.controller ?? null, r.blockOwnerDeletion ?? null])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
}

/** Why the write deletes its object, or undefined. */
export function deletionEffectOf(kube: KubeRequest): string | undefined {
  if (!effectNeedsObjects(kube)) return undefined;
  const before = kube.oldObject;
  const after = kube.object;
  if (before === undefined || after === undefined) return "its objects could not be compared";
  const old = metaOf(before);
  const now = metaOf(after);
  const refsNow = Array.isArray(now.ownerReferences) ? now.ownerReferences : [];
  if (refsNow.length && ownerKey(old.ownerReferences) !== ownerKey(now.ownerReferences)) {
    return "it sets metadata.ownerReferences (an owner that does not exist, or stops existing, has the garbage collector delete the object)";
  }
  if (now.deletionTimestamp && !old.deletionTimestamp) return "it sets metadata.deletionTimestamp";
  if (old.deletionTimestamp) {
    const fin = (m: Obj) => (Array.isArray(m.finalizers) ? m.finalizers.length : 0);
    if (fin(now) < fin(old)) return "it removes finalizers from an object that is being deleted";
  }
  return undefined;
}

function nameOf(kube: KubeRequest): string {
  if (kube.info.name) return kube.info.name;
  const n = metaOf(kube.object).name;
  return typeof n === "string" ? n : "";
}

export interface Effect {
  kube: KubeRequest;
  /** Why the request counts as this one, for the message. */
  why: string;
}

/** The further requests `kube` counts as (see the header); their objects are those of `kube`. */
export function effectRequests(kube: KubeRequest): Effect[] {
  const { info } = kube;
  if (!info.isResourceRequest || info.apiGroup !== "" || info.resource !== "pods" || !info.name) {
    const why = deletionEffectOf(kube);
    if (!why) return [];
    return [{ kube: goneView(kube), why }];
  }
  if (info.subresource === "eviction" && kube.action === "create") {
    return [
      {
        kube: { ...kube, action: "delete", info: { ...info, verb: "delete", subresource: "" } },
        why: "an eviction deletes the pod",
      },
    ];
  }
  if (info.subresource === "ephemeralcontainers" && (kube.action === "update" || kube.action === "patch")) {
    return [
      {
        kube: { ...kube, action: "update", info: { ...info, verb: "update", subresource: "" } },
        why: "ephemeral containers change the pod's spec",
      },
    ];
  }
  const why = deletionEffectOf(kube);
  if (!why) return [];
  return [{ kube: goneView(kube), why }];
}

/** The delete a write amounts to: of the object it leaves behind (the one the garbage collector would take). */
function goneView(kube: KubeRequest): KubeRequest {
  const gone = kube.object ?? kube.oldObject;
  return {
    ...kube,
    action: "delete",
    info: { ...kube.info, verb: "delete", subresource: "", name: nameOf(kube) },
    oldObject: gone,
    object: null,
  };
}

/** The objects policy needs for `kube` and for the effect requests known before any object is read. */
export function objectNeedsWithEffects(
  index: RuleIndex,
  principal: Principal,
  kube: KubeRequest,
  now: number,
): ObjectNeeds {
  const needs = objectNeeds(index, { principal, kube, now });
  if (effectNeedsObjects(kube)) return { stored: true, result: true };
  for (const effect of effectRequests(kube)) {
    const n = objectNeeds(index, { principal, kube: effect.kube, now });
    needs.stored ||= n.stored;
    // An eviction's pod and an ephemeral container's pod: the stored pod, or the resulting one.
    needs.result ||= n.result;
  }
  return needs;
}

/**
 * The request's decision over itself and its effect requests (deny > review > allow; every one must be allowed),
 * with the rate limits of all of them counted once. A deletecollection is counted object by object elsewhere.
 */
export function decideCounting(
  index: RuleIndex,
  limiter: RateLimiter,
  principal: Principal,
  kube: KubeRequest,
  now: number,
): Decision;
export function decideCounting(
  index: RuleIndex,
  limiter: Limiter,
  principal: Principal,
  kube: KubeRequest,
  now: number,
): Decision | Promise<Decision>;
export function decideCounting(
  index: RuleIndex,
  limiter: Limiter,
  principal: Principal,
  kube: KubeRequest,
  now: number,
): Decision | Promise<Decision> {
  const result = evaluate(index, { principal, kube, now });
  let d = result.decision;
  if (d.effect === "deny" || kube.action === "deletecollection") return d;
  const seen = new Set<CompiledRule>(result.limited);
  const charges: LimitCharge[] = result.limited.map((rule) => ({ rule, cost: 1 }));
  for (const effect of effectRequests(kube)) {
    const e = evaluate(index, { principal, kube: effect.kube, now });
    if (e.decision.effect === "deny") {
      return {
        ...e.decision,
        message: `this ${kube.action} counts as ${effect.kube.action} of ${effect.kube.info.resource} "${effect.kube.info.name}" because ${effect.why}: ${e.decision.message}`,
      };
    }
    if (e.decision.effect === "review" && d.effect === "allow") {
      d = {
        ...e.decision,
        message: `${e.decision.message} (this ${kube.action} counts as ${effect.kube.action}: ${effect.why})`,
      };
    }
    for (const rule of e.limited) {
      if (seen.has(rule)) continue;
      seen.add(rule);
      charges.push({ rule, cost: 1 });
    }
  }
  return andThen(admitCharges(limiter, principal, charges, now), (refused) => refused ?? d);
}
