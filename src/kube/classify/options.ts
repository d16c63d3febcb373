// The options a write runs with (dryRun, gracePeriodSeconds, propagationPolicy), resolved exactly as kube-apiserver
// resolves them, so `request.dryRun` in a condition means what the cluster will do. Pure.
//
// kube-apiserver (endpoints/handlers/delete.go, DeleteResource and DeleteCollection) decodes DeleteOptions from the
// body when there is one, and from the query ONLY when the body is empty: a `DELETE …?dryRun=All` whose body lacks
// dryRun is a real delete. Create, update and patch read dryRun from the query (CreateOptions/UpdateOptions/
// PatchOptions). ValidateDeleteOptions / ValidateDryRun accept only "All" as a dryRun value.
//
// Stance: refuse what could be read two ways. A delete carrying DeleteOptions in both body and query is refused (the
// cluster would silently ignore the query); a dryRun other than "All" is refused. An eviction is a dry run when its
// query or its body's deleteOptions say so (the apiserver propagates one into the other).
import type { KubeRequest } from "../request.ts";
import { badRequest, ok, type Result } from "./result.ts";

export interface WriteOptions {
  /** The cluster will not persist the request. */
  dryRun: boolean;
  /** null when the request leaves it to the object's default. */
  gracePeriodSeconds: number | null;
  /** "" when unset. */
  propagationPolicy: string;
}

/** DeleteOptions fields kube-apiserver decodes from the query of a body-less delete. */
export const DELETE_QUERY_OPTIONS = [
  "dryRun",
  "gracePeriodSeconds",
  "propagationPolicy",
  "orphanDependents",
  "ignoreStoreReadErrorWithClusterBreakingPotential",
];
const POLICIES = new Set(["Foreground", "Background", "Orphan"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function queryDryRun(query: URLSearchParams): Result<boolean> {
  const values = query.getAll("dryRun");
  if (values.length === 0) return ok(false);
  if (values.length === 1 && values[0] === "All") return ok(true);
  return badRequest(
    `dryRun must be "All" (the only value kube-apiserver accepts), not ${JSON.stringify(values)}`,
  );
}

function bodyDryRun(value: unknown, where: string): Result<boolean> {
  if (value === undefined || value === null) return ok(false);
  if (!Array.isArray(value) || value.some((v) => v !== "All") || value.length > 1) {
    return badRequest(`${where}.dryRun must be [] or ["All"], not ${JSON.stringify(value).slice(0, 80)}`);
  }
  return ok(value.length === 1);
}

function deleteOptionsFrom(o: Obj, where: string): Result<WriteOptions> {
  const dry = bodyDryRun(o.dryRun, where);
  if (!dry.ok) return dry;
  const grace = o.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && !Number.isSafeInteger(grace)) {
    return badRequest(`${where}.gracePeriodSeconds must be an integer`);
  }
  const policy = o.propagationPolicy;
  if (policy !== undefined && policy !== null && (typeof policy !== "string" || !POLICIES.has(policy))) {
    return badRequest(`${where}.propagationPolicy must be Foreground, Background or Orphan`);
  }
  if (o.orphanDependents !== undefined && o.orphanDependents !== null) {
    if (typeof o.orphanDependents !== "boolean")
      return badRequest(`${where}.orphanDependents must be a boolean`);
    if (policy) return badRequest(`${where}: orphanDependents and propagationPolicy cannot both be set`);
  }
  return ok({
    dryRun: dry.value,
    gracePeriodSeconds: typeof grace === "number" ? grace : null,
    propagationPolicy: typeof policy === "string" ? policy : o.orphanDependents === true ? "Orphan" : "",
  });
}

function deleteOptionsFromQuery(query: URLSearchParams): Result<WriteOptions> {
  const o: Obj = {};
  const dry = queryDryRun(query);
  if (!dry.ok) return dry;
  if (dry.value) o.dryRun = ["All"];
  const grace = query.get("gracePeriodSeconds");
  if (grace !== null) {
    if (!/^[+-]?[0-9]{1,18}$/.test(grace)) return badRequest("gracePeriodSeconds must be an integer");
    o.gracePeriodSeconds = Number(grace);
  }
  const policy = query.get("propagationPolicy");
  if (policy !== null) o.propagationPolicy = policy;
  const orphan = query.get("orphanDependents");
  if (orphan !== null) {
    if (orphan !== "true" && orphan !== "false") return badRequest("orphanDependents must be true or false");
    o.orphanDependents = orphan === "true";
  }
  return deleteOptionsFrom(o, "query");
}

/**
 * The options of `kube` given its body (`bodyValue`: what the gateway read; `hasBody`: bytes were sent). Only
 * resource writes have options; everything else gets the defaults.
 */
export function resolveWriteOptions(
  kube: KubeRequest,
  bodyValue: unknown,
  hasBody: boolean,
): Result<WriteOptions> {
  const none: WriteOptions = { dryRun: false, gracePeriodSeconds: null, propagationPolicy: "" };
  const { verb, subresource, isResourceRequest } = kube.info;
  if (!isResourceRequest) return ok(none);
  if (verb === "delete" || verb === "deletecollection") {
    if (!hasBody) return deleteOptionsFromQuery(kube.query);
    const both = DELETE_QUERY_OPTIONS.filter((k) => kube.query.has(k));
    if (both.length) {
      return badRequest(
        `DeleteOptions were sent both in the body and in the query (${both.join(", ")}); kube-apiserver reads only the body then, so the request is refused — send them in one place`,
      );
    }
    if (!isObj(bodyValue)) return badRequest("a delete body must be a DeleteOptions object");
    if (bodyValue.kind !== undefined && bodyValue.kind !== "DeleteOptions") {
      return badRequest(`a delete body must be a DeleteOptions, not ${String(bodyValue.kind).slice(0, 60)}`);
    }
    return deleteOptionsFrom(bodyValue, "DeleteOptions");
  }
  if (!["create", "update", "patch"].includes(verb)) return ok(none);
  const dry = queryDryRun(kube.query);
  if (!dry.ok) return dry;
  if (verb === "create" && subresource === "eviction" && isObj(bodyValue) && isObj(bodyValue.deleteOptions)) {
    // The eviction deletes its pod with these options. kube-apiserver (pod/storage/eviction.go propagateDryRun)
    // copies the query's dryRun into them when they have none, so either one makes it a dry run (kubectl drain
    // --dry-run=server sets only the body's).
    const inner = deleteOptionsFrom(bodyValue.deleteOptions, "Eviction.deleteOptions");
    if (!inner.ok) return inner;
    return ok({ ...inner.value, dryRun: inner.value.dryRun || dry.value });
  }
  return ok({ ...none, dryRun: dry.value });
}
