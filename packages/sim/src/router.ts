// The simulator's own request router: turns method + URL into a SimRequest the way kube-apiserver's RequestInfo
// resolver does (wire-protocol §1.1), then looks the resource up in the registry. It shares no code with the gateway's
// classifier on purpose: the simulator is the reference the gateway is tested against.
//
// Failure stance: a path that cannot be decoded is a 400; an unknown resource is left without `type` and the API
// layer answers 404. Nothing here throws for an unknown path.

import type { ResourceRegistry, SimRequest } from "./contracts.ts";
import { StatusError } from "./status.ts";

const METHOD_VERBS: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** kube-apiserver's rule for `watch=`: true unless the first value is "0" or "false". */
function truthy(value: string | null): boolean {
  if (value === null) return false;
  const v = value.toLowerCase();
  return v !== "0" && v !== "false";
}

/** The name an exact `metadata.name=` term in a field selector narrows a list to, as RequestInfo fills it in. */
export function nameFromFieldSelector(selector: string | null): string {
  if (!selector) return "";
  for (const term of selector.split(",")) {
    const m = /^\s*metadata\.name\s*(==|=)\s*(.*?)\s*$/.exec(term);
    if (!m) continue;
    const value = m[2] ?? "";
    if (value === "." || value === ".." || value.includes("/") || value.includes("%")) return "";
    return value;
  }
  return "";
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw StatusError.of("BadRequest", `invalid URL path encoding: ${rawPath}`);
  }
}

export function routeRequest(method: string, rawUrl: string, registry: ResourceRegistry): SimRequest {
  const q = rawUrl.indexOf("?");
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1));
  const path = decodePath(rawPath);
  const route: SimRequest = {
    method,
    path,
    query,
    verb: method.toLowerCase(),
    resourceRequest: false,
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
  };
  let parts = path.replace(/^\/+|\/+$/g, "").split("/");
  if (parts.length === 1 && parts[0] === "") parts = [];
  if (parts.length < 3 || (parts[0] !== "api" && parts[0] !== "apis")) return route;
  const grouped = parts[0] === "apis";
  parts = parts.slice(1);
  if (grouped) {
    if (parts.length < 3) return route;
    route.apiGroup = parts[0] ?? "";
    parts = parts.slice(1);
  }
  route.resourceRequest = true;
  route.apiVersion = parts[0] ?? "";
  parts = parts.slice(1);

  if (parts[0] === "watch" || parts[0] === "proxy") {
    if (parts.length < 2) {
      throw StatusError.of(
        "InternalError",
        "failed to create RequestInfo: unable to determine kind and namespace from url",
      );
    }
    route.verb = parts[0];
    parts = parts.slice(1);
  } else {
    route.verb = METHOD_VERBS[method] ?? "";
  }

  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      route.namespace = parts[1] ?? "";
      if (parts.length > 2 && parts[2] !== "status" && parts[2] !== "finalize") parts = parts.slice(2);
    }
  }
  if (parts.length >= 3 && route.verb !== "proxy") route.subresource = parts[2] ?? "";
  if (parts.length >= 2) route.name = parts[1] ?? "";
  if (parts.length >= 1) route.resource = parts[0] ?? "";

  if (route.name === "" && route.verb === "get") {
    route.verb = truthy(query.get("watch")) ? "watch" : "list";
    route.name = nameFromFieldSelector(query.get("fieldSelector"));
  }
  if (route.name === "" && route.verb === "delete") route.verb = "deletecollection";

  route.type = registry.find(route.apiGroup, route.apiVersion, route.resource);
  return route;
}
