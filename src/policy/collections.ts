// Per-object decisions for requests that reach many objects at once. Pure apart from the rate limiter it is handed.
//
// A list or watch is decided once for the request, and then each item (list item, Table row, watch event) is decided
// again as the same request on that one object: its namespace, name and stored labels. Only items whose own decision
// allows them (under the request's masking profile) reach the caller, so `get secrets -A` cannot read what
// `get secrets -n prod` may not. A deletecollection is decided object by object before anything is deleted: every
// object must be allowed as a deletecollection of that object, no deny or review rule on deleting it may match, and
// rate limits count one delete per object.
//
// Fail closed: an item without readable metadata is not kept (the caller refuses or cuts the stream).

import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import { isNamespaceObject } from "./compile.ts";
import type { Decision } from "./decision.ts";
import { admitCharges, type Evaluation, evaluate, type LimitCharge, type RuleIndex } from "./evaluate.ts";
import { andThen, type Limiter, type RateLimiter } from "./ratelimit.ts";
import type { CompiledRule } from "./types.ts";

/** What a per-object decision reads of one object. */
export interface ObjectFacts {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** The stored object itself, when the caller has it (deletecollection): CEL's `oldObject` for its deletes. */
  object?: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The namespace, name and labels of a Kubernetes object (or undefined when its metadata cannot be read). */
export function factsOf(obj: unknown): ObjectFacts | undefined {
  if (!isObj(obj) || !isObj(obj.metadata)) return undefined;
  const { name, namespace, labels } = obj.metadata;
  if (typeof name !== "string" || name === "") return undefined;
  if (namespace !== undefined && typeof namespace !== "string") return undefined;
  const out: Record<string, string> = {};
  if (labels !== undefined) {
    if (!isObj(labels)) return undefined;
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== "string") return undefined;
      out[k] = v;
    }
  }
  return { namespace: namespace ?? "", name, labels: out };
}

/** The request as if it had named this one object (RequestInfo of `GET …/namespaces/ns/res/name`). */
export function objectRequest(kube: KubeRequest, facts: ObjectFacts, action = kube.action): KubeRequest {
  const info = { ...kube.info, name: facts.name, namespace: facts.namespace };
  // kube-apiserver gives a request on a Namespace object that namespace; compile.ts decides what rules make of it.
  if (isNamespaceObject(info)) info.namespace = facts.name;
  if (action !== kube.action && ["delete", "deletecollection", "get"].includes(action)) info.verb = action;
  const one: KubeRequest = { ...kube, action, info };
  // A delete of a listed object: the stored object is the one listed, and nothing results (objects.ts bindings).
  if (action === "delete" && facts.object !== undefined) {
    one.oldObject = facts.object;
    one.object = null;
  }
  return one;
}

function subjectMatches(index: RuleIndex, rule: CompiledRule, principal: Principal): boolean {
  const policy = index.set.policies[rule.policyIndex];
  return Boolean(policy?.subjects(principal)) && (!rule.subjects || rule.subjects(principal));
}

/**
 * True when some rule that could apply to this collection request reads what differs from object to object
 * (namespaces, names, labels, CEL), so its items must be decided one by one.
 */
export function needsPerObject(index: RuleIndex, principal: Principal, kube: KubeRequest): boolean {
  if (!kube.info.isResourceRequest) return false;
  // A request that names its object already decided its namespace and name (and CEL sees the same request): only
  // label selectors read the object.
  // (Not a list or watch: a fieldSelector on metadata.name names the object but not its namespace.)
  const named = kube.info.name !== "" && !isCollectionRead(kube);
  // A list or watch item is also read as a get of it, so rules on `get` can tell items apart too.
  const actions = isCollectionRead(kube) ? [kube.action, "get"] : [kube.action];
  for (const action of actions) {
    for (const rule of index.candidates(action, kube.info.resource)) {
      const scoped = named ? rule.reads.labels : rule.objectScoped;
      if (scoped && subjectMatches(index, rule, principal)) return true;
    }
  }
  return false;
}

function isCollectionRead(kube: KubeRequest): boolean {
  return kube.action === "list" || kube.action === "watch";
}

/** Whether an item decided `item` may be shown to a caller whose request was decided `request`. */
export function itemAllowed(request: Decision, item: Decision): boolean {
  if (item.effect === "deny") return false;
  // A review decision on the item is covered only by the review the whole request already passed.
  if (item.effect === "review" && !sameRule(request, item)) return false;
  // The response carries one masking profile: an item that needs a different one is not shown.
  const requestMask = request.effect === "deny" ? undefined : request.mask;
  return item.mask === undefined || item.mask === requestMask;
}

export type ItemVerdict = { keep: true } | { keep: false; reason: string; decision?: Decision };

/**
 * The item filter of an allowed list or watch: decides each object as the same request on that object. Returns
 * undefined when no rule could tell the items apart (every item would get the request's own decision).
 */
