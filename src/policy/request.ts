// A described request — what `airlock policy test --request REQ.yaml` and `POST /airlock/v1/policies/evaluate`
// accept — turned into the Principal and KubeRequest the gateway would have built for the real thing.
//
// The described request is rendered as an HTTP method and path and run through the gateway's own classifier, so
// "what would happen" sees exactly the RequestInfo a live request gets; nothing here re-implements classification.
import { z } from "zod";
import type { Principal } from "../identity/types.ts";
import { classifyRequest } from "../kube/classify/index.ts";
import type { KubeRequest } from "../kube/request.ts";
import { formatPath } from "./load.ts";

const METHOD_OF: Record<string, string> = {
  get: "GET",
  list: "GET",
  watch: "GET",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
  exec: "GET",
  attach: "GET",
  portforward: "GET",
  proxy: "GET",
  post: "POST",
  put: "PUT",
  head: "HEAD",
  options: "OPTIONS",
};

export const describedRequest = z.strictObject({
  identity: z.strictObject({
    name: z.string().min(1),
    kind: z.enum(["agent", "human", "admin"]).default("agent"),
    groups: z.array(z.string()).default([]),
    labels: z.record(z.string(), z.string()).default({}),
  }),
  request: z.strictObject({
    cluster: z.string().default("default"),
    verb: z.string().optional(),
    method: z.string().optional(),
    path: z.string().startsWith("/").optional(),
    apiGroup: z.string().default(""),
    apiVersion: z.string().optional(),
    resource: z.string().optional(),
    subresource: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    labelSelector: z.string().optional(),
    fieldSelector: z.string().optional(),
    dryRun: z.boolean().optional(),
    query: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    exec: z
      .strictObject({
        command: z.array(z.string()).default([]),
        container: z.string().optional(),
        tty: z.boolean().optional(),
        stdin: z.boolean().optional(),
      })
      .optional(),
    /** The object the request leaves behind (CEL `object`, label selectors on writes); also the body sent. */
    object: z.unknown().optional(),
    /** The object as stored before the request (CEL `oldObject`); absent = it does not exist. */
    oldObject: z.unknown().optional(),
  }),
  /** Evaluate as of this time (RFC 3339); default now. */
  time: z.iso.datetime({ offset: true }).optional(),
});
export type DescribedRequest = z.input<typeof describedRequest>;

export type Described =
  | { ok: true; principal: Principal; kube: KubeRequest; now?: number }
  | { ok: false; errors: string[] };

function renderPath(
  r: z.infer<typeof describedRequest>["request"],
): { method: string; target: string } | string {
  const verb = r.verb ?? (r.path ? undefined : "get");
  const method = (r.method ?? (verb ? METHOD_OF[verb] : "GET") ?? "").toUpperCase();
  if (!method) return `request.verb: unknown verb "${verb}"`;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(r.query ?? {})) for (const one of [v].flat()) query.append(k, one);
  if (r.labelSelector) query.set("labelSelector", r.labelSelector);
  if (r.fieldSelector) query.set("fieldSelector", r.fieldSelector);
  if (r.dryRun) query.set("dryRun", "All");
  if (verb === "watch") query.set("watch", "true");
  let path = r.path;
  if (!path) {
    if (!r.resource) return "request: give a resource (with verb, namespace, name…) or a path";
    const version = r.apiVersion ?? "v1";
    const base = r.apiGroup ? `/apis/${r.apiGroup}/${version}` : `/api/${version}`;
    const ns = r.namespace && r.resource !== "namespaces" ? `/namespaces/${r.namespace}` : "";
    // A subresource (pods/eviction, …/status) always belongs to a named object, whatever the verb.
    const needsName =
      Boolean(r.subresource) || !["list", "watch", "create", "deletecollection"].includes(verb ?? "");
    const name = r.name ?? (r.resource === "namespaces" ? r.namespace : undefined);
    if (needsName && !name) return `request.name: verb ${verb} needs a name`;
    let sub = r.subresource;
    if (!sub && verb && ["exec", "attach", "portforward", "proxy"].includes(verb)) sub = verb;
    path = `${base}${ns}/${r.resource}${needsName && name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;
    if (sub === "exec" || sub === "attach") {
      const e = r.exec;
      for (const c of e?.command ?? []) query.append("command", c);
      if (e?.container) query.set("container", e.container);
      query.set("stdout", "true");
      if (e?.stdin) query.set("stdin", "true");
      if (e?.tty) query.set("tty", "true");
    }
  }
  const qs = query.toString();
  return { method, target: qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path };
}

/** Validates a described request and classifies it as the gateway would. */
export function describeToRequest(raw: unknown): Described {
  const parsed = describedRequest.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${formatPath(i.path) || "(top)"}: ${i.message}`),
    };
  }
  const { identity, request, time } = parsed.data;
  const rendered = renderPath(request);
  if (typeof rendered === "string") return { ok: false, errors: [rendered] };
  const classified = classifyRequest(rendered.method, rendered.target, request.cluster);
  if (!classified.ok) {
    return { ok: false, errors: [`request: ${classified.status.message ?? "cannot be classified"}`] };
  }
  const kube = classified.value;
  if (request.object !== undefined) {
    kube.body = request.object;
    kube.object = request.object;
  }
  // A described request states its objects: what it does not state does not exist.
  kube.oldObject = request.oldObject ?? null;
  if (kube.object === undefined) kube.object = null;
  const principal: Principal = {
    identityId: `described:${identity.name}`,
    kind: identity.kind,
    name: identity.name,
    groups: identity.groups,
    labels: identity.labels,
    credentialId: "described",
  };
  return { ok: true, principal, kube, ...(time ? { now: Date.parse(time) } : {}) };
}
