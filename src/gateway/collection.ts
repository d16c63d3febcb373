// deletecollection, expanded (issue 13 §2). A DELETE on a collection URL is checked against every object it would
// remove and then carried out as one DELETE per checked object, each bound to the object that was checked.
//
//   1. list: the gateway lists the collection with the request's own label and field selectors, as the caller
//      (impersonated), page by page, at most MAX_OBJECTS objects;
//   2. decide: policy decides each object (names, namespaces, stored labels; deny/review rules on `delete` too) and
//      counts one delete per object against rate limits (src/policy/collections.ts) — one denied object refuses all;
//   3. delete: each listed object is deleted on its own with DeleteOptions preconditions {uid, resourceVersion}, so
//      an object created after the list is never deleted (it was not listed) and an object changed after it was
//      checked (relabelled, replaced under the same name) is refused by the cluster with 409 instead of deleted.
//
// Fail closed: a list that fails, is too big, or has items without metadata refuses the request ("the set cannot be
// known"); a namespaced collection without a namespace is refused as kube-apiserver refuses it (405); client DeleteOptions with their own preconditions are refused (they cannot be combined with ours).
// Residual: the deletes are sequential, not atomic — a 409 midway leaves the earlier objects deleted (as
// kube-apiserver's own deletecollection does on error); the answer says how many went.

import type { Principal } from "../identity/types.ts";
import {
  badRequest,
  clusterRefused,
  forbidden,
  forbiddenHere,
  methodNotAllowed,
  policyDenial,
  rateLimited,
} from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import { factsOf, type ObjectFacts } from "../policy/collections.ts";
import type { Decision } from "../policy/decision.ts";
import { callUpstream } from "../review/upstream-call.ts";
import type { Upstream } from "../upstream/index.ts";

/** More objects than this in one deletecollection: refused, narrow the selectors. */
export const MAX_OBJECTS = 1000;
const PAGE = 100;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ListedObject {
  facts: ObjectFacts;
  uid: string;
  resourceVersion: string;
}

export interface ExpandedCollection {
  listKind: string;
  apiVersion: string;
  objects: ListedObject[];
  /** The DeleteOptions every per-object delete carries (preconditions added per object). */
  options: Obj;
}

type Result<T> = { ok: true; value: T } | { ok: false; status: Status };

function refused(kube: KubeRequest, why: string): Status {
  return forbidden(kube.info, `airlock: deletecollection refused: ${why}`);
}

/** DeleteOptions for the per-object deletes: the client's body, or (no body) its query options, in one body. */
export function deleteOptionsOf(kube: KubeRequest): Result<Obj> {
  const body = kube.body;
  if (body !== undefined && body !== null) {
    if (!isObj(body))
      return { ok: false, status: badRequest("airlock: the DeleteOptions body is not an object") };
    if (body.preconditions !== undefined) {
      return {
        ok: false,
        status: refused(
          kube,
          "DeleteOptions.preconditions cannot be combined with the per-object preconditions Airlock sets",
        ),
      };
    }
    return { ok: true, value: { apiVersion: "v1", kind: "DeleteOptions", ...body } };
  }
  // kube-apiserver reads DeleteOptions from the query only when there is no body: so does this.
  const q = kube.query;
  const opts: Obj = { apiVersion: "v1", kind: "DeleteOptions" };
  const dryRun = q.getAll("dryRun");
  if (dryRun.length) opts.dryRun = dryRun;
  const grace = q.get("gracePeriodSeconds");
  if (grace !== null) {
    if (!/^-?\d+$/.test(grace))
      return { ok: false, status: badRequest("airlock: gracePeriodSeconds is not an integer") };
    opts.gracePeriodSeconds = Number(grace);
  }
  const propagation = q.get("propagationPolicy");
  if (propagation !== null) opts.propagationPolicy = propagation;
  const orphan = q.get("orphanDependents");
  if (orphan !== null) opts.orphanDependents = orphan === "true";
  return { ok: true, value: opts };
}

function apiBase(kube: KubeRequest): string {
  const { apiGroup, apiVersion } = kube.info;
  return apiGroup ? `/apis/${apiGroup}/${apiVersion}` : `/api/${apiVersion}`;
}

/** The path of one object of the collection. */
export function objectPath(kube: KubeRequest, facts: ObjectFacts): string {
  const ns = facts.namespace ? `/namespaces/${encodeURIComponent(facts.namespace)}` : "";
  return `${apiBase(kube)}${ns}/${kube.info.resource}/${encodeURIComponent(facts.name)}`;
}