export function itemFilter(
  index: RuleIndex,
  principal: Principal,
  kube: KubeRequest,
  request: Decision,
  now: () => number,
): ((obj: unknown) => ItemVerdict) | undefined {
  if (request.effect === "deny" || !needsPerObject(index, principal, kube)) return undefined;
  return (obj) => {
    const facts = factsOf(obj);
    if (!facts) return { keep: false, reason: "an item without readable metadata" };
    const input = { principal, now: now(), objectLabels: facts.labels };
    const d = evaluate(index, { ...input, kube: objectRequest(kube, facts) }).decision;
    if (!itemAllowed(request, d)) return { keep: false, reason: d.effect, decision: d };
    if (!isCollectionRead(kube)) return { keep: true };
    // Listing an object reads it: a deny or review rule on getting it hides it too (no allow for get is needed).
    const asGet = evaluate(index, { ...input, kube: objectRequest(kube, facts, "get") }).decision;
    if (asGet.effect === "deny" && asGet.policy !== "default")
      return { keep: false, reason: "deny", decision: asGet };
    if (asGet.effect === "review") return { keep: false, reason: "review", decision: asGet };
    return { keep: true };
  };
}

/** The outcome of deciding the objects a deletecollection would remove. */
export type CollectionVerdict = { ok: true; decision: Decision } | { ok: false; decision: Decision };

function where(facts: ObjectFacts): string {
  return facts.namespace ? `"${facts.name}" in namespace "${facts.namespace}"` : `"${facts.name}"`;
}

/**
 * Decides a deletecollection object by object and, when every object may go, counts one delete per object against
 * every rate-limited rule that matched it (all or nothing). The request itself must already be allowed.
 */
export function decideCollection(
  index: RuleIndex,
  limiter: RateLimiter | undefined,
  principal: Principal,
  kube: KubeRequest,
  request: Decision,
  objects: readonly ObjectFacts[],
  now: number,
): CollectionVerdict;
export function decideCollection(
  index: RuleIndex,
  limiter: Limiter | undefined,
  principal: Principal,
  kube: KubeRequest,
  request: Decision,
  objects: readonly ObjectFacts[],
  now: number,
): CollectionVerdict | Promise<CollectionVerdict>;
export function decideCollection(
  index: RuleIndex,
  limiter: Limiter | undefined,
  principal: Principal,
  kube: KubeRequest,
  request: Decision,
  objects: readonly ObjectFacts[],
  now: number,
): CollectionVerdict | Promise<CollectionVerdict> {
  const cost = new Map<CompiledRule, number>();
  const charge = (rules: readonly CompiledRule[], seen: Set<CompiledRule>) => {
    for (const r of rules) {
      if (seen.has(r)) continue;
      seen.add(r);
      cost.set(r, (cost.get(r) ?? 0) + 1);
    }
  };
  for (const facts of objects) {
    const input = { principal, now, objectLabels: facts.labels };
    const asCollection = evaluate(index, { ...input, kube: objectRequest(kube, facts) });
    const refused = refusal(request, asCollection, facts, kube);
    if (refused) return { ok: false, decision: refused };
    // Deleting an object through its collection is deleting it: deny and review rules on `delete` apply too.
    const asDelete = evaluate(index, { ...input, kube: objectRequest(kube, facts, "delete") });
    const d = asDelete.decision;
    if (d.effect === "deny" && d.policy !== "default") return { ok: false, decision: named(d, facts) };
    if (d.effect === "review") {
      const message = `deleting ${kube.info.resource} ${where(facts)} needs a review (policy ${d.policy} rule ${d.rule}); delete it on its own`;
      return { ok: false, decision: { effect: "deny", policy: d.policy, rule: d.rule, message } };
    }
    const seen = new Set<CompiledRule>();
    charge(asCollection.limited, seen);
    if (d.effect === "allow") charge(asDelete.limited, seen);
  }
  // A request that removes nothing still counts once, as any request does.
  const charges: LimitCharge[] = [...cost].map(([rule, n]) => ({ rule, cost: n }));
  if (objects.length === 0) {
    const none = evaluate(index, { principal, kube, now });
    for (const rule of none.limited) charges.push({ rule, cost: 1 });
  }
  if (!limiter) return { ok: true, decision: request };
  return andThen(
    admitCharges(limiter, principal, charges, now),
    (limited): CollectionVerdict =>
      limited ? { ok: false, decision: limited } : { ok: true, decision: request },
  );
}

function named(d: Decision & { effect: "deny" }, facts: ObjectFacts): Decision {
  return { ...d, message: `${d.message} (object ${where(facts)})` };
}

function sameRule(a: Decision, b: Decision): boolean {
  return a.effect === b.effect && a.policy === b.policy && a.rule === b.rule;
}

function refusal(
  request: Decision,
  one: Evaluation,
  facts: ObjectFacts,
  kube: KubeRequest,
): Decision | undefined {
  const d = one.decision;
  if (d.effect === "deny") return named(d, facts);
  if (d.effect === "review" && !sameRule(request, d)) {
    const message = `deleting ${kube.info.resource} ${where(facts)} needs a review (policy ${d.policy} rule ${d.rule}); delete it on its own`;
    return { effect: "deny", policy: d.policy, rule: d.rule, message };
  }
  return undefined;
}
