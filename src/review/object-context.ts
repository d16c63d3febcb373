// The objects a write is about, read from the cluster on demand: the STORED object (a GET of the target) and the
// RESULTING object (a server-side dry run of the very request: same method, path, body, content type and
// impersonation, with dryRun=All). Policy conditions (`object`, `oldObject`), label selectors on writes and the
// review preview read them through one loader per request, so each is fetched at most once. IO at the edge.
//
// Stance: fail closed. A caller that needs an object and cannot have it gets a Status to refuse with, never a guess:
// a timeout, a credential failure or an unreadable answer is 503; the cluster's own refusal of the dry run (409,
// 422, 403, 404…) is relayed with its code, because the real request would be refused the same way.

import { clusterRefused, dependencyUnavailable } from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Status } from "../kube/status.ts";
import type { Upstream } from "../upstream/index.ts";
import { callUpstream, type UpstreamAnswer } from "./upstream-call.ts";

export type KubeObject = Record<string, unknown>;

/** An object read from the cluster: `null` when it does not exist (404, or a delete's result). */
export type Loaded = { ok: true; object: KubeObject | null } | { ok: false; status: Status };

export interface ObjectLoader {
  /** The object as stored now (GET of the target; for a create, the collection path plus the body's name). */
  stored(): Promise<Loaded>;
  /** The object the write would leave behind (server-side dry run); `null` for a delete. */
  resulting(): Promise<Loaded>;
  /** Any read as the requester (lists for deletecollection, owners…): the cluster's JSON answer or a Status. */
  get(pathAndQuery: string): Promise<Loaded>;
}

export interface LoaderInput {
  upstream: Upstream;
  kube: KubeRequest;
  method: string;
  /** The request target as it will be forwarded (query included). */
  pathAndQuery: string;
  /** The requester's impersonation headers (empty for a connection that does not impersonate). */
  impersonation: [string, string][];
  /** The body exactly as it will be forwarded, and its Content-Type. */
  body: Buffer | undefined;
  contentType: string | undefined;
  timeoutMs?: number;
}

const isObj = (v: unknown): v is KubeObject => typeof v === "object" && v !== null && !Array.isArray(v);

function statusOf(answer: UpstreamAnswer): { message?: string; reason?: string } | undefined {
  return isObj(answer.json) && answer.json.kind === "Status"
    ? (answer.json as { message?: string; reason?: string })
    : undefined;
}

/** What policy refuses with when an object it needs cannot be had; `what` names the read. */
function unavailable(what: string, answer: UpstreamAnswer): Status {
  const s = statusOf(answer);
  if (answer.status >= 400 && answer.status < 500) {
    // The cluster refused the read itself: the real request would be refused the same way; relay its code and reason.
    const message = `airlock: ${what} was refused by the cluster${s?.message ? `: ${s.message}` : ` (HTTP ${answer.status})`}; the request was not sent`;
    return clusterRefused(message, answer.status, s?.reason);
  }
  const why = answer.error ?? `HTTP ${answer.status}${s?.message ? `: ${s.message}` : ""}`;
  return dependencyUnavailable(
    `airlock: policy needs ${what}, which could not be had (${why}); the request was refused (fail closed). Retry later.`,
  );
}

/** The path to GET for the object a write targets: the request path, or for a create the collection plus the name. */
export function storedObjectPath(kube: KubeRequest, body: unknown): string | undefined {
  const { info } = kube;
  if (!info.isResourceRequest || !info.resource) return undefined;
  const base = info.subresource ? info.path.slice(0, info.path.lastIndexOf("/")) : info.path;
  if (info.name) return base;
  if (kube.info.verb !== "create") return undefined;
  const meta = isObj(body) ? body.metadata : undefined;
  const name = isObj(meta) && typeof meta.name === "string" ? meta.name : undefined;
  if (!name) return undefined;
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(name)}`;
}

/**
 * The same request as a server-side dry run. A delete with a body reads its DeleteOptions from the body ONLY
 * (kube-apiserver ignores the query then), so its dry run must say so in the body — `?dryRun=All` beside a body would
 * be a real delete.
 */
export function asDryRun(
  kube: KubeRequest,
  pathAndQuery: string,
  body: Buffer | undefined,
): { pathAndQuery: string; body: Buffer | undefined } {
  const deletes = kube.info.verb === "delete" || kube.info.verb === "deletecollection";
  if (!deletes || !body?.length) return { pathAndQuery: withDryRun(pathAndQuery), body };
  let options: unknown;
  try {
    options = JSON.parse(body.toString("utf8"));
  } catch {
    options = undefined;
  }
  if (!isObj(options)) throw new Error("a delete body that is not a JSON DeleteOptions cannot be dry-run");
  const [path, query = ""] = pathAndQuery.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.delete("dryRun");
  const rest = params.toString();
  return {
    pathAndQuery: rest ? `${path}?${rest}` : path,
    body: Buffer.from(JSON.stringify({ ...options, dryRun: ["All"] }), "utf8"),
  };
}

export function withDryRun(pathAndQuery: string): string {
  const [path, query = ""] = pathAndQuery.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set("dryRun", "All");
  return `${path}?${params}`;
}

/**
 * One loader per request; every read happens at most once. `body` (parsed) gives a create its name; the stored object
 * of a subresource write is its parent (a Scale's Deployment, an eviction's Pod).
 */
export function objectLoader(input: LoaderInput, parsedBody?: unknown): ObjectLoader {
  const timeoutMs = input.timeoutMs ?? 10_000;
  const headers = (withBody: boolean): [string, string][] => [
    ...input.impersonation,
    ...(withBody && input.contentType ? ([["Content-Type", input.contentType]] as [string, string][]) : []),
  ];
  let stored: Promise<Loaded> | undefined;
  let resulting: Promise<Loaded> | undefined;
  const get = async (pathAndQuery: string, what: string): Promise<Loaded> => {
    const answer = await callUpstream(
      input.upstream,
      "GET",
      pathAndQuery,
      headers(false),
      undefined,
      timeoutMs,
    );
    if (answer.status === 200 && isObj(answer.json)) return { ok: true, object: answer.json };
    if (answer.status === 404) return { ok: true, object: null };
    return { ok: false, status: unavailable(what, answer) };
  };
  return {
    stored() {
      stored ??= (async () => {
        const path = storedObjectPath(input.kube, parsedBody);
        if (!path) return { ok: true, object: null } as const;
        return get(path, "the stored object");
      })();
      return stored;
    },
    resulting() {
      resulting ??= (async (): Promise<Loaded> => {
        // A delete (and an eviction, which deletes its pod) leaves nothing behind: no dry run needed.
        if (input.kube.info.verb === "delete" || input.kube.info.subresource === "eviction") {
          return { ok: true, object: null };
        }
        const dry = asDryRun(input.kube, input.pathAndQuery, input.body);
        const answer = await callUpstream(
          input.upstream,
          input.method,
          dry.pathAndQuery,
          headers(true),
          dry.body,
          timeoutMs,
        );
        if (answer.status >= 200 && answer.status < 300) {
          if (!isObj(answer.json) || answer.json.kind === "Status") {
            return { ok: false, status: unavailable("the server-side dry run", { ...answer, status: 502 }) };
          }
          return { ok: true, object: answer.json };
        }
        return { ok: false, status: unavailable("the server-side dry run", answer) };
      })();
      return resulting;
    },
    get: (pathAndQuery) => get(pathAndQuery, `a read of ${pathAndQuery.split("?")[0]}`),
  };
}
