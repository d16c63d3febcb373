// Write tools on existing objects: delete, patch, scale, rollout restart and rollout status. Each sends exactly the
// request kubectl would (the scale subresource for scale, a strategic-merge patch of the pod template annotation
// for rollout restart), so a policy rule written for kubectl governs the tool alike. A write that needs a review
// returns at once with the review id; repeating the same call after approval sends the same bytes, so it matches
// the approved fingerprint.
import { z } from "zod";
import { type CallContext, failed, json, kube, masking, ok, text, toolError, warnings } from "../call.ts";
import { compactObject, readableObject, toYaml, untrusted } from "../format.ts";
import type { ResourceType } from "../resources.ts";
import { common, defineTool, MAY_WAIT, READ_ONLY, resourceArg } from "./define.ts";
import { changesNothing } from "./dry-run.ts";
import { pathOf, resolveType } from "./lookup.ts";

const WRITE = { readOnlyHint: false, openWorldHint: false } as const;

function summary(res: { headers: Record<string, unknown> }, line: string, extra = ""): string {
  const notes = warnings(res as Parameters<typeof warnings>[0]);
  return [...notes, line, extra].filter(Boolean).join("\n");
}

async function target(
  c: CallContext,
  a: { resource: string; name: string; namespace?: string | undefined; cluster?: string | undefined },
  subresource?: string,
) {
  const type = await resolveType(c, a.resource, a.cluster);
  if (!type.ok) return type;
  const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name, subresource });
  if (!path.ok) return path;
  return { ok: true as const, value: { type: type.value, path: path.value } };
}

function label(t: ResourceType, name: string): string {
  return `${t.group ? `${t.resource}.${t.group}` : t.resource}/${name}`;
}

export const deleteTool = defineTool({
  name: "k8s_delete",
  title: "Delete a Kubernetes object",
  description:
    "Delete one object by name (dependents are removed in the background, as kubectl does). May need a human's " +
    "approval: then the result names a pending review; wait with airlock_review_wait and repeat the call." +
    MAY_WAIT,
  input: {
    resource: resourceArg,
    name: z.string().min(1),
    ...common,
    gracePeriodSeconds: z.number().int().min(0).optional(),
  },
  output: { deleted: z.array(z.string()) },
  annotations: { ...WRITE, destructiveHint: true, idempotentHint: true },
  async run(c, a) {
    const t = await target(c, a);
    if (!t.ok) return t.result;
    // Fixed key order: the same arguments give the same body bytes, so a repeated call matches its approval.
    const body = JSON.stringify({
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: "Background",
      ...(a.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: a.gracePeriodSeconds } : {}),
    });
    const res = await kube(c, {
      method: "DELETE",
      path: t.value.path,
      headers: { "content-type": "application/json", accept: "application/json" },
      body,
    });
    if (!ok(res)) return failed(c, res);
    return text(summary(res, `${label(t.value.type, a.name)} deleted`), {
      deleted: [label(t.value.type, a.name)],
    });
  },
});

const PATCH_TYPES = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
} as const;

export const patchTool = defineTool({
  name: "k8s_patch",
  title: "Patch a Kubernetes object",
  description:
    "Patch one object: merge (RFC 7386, default), strategic (Kubernetes strategic merge) or json (RFC 6902 list of " +
    "operations). Returns the patched object. A patch the server-side dry run shows changes nothing is answered " +
    '"no change" and not sent.' +
    MAY_WAIT,
  input: {
    resource: resourceArg,
    name: z.string().min(1),
    ...common,
    patch: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).describe("The patch document"),
    type: z.enum(["merge", "strategic", "json"]).optional(),
  },
  output: { object: z.record(z.string(), z.unknown()), changed: z.boolean() },
  annotations: { ...WRITE, destructiveHint: true, idempotentHint: false },
  async run(c, a) {
    const t = await target(c, a);
    if (!t.ok) return t.result;
    const type = a.type ?? "merge";
    if ((type === "json") !== Array.isArray(a.patch))
      return toolError(
        type === "json" ? "a json patch is a list of operations" : `a ${type} patch is an object`,
      );
    const write = {
      method: "PATCH",
      path: t.value.path,
      headers: { "content-type": PATCH_TYPES[type], accept: "application/json" },
      body: JSON.stringify(a.patch),
    };
    if (await changesNothing(c, t.value.path, write))
      return text(`${label(t.value.type, a.name)}: no change (the patch changes nothing; nothing was sent)`, {
        changed: false,
      });
    const res = await kube(c, write);
    if (!ok(res)) return failed(c, res);
    const obj = readableObject(compactObject(json(res))) as Record<string, unknown>;
    const masked = masking(res, obj);
    return text(
      [
        summary(res, `${label(t.value.type, a.name)} patched`, untrusted("patched object", toYaml(obj))),
        ...(masked ? [masked.line] : []),
      ].join("\n"),
      { object: obj, changed: true, ...(masked ? { masked: masked.structured } : {}) },
    );
  },
});

const SCALABLE = new Set(["deployments", "statefulsets", "replicasets", "replicationcontrollers"]);

