// kube-apiserver's RequestInfo (k8s.io/apiserver pkg/endpoints/request/requestinfo.go, v0.32), ported step by step.
// Policy decides on this, so it must agree with the apiserver on every clean request: the table in
// kubernetes-wire-protocol.md §1.2 (shared/testdata/requestinfo-vectors.json) is the contract, tested vector by vector.
//
// Input is the decoded path (Go's URL.Path) and the parsed query; path hygiene has already refused anything ambiguous.
// Failure stance: where the apiserver errors we refuse with the Status it would send; where a query value could be read
// two ways by the apiserver itself (non-ASCII "watch", see below) we refuse with 400.

import { internalError } from "../refusals.ts";
import type { RequestInfo } from "../request.ts";
import { badRequest, ok, type Result } from "./result.ts";
import { exactMatch, isGoInt64, isValidLabelSelector, parseFieldSelector } from "./selectors.ts";

const API_PREFIXES = new Set(["api", "apis"]);
const GROUPLESS_PREFIXES = new Set(["api"]);
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const METHOD_VERBS: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

export function resolveRequestInfo(
  method: string,
  path: string,
  query: URLSearchParams,
): Result<RequestInfo> {
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    parts: [],
    fieldSelector: "",
    labelSelector: "",
  };

  let parts = splitPath(path);
  if (parts.length < 3) return ok(info);
  if (!API_PREFIXES.has(parts[0]!)) return ok(info);
  info.apiPrefix = parts[0]!;
  parts = parts.slice(1);

  if (!GROUPLESS_PREFIXES.has(info.apiPrefix)) {
    if (parts.length < 3) return ok(info);
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }

  info.isResourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  let verbViaPathPrefix = false;
  if (SPECIAL_VERBS.has(parts[0] ?? "")) {
    if (parts.length < 2) {
      // The WithRequestInfo filter answers this with a 500; we refuse the same way rather than guess.
      return {
        ok: false,
        status: internalError(
          `failed to create RequestInfo: unable to determine kind and namespace from url, ${path}`,
        ),
      };
    }
    info.verb = parts[0]!;
    parts = parts.slice(1);
    verbViaPathPrefix = true;
  } else {
    info.verb = METHOD_VERBS[method] ?? "";
  }

  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      // /namespaces/{name}/status|finalize are subresources of the namespace itself, not a nested resource.
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }

  info.parts = parts;
  if (parts.length >= 3 && info.verb !== "proxy") info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  if (info.name === "" && info.verb === "get") {
    const opts = decodeListOptions(query);
    if (!opts.ok) return opts;
    info.verb = opts.value.watch ? "watch" : "list";
    const name = opts.value.exactName;
    if (name !== undefined && isValidPathSegmentName(name)) info.name = name;
  }

  if (info.name === "" && info.verb === "delete") info.verb = "deletecollection";

  // AuthorizeWithSelectors (beta, on in 1.32): selectors are exposed, raw, except on the legacy /watch/ paths.
  if (
    !verbViaPathPrefix &&
    (info.verb === "list" || info.verb === "watch" || info.verb === "deletecollection")
  ) {
    info.labelSelector = query.get("labelSelector") ?? "";
    info.fieldSelector = query.get("fieldSelector") ?? "";
  }
  return ok(info);
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

/**
 * metainternalversion ParameterCodec.DecodeParameters into ListOptions, reduced to what RequestInfo reads. On a decode
 * error the apiserver keeps only a raw reading of "watch" and drops the field-selector name (vector 24).
 */
function decodeListOptions(query: URLSearchParams): Result<{ watch: boolean; exactName?: string }> {
  const watchValue = query.get("watch");
  // The normal path compares with strings.EqualFold, the fallback with strings.ToLower: for non-ASCII values (e.g.
  // "falſe", whose long s folds to "s") they disagree, so such a value has no single meaning.
  if (watchValue !== null && !/^[\x20-\x7e]*$/.test(watchValue)) {
    return badRequest(`refused ambiguous query string: non-ASCII value for "watch"`);
  }
  const watch = watchValue !== null && watchValue !== "0" && watchValue.toLowerCase() !== "false";

  for (const key of ["limit", "timeoutSeconds"]) {
    const v = query.get(key);
    if (v !== null && !isGoInt64(v)) return ok({ watch });
  }
  const terms = parseFieldSelector(query.get("fieldSelector") ?? "");
  if (!terms) return ok({ watch });
  if (!isValidLabelSelector(query.get("labelSelector") ?? "")) return ok({ watch });
  const exactName = exactMatch(terms, "metadata.name");
  return ok(exactName === undefined ? { watch } : { watch, exactName });
}

/** path.IsValidPathSegmentName: what may stand in a path segment as an object name. */
export function isValidPathSegmentName(name: string): boolean {
  return name !== "." && name !== ".." && !name.includes("/") && !name.includes("%");
}
