// What a held request would change, for the reviewer: the current object (GET) against a server-side dry run of the
// same request (dryRun=All, same body and content type, impersonating the requester), as a unified YAML diff; for
// deletes, also the objects that would go with it (ownerReferences, transitively). IO at the edges, pure in between.
//
// Stance: the preview is advice, never a gate. Any failure (the dry run refused, the object too big, a timeout) is
// reported in `error` and the review proceeds; everything is masked (src/mask) before anything is rendered.
import { stringify } from "yaml";
import type { KubeRequest } from "../kube/request.ts";
import { type MaskContext, maskedCopy } from "../mask/index.ts";
import type { Upstream } from "../upstream/index.ts";
import { unifiedDiff } from "./diff.ts";
import { asDryRun, withDryRun } from "./object-context.ts";
import type { ReviewPreview } from "./types.ts";
import { callUpstream } from "./upstream-call.ts";

export { withDryRun };

const PREVIEWED = new Set(["create", "update", "patch", "delete"]);
const NOISE = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"];

/** Candidates for dependents of a namespaced object: what Kubernetes controllers commonly own. */
const DEPENDENT_KINDS: { kind: string; path: string }[] = [
  { kind: "ReplicaSet", path: "/apis/apps/v1/namespaces/{ns}/replicasets" },
  { kind: "Pod", path: "/api/v1/namespaces/{ns}/pods" },
  { kind: "Job", path: "/apis/batch/v1/namespaces/{ns}/jobs" },
  { kind: "ControllerRevision", path: "/apis/apps/v1/namespaces/{ns}/controllerrevisions" },
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The object as a reviewer (or an MCP diff) reads it: masked by the one masking engine (the same ‹masked:…› markers
 * and detectors as every response), without bookkeeping fields that change on every write.
 */
export function renderObject(value: unknown, mask: MaskContext): string {
  if (!isObj(value)) return "";
  const copy = maskedCopy(value, mask);
  const meta = copy.metadata;
  if (isObj(meta)) for (const key of NOISE) delete meta[key];
  return stringify(copy, { lineWidth: 0 });
}

export function isStatus(value: unknown): value is { kind: "Status"; message?: string; status?: string } {
  return isObj(value) && value.kind === "Status";
}

export interface PreviewInput {
  upstream: Upstream;
  kube: KubeRequest;
  method: string;
  pathAndQuery: string;
  /** Impersonation headers of the requester and the request's content type. */
  headers: [string, string][];
  body: Buffer | undefined;
  /** How the objects are masked before they are rendered. */
  mask: MaskContext;
}

export async function computePreview(input: PreviewInput): Promise<ReviewPreview> {
  const { kube } = input;
  if (!kube.info.isResourceRequest || !PREVIEWED.has(kube.action)) {
    return { diff: "", summary: `no preview for ${kube.action}`, dependents: [], error: null };
  }
  const currentPath = objectPath(kube);
  const current = currentPath
    ? await callUpstream(input.upstream, "GET", currentPath, input.headers)
    : { status: 404, json: undefined };
  const before = current.status === 200 ? current.json : undefined;
  const errors: string[] = [];
  if (current.status !== 200 && current.status !== 404) {
    errors.push(`reading the current object: ${describeFailure(current)}`);
  }
  // A delete's dry run goes in its DeleteOptions body when it has one (a query dryRun beside a body is ignored by
  // kube-apiserver: that would be the real delete).
  let dryRequest: { pathAndQuery: string; body: Buffer | undefined };
  try {
    dryRequest = asDryRun(kube, input.pathAndQuery, input.body);
  } catch (err) {
    return { diff: "", summary: "no preview", dependents: [], error: (err as Error).message };
  }
  const dry = await callUpstream(
    input.upstream,
    input.method,
    dryRequest.pathAndQuery,
    input.headers,
    dryRequest.body,
  );
  let after: unknown;
  if (dry.status >= 200 && dry.status < 300) {
    // A delete answers the object (still present while finalizers run) or a Success Status: either way it goes.
    after = kube.action === "delete" ? undefined : isStatus(dry.json) ? before : dry.json;
  } else {
    errors.push(`the dry run was refused: ${describeFailure(dry)}`);
    after = before;
  }
  const diff = unifiedDiff(renderObject(before, input.mask), renderObject(after, input.mask), {
    a: before ? `${kube.info.resource}/${kube.info.name || "(new)"} (current)` : "(does not exist)",
    b: after ? "after the request (server-side dry run)" : "(deleted)",
  });
  const dependents = kube.action === "delete" && isObj(before) ? await findDependents(input, before) : [];
  const summary =
    errors.length && !diff.text
      ? "no preview: the dry run failed"
      : `${diff.added} lines added, ${diff.removed} removed${dependents.length ? `, ${dependents.length} dependent objects deleted with it` : ""}`;
  return { diff: diff.text, summary, dependents, error: errors.length ? errors.join("; ") : null };
}

function describeFailure(answer: { status: number; json: unknown; error?: string }): string {
  if (answer.error) return answer.error;
  const message = isStatus(answer.json) ? answer.json.message : undefined;
  return `HTTP ${answer.status}${message ? `: ${message}` : ""}`;
}

/** The path to GET for the object a write targets: the request path, or for a create the collection plus the name. */
function objectPath(kube: KubeRequest): string | undefined {
  const { info } = kube;
  if (kube.action !== "create") return info.name ? info.path : undefined;
  const meta = isObj(kube.body) ? kube.body.metadata : undefined;
  const name = isObj(meta) && typeof meta.name === "string" ? meta.name : undefined;
  if (!name || info.subresource) return undefined;
  return `${info.path.replace(/\/+$/, "")}/${encodeURIComponent(name)}`;
}

async function findDependents(input: PreviewInput, owner: Obj): Promise<ReviewPreview["dependents"]> {
  const meta = isObj(owner.metadata) ? owner.metadata : {};
  const ns = typeof meta.namespace === "string" ? meta.namespace : "";
  const uid = typeof meta.uid === "string" ? meta.uid : "";
  if (!ns || !uid) return [];
  const lists = await Promise.all(
    DEPENDENT_KINDS.map(async ({ kind, path }) => {
      const answer = await callUpstream(
        input.upstream,
        "GET",
        path.replace("{ns}", encodeURIComponent(ns)),
        input.headers,
      );
      const items = isObj(answer.json) && Array.isArray(answer.json.items) ? answer.json.items : [];
      return items.filter(isObj).map((item) => ({ kind, item }));
    }),
  );
  return ownedBy(uid, lists.flat()).map(({ kind, item }) => {
    const m = isObj(item.metadata) ? item.metadata : {};
    return { kind, namespace: ns, name: typeof m.name === "string" ? m.name : "" };
  });
}

/** Objects owned, directly or through other owned objects, by `rootUid`. Pure. */
export function ownedBy<T extends { item: Obj }>(rootUid: string, candidates: T[]): T[] {
  const owners = new Set([rootUid]);
  const found: T[] = [];
  let grew = true;
  while (grew) {
    grew = false;
    for (const candidate of candidates) {
      if (found.includes(candidate)) continue;
      const meta = isObj(candidate.item.metadata) ? candidate.item.metadata : {};
      const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
      if (refs.some((r) => isObj(r) && typeof r.uid === "string" && owners.has(r.uid))) {
        found.push(candidate);
        if (typeof meta.uid === "string") owners.add(meta.uid);
        grew = true;
      }
    }
  }
  return found;
}