export const scaleTool = defineTool({
  name: "k8s_scale",
  title: "Scale a workload",
  description:
    "Set the replica count of a Deployment, StatefulSet or ReplicaSet (through its scale subresource). Scaling to " +
    'the count it already has is answered "no change" and not sent.' +
    MAY_WAIT,
  input: {
    resource: resourceArg.default("deployments"),
    name: z.string().min(1),
    ...common,
    replicas: z.number().int().min(0),
  },
  output: { replicas: z.number(), changed: z.boolean() },
  annotations: { ...WRITE, destructiveHint: true, idempotentHint: true },
  async run(c, a) {
    const t = await target(c, a, "scale");
    if (!t.ok) return t.result;
    if (!SCALABLE.has(t.value.type.resource)) return toolError(`${t.value.type.resource} cannot be scaled`);
    // kubectl scale sends this merge patch to the scale subresource; policy sees the same body.
    const write = {
      method: "PATCH",
      path: t.value.path,
      headers: { "content-type": PATCH_TYPES.merge, accept: "application/json" },
      body: JSON.stringify({ spec: { replicas: a.replicas } }),
    };
    if (await changesNothing(c, t.value.path, write))
      return text(
        `${label(t.value.type, a.name)}: no change (already ${a.replicas} replicas; nothing was sent)`,
        {
          replicas: a.replicas,
          changed: false,
        },
      );
    const res = await kube(c, write);
    if (!ok(res)) return failed(c, res);
    return text(summary(res, `${label(t.value.type, a.name)} scaled to ${a.replicas}`), {
      replicas: a.replicas,
      changed: true,
    });
  },
});

const RESTARTABLE = new Set(["deployments", "statefulsets", "daemonsets"]);

export const rolloutRestartTool = defineTool({
  name: "k8s_rollout_restart",
  title: "Restart a rollout",
  description:
    "Restart the pods of a Deployment, StatefulSet or DaemonSet by a rolling update (sets the restartedAt " +
    "annotation of the pod template, as kubectl rollout restart does)." +
    MAY_WAIT,
  input: { resource: resourceArg.default("deployments"), name: z.string().min(1), ...common },
  output: { restartedAt: z.string() },
  annotations: { ...WRITE, destructiveHint: true, idempotentHint: false },
  async run(c, a) {
    const t = await target(c, a);
    if (!t.ok) return t.result;
    if (!RESTARTABLE.has(t.value.type.resource))
      return toolError(`${t.value.type.resource} cannot be restarted`);
    const restartedAt = new Date().toISOString();
    const patch = {
      spec: {
        template: {
          metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": restartedAt } },
        },
      },
    };
    const res = await kube(c, {
      method: "PATCH",
      path: t.value.path,
      headers: { "content-type": PATCH_TYPES.strategic, accept: "application/json" },
      body: JSON.stringify(patch),
    });
    if (!ok(res)) return failed(c, res);
    return text(summary(res, `${label(t.value.type, a.name)} restarted`), { restartedAt });
  },
});

interface Workload {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
  };
}

/** kubectl's rollout status logic for a Deployment or StatefulSet: done, or what it waits for. */
export function rolloutState(w: Workload): { done: boolean; message: string } {
  const want = w.spec?.replicas ?? 1;
  const s = w.status ?? {};
  if ((s.observedGeneration ?? 0) < (w.metadata?.generation ?? 0))
    return { done: false, message: "Waiting for the rollout to be observed by the controller" };
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return { done: false, message: `${updated} of ${want} updated replicas are available` };
  if ((s.replicas ?? 0) > updated)
    return { done: false, message: `${(s.replicas ?? 0) - updated} old replicas are pending termination` };
  const available = s.availableReplicas ?? s.readyReplicas ?? 0;
  if (available < updated)
    return { done: false, message: `${available} of ${updated} updated replicas are available` };
  return { done: true, message: "successfully rolled out" };
}

export const rolloutStatusTool = defineTool({
  name: "k8s_rollout_status",
  title: "Rollout status",
  description:
    "Whether a Deployment or StatefulSet has finished rolling out; waits up to timeoutSeconds (default 0: just " +
    "check, at most 50) for it to finish.",
  input: {
    resource: resourceArg.default("deployments"),
    name: z.string().min(1),
    ...common,
    timeoutSeconds: z.number().int().min(0).max(50).optional(),
  },
  output: { done: z.boolean(), message: z.string() },
  annotations: READ_ONLY,
  async run(c, a) {
    const t = await target(c, a);
    if (!t.ok) return t.result;
    const deadline = Date.now() + (a.timeoutSeconds ?? 0) * 1000;
    for (;;) {
      const res = await kube(c, {
        method: "GET",
        path: t.value.path,
        headers: { accept: "application/json" },
      });
      if (!ok(res)) return failed(c, res);
      const state = rolloutState(json(res) as Workload);
      if (state.done || Date.now() >= deadline)
        return text(`${label(t.value.type, a.name)}: ${state.message}`, state);
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
});
