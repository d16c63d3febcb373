// Non-resource endpoints: /version, health, discovery, OpenAPI. Pure functions from (path, Accept) to an answer, so
// the server only writes what they return.
//
// Failure stance: an unknown path is a 404 Status (`the server could not find the requested resource`), never a
// crash or an empty body.
import type { ResourceType } from "./contracts.ts";
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  legacyApiVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  wantsAggregated,
} from "./discovery.ts";
import { groupVersionDocument, openApiIndex } from "./openapi.ts";

export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4",
  gitCommit: "59526cd4867447956156ae3a602fcbac10a2c335",
  gitTreeState: "clean",
  buildDate: "2025-04-22T16:02:27Z",
  goVersion: "go1.23.6",
  compiler: "gc",
  platform: "linux/amd64",
};

export interface Answer {
  code: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Health and version: public, as kube-apiserver's system:public-info-viewer makes them. */
export const PUBLIC_PATHS = new Set(["/version", "/healthz", "/readyz", "/livez"]);

export function nonResourceAnswer(
  path: string,
  accept: string | undefined,
  types: ResourceType[],
  serverAddress: string,
): Answer | undefined {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (p === "/version") return { code: 200, body: VERSION_INFO };
  if (p === "/healthz" || p === "/readyz" || p === "/livez" || /^\/(healthz|readyz|livez)\/[\w-]+$/.test(p)) {
    return { code: 200, body: "ok", contentType: "text/plain; charset=utf-8" };
  }
  if (p === "/api" || p === "/apis") {
    if (wantsAggregated(accept)) {
      return {
        code: 200,
        body: aggregatedDiscovery(types, p === "/api"),
        contentType: AGGREGATED_CONTENT_TYPE,
        headers: { Vary: "Accept" },
      };
    }
    return {
      code: 200,
      body: p === "/api" ? legacyApiVersions(serverAddress) : legacyGroupList(types),
      headers: { Vary: "Accept" },
    };
  }
  const parts = p.split("/").slice(1);
  if (parts[0] === "api" && parts.length === 2) {
    const list = legacyResourceList(types, "", parts[1] ?? "");
    return list ? { code: 200, body: list } : undefined;
  }
  if (parts[0] === "apis" && parts.length === 2) {
    const group = legacyGroup(types, parts[1] ?? "");
    return group ? { code: 200, body: group } : undefined;
  }
  if (parts[0] === "apis" && parts.length === 3) {
    const list = legacyResourceList(types, parts[1] ?? "", parts[2] ?? "");
    return list ? { code: 200, body: list } : undefined;
  }
  if (p === "/openapi/v3") return { code: 200, body: openApiIndex(types) };
  if (parts[0] === "openapi" && parts[1] === "v3") {
    const rest = parts.slice(2);
    let doc: unknown;
    if (rest[0] === "api" && rest.length === 2) doc = groupVersionDocument(types, "", rest[1] ?? "");
    if (rest[0] === "apis" && rest.length === 3)
      doc = groupVersionDocument(types, rest[1] ?? "", rest[2] ?? "");
    return doc ? { code: 200, body: doc, headers: { "Cache-Control": "public, immutable" } } : undefined;
  }
  return undefined;
}
