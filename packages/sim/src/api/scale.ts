// The scale subresource (autoscaling/v1 Scale) of deployments, replicasets and statefulsets: `kubectl scale` reads
// and writes spec.replicas through it, with the parent's resourceVersion for optimistic concurrency.
//
// Failure stance: a stale resourceVersion is 409 Conflict on the parent; a negative or non-integer replica count is
// 422 Invalid; nothing but spec.replicas of the parent can change here.
import type { IncomingMessage } from "node:http";
import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { applyJsonPatch, applyMergePatch } from "../patch/index.ts";
import { notFound } from "../store.ts";
import { asObject, decodePatchBody, patchTypeOf } from "./body.ts";
import type { ApiContext } from "./context.ts";
import { invalid } from "./prepare.ts";
import { decodeBody } from "./write.ts";
import { writerFor } from "./writer.ts";

/** The label selector of a workload in its string form, as Scale.status.selector carries it. */
function selectorString(obj: KubeObject): string {
  const sel = (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
  return Object.entries(sel?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export function scaleOf(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as { replicas?: number };
  const m = obj.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(obj) },
  };
}

export function getScale(ctx: ApiContext, type: ResourceType, route: SimRequest): KubeObject {
  const live = ctx.store.get(type, route.namespace, route.name);
  if (!live) throw notFound(type, route.name);
  return scaleOf(live);
}

/** PUT or PATCH of a Scale: the resulting spec.replicas is written to the parent. */
export function writeScale(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  req: IncomingMessage,
  body: Buffer,
): KubeObject {
  const live = ctx.store.get(type, route.namespace, route.name);
  if (!live) throw notFound(type, route.name);
  let next: Record<string, unknown>;
  if (route.method === "PUT") {
    next = decodeBody(ctx, req, body);
  } else {
    const patchType = patchTypeOf(req.headers["content-type"]);
    const patch = decodePatchBody(patchType, body);
    next =
      patchType === "json"
        ? applyJsonPatch(scaleOf(live), patch)
        : applyMergePatch(scaleOf(live), asObject(patch, "a patch"));
  }
  const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid(
      "Scale",
      "autoscaling",
      route.name,
      "spec.replicas",
      `Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
    );
  }
  const updated = structuredClone(live);
  (updated.spec as Record<string, unknown>).replicas = replicas;
  const rv = (next.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  updated.metadata.resourceVersion = rv || live.metadata.resourceVersion;
  return scaleOf(writerFor(ctx, route).update(type, updated));
}