/** Lists what the deletecollection would remove, as the caller sees it; refuses when the set cannot be known. */
export async function listCollection(
  upstream: Upstream,
  kube: KubeRequest,
  headers: [string, string][],
): Promise<Result<Omit<ExpandedCollection, "options">>> {
  const objects: ListedObject[] = [];
  let listKind = "";
  let apiVersion = "";
  let cont = "";
  do {
    const q = new URLSearchParams();
    if (kube.info.labelSelector) q.set("labelSelector", kube.info.labelSelector);
    if (kube.info.fieldSelector) q.set("fieldSelector", kube.info.fieldSelector);
    q.set("limit", String(PAGE));
    if (cont) q.set("continue", cont);
    const got = await callUpstream(upstream, "GET", `${kube.info.path}?${q}`, headers);
    if (got.status !== 200 || !isObj(got.json) || !Array.isArray(got.json.items)) {
      const why =
        got.error ??
        (isObj(got.json) && typeof got.json.message === "string" ? got.json.message : `status ${got.status}`);
      return { ok: false, status: refused(kube, `the objects it would delete cannot be listed (${why})`) };
    }
    const page = got.json;
    listKind = typeof page.kind === "string" ? page.kind : listKind;
    apiVersion = typeof page.apiVersion === "string" ? page.apiVersion : apiVersion;
    for (const item of page.items as unknown[]) {
      const facts = factsOf(item);
      const meta = isObj(item) && isObj(item.metadata) ? item.metadata : undefined;
      const uid = meta?.uid;
      const rv = meta?.resourceVersion;
      if (!facts || typeof uid !== "string" || typeof rv !== "string" || !uid || !rv) {
        return {
          ok: false,
          status: refused(kube, "an object it would delete has no readable name, uid or resourceVersion"),
        };
      }
      if (!kube.info.namespace && facts.namespace) {
        // kube-apiserver serves deletecollection of a namespaced resource only under /namespaces/{ns}: the
        // gateway must not turn a request the cluster would refuse into deletes across every namespace.
        const message = `airlock: deletecollection of ${kube.info.resource} across all namespaces is not served by kube-apiserver; delete within one namespace (…/namespaces/NS/${kube.info.resource})`;
        return { ok: false, status: methodNotAllowed(message) };
      }
      objects.push({ facts: { ...facts, object: item }, uid, resourceVersion: rv });
      if (objects.length > MAX_OBJECTS) {
        return {
          ok: false,
          status: refused(
            kube,
            `it would delete more than ${MAX_OBJECTS} objects; narrow the label or field selector`,
          ),
        };
      }
    }
    const meta = isObj(page.metadata) ? page.metadata : {};
    cont = typeof meta.continue === "string" ? meta.continue : "";
  } while (cont);
  return { ok: true, value: { listKind, apiVersion, objects } };
}

/** Lists, decides each object, and returns the checked set, or the refusal (403, or 429 for a rate limit). */
export async function checkCollection(
  decideCollection: NonNullable<import("./decide.ts").Decider["decideCollection"]>,
  upstream: Upstream,
  principal: Principal,
  kube: KubeRequest,
  decision: Decision,
  headers: [string, string][],
): Promise<
  { ok: true; collection: ExpandedCollection } | { ok: false; status: Status; decision?: Decision }
> {
  const options = deleteOptionsOf(kube);
  if (!options.ok) return options;
  const listed = await listCollection(upstream, kube, headers);
  if (!listed.ok) return listed;
  const verdict = await decideCollection(
    principal,
    kube,
    decision,
    listed.value.objects.map((o) => o.facts),
  );
  if (!verdict.ok) {
    const d = verdict.decision;
    const message = d.effect === "deny" ? d.message : "";
    if (d.effect === "deny" && d.retryAfterSeconds !== undefined) {
      const status = rateLimited("deletecollection", d, d.retryAfterSeconds);
      return { ok: false, status, decision: d };
    }
    const status = refused(kube, policyDenial({ ...d, message }));
    return { ok: false, status, decision: d };
  }
  return { ok: true, collection: { ...listed.value, options: options.value } };
}

/** Deletes each checked object with preconditions; the answer is kube-apiserver's: the list of deleted objects. */
export async function deleteEach(
  upstream: Upstream,
  kube: KubeRequest,
  headers: [string, string][],
  collection: ExpandedCollection,
  stopped: () => string | undefined = () => undefined,
): Promise<{ status: number; body: unknown; deleted: number; error?: string }> {
  const items: unknown[] = [];
  for (const obj of collection.objects) {
    // Checked before every delete: a revocation, an expiry or the client leaving ends the deletions there.
    const why = stopped();
    if (why !== undefined) {
      const message = `airlock: deletecollection stopped before ${kube.info.resource} "${obj.facts.name}" after deleting ${items.length} of ${collection.objects.length} checked objects: ${why}`;
      return { status: 403, body: forbiddenHere(message), deleted: items.length, error: message };
    }
    const body = Buffer.from(
      JSON.stringify({
        ...collection.options,
        preconditions: { uid: obj.uid, resourceVersion: obj.resourceVersion },
      }),
    );
    const got = await callUpstream(
      upstream,
      "DELETE",
      objectPath(kube, obj.facts),
      [...headers, ["Content-Type", "application/json"]],
      body,
    );
    if (got.status === 404) continue; // already gone: kube-apiserver's deletecollection skips it too
    if (got.status < 200 || got.status >= 300) {
      const why =
        got.error ??
        (isObj(got.json) && typeof got.json.message === "string" ? got.json.message : `status ${got.status}`);
      const message = `airlock: deletecollection stopped at ${kube.info.resource} "${obj.facts.name}" after deleting ${items.length} of ${collection.objects.length} checked objects: ${why}`;
      const code = got.status >= 400 ? got.status : 502;
      return {
        status: code,
        body: clusterRefused(message, code, isObj(got.json) ? got.json.reason : undefined),
        deleted: items.length,
        error: message,
      };
    }
    if (isObj(got.json) && got.json.kind !== "Status") items.push(got.json);
  }
  return {
    status: 200,
    body: { kind: collection.listKind, apiVersion: collection.apiVersion, metadata: {}, items },
    deleted: items.length,
  };
}
