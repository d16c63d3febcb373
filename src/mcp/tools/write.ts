// Write tools on existing objects: delete, patch, scale, rollout restart and rollout status. Each sends exactly the
// request kubectl would (the scale subresource for scale, a strategic-merge patch of the pod template annotation
// for rollout restart), so a policy rule written for kubectl governs the tool alike. A write that needs a review
// returns at once with the review id; repeating the same call after approval sends the same bytes, so it matches
// the approved fingerprint.
import { z } from "zod";
import {
  type CallContext,
  failed,
  json,
  kube,
  masking,
  ok,
  statusMessage,
  text,
  toolError,
  warnings,
} from "../call.ts";
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

const MAX_SELECTED = 50;

interface Listed {
  metadata?: { name?: string; uid?: string };
}

export const deleteTool = defineTool({
  name: "k8s_delete",
  title: "Delete Kubernetes objects",
  description:
    "Delete one object by name, or the objects a labelSelector (and optional fieldSelector) picks — at most " +
    `${MAX_SELECTED}; dependents are removed in the background, as kubectl does. A selector is resolved first; each ` +
    "object is then deleted with its uid as a precondition, so a review (one per object) is bound to exactly the " +
    "objects listed, and an object replaced since is not deleted. May need a human's approval: then the result names " +
    "the pending reviews; wait with airlock_review_wait and repeat the call." +
    MAY_WAIT,
  input: {
    resource: resourceArg,
    name: z.string().min(1).optional().describe("The object to delete (or give labelSelector)"),
    labelSelector: z.string().min(1).optional().describe('Delete what this selects, e.g. "app=batch"'),
    fieldSelector: z.string().min(1).optional().describe('With labelSelector, e.g. "status.successful=1"'),
    ...common,
    gracePeriodSeconds: z.number().int().min(0).optional(),
  },
  output: {
    deleted: z.array(z.string()),
    pending: z.array(z.object({ object: z.string(), review: z.string() })),
    failed: z.array(z.object({ object: z.string(), error: z.string() })),
  },
  annotations: { ...WRITE, destructiveHint: true, idempotentHint: true },
  async run(c, a) {
    if ((a.name === undefined) === (a.labelSelector === undefined))
      return toolError("give exactly one of name or labelSelector");
    if (a.fieldSelector && !a.labelSelector) return toolError("fieldSelector goes with labelSelector");
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    let targets: { name: string; uid?: string }[];
    if (a.name) targets = [{ name: a.name }];
    else {
      const collection = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace });
      if (!collection.ok) return collection.result;
      const list = await kube(c, {
        method: "GET",
        path: collection.value,
        query: {
          labelSelector: a.labelSelector,
          fieldSelector: a.fieldSelector,
          limit: String(MAX_SELECTED + 1),
        },
        headers: { accept: "application/json" },
      });
      if (!ok(list)) return failed(c, list);
      const body = json(list) as { items?: Listed[]; metadata?: { continue?: string } };
      const items = body?.items ?? [];
      if (items.length > MAX_SELECTED || body?.metadata?.continue)
        return toolError(`the selector picks more than ${MAX_SELECTED} objects: narrow it`);
      targets = items
        .map((i) => ({ name: i.metadata?.name ?? "", uid: i.metadata?.uid ?? "" }))
        .filter((t) => t.name && t.uid)
        .sort((x, y) => (x.name < y.name ? -1 : 1));
      if (targets.length === 0)
        return text(`No ${type.value.resource} match ${a.labelSelector}: nothing to delete.`, {
          deleted: [],
          pending: [],
          failed: [],
        });
    }
    const deleted: string[] = [];
    const pending: { object: string; review: string }[] = [];
    const failures: { object: string; error: string }[] = [];
    const lines: string[] = [];
    let onlyResult: Awaited<ReturnType<typeof failed>> | undefined;
    for (const t of targets) {
      const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: t.name });
      if (!path.ok) return path.result;
      const object = label(type.value, t.name);
      // Fixed key order: the same objects give the same body bytes, so a repeated call matches its approval; the
      // uid precondition binds the request (and its review) to the object that was listed.
      const body = JSON.stringify({
        kind: "DeleteOptions",
        apiVersion: "v1",
        propagationPolicy: "Background",
        ...(a.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: a.gracePeriodSeconds } : {}),
        ...(t.uid ? { preconditions: { uid: t.uid } } : {}),
      });
      const res = await kube(c, {
        method: "DELETE",
        path: path.value,
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
      });
      if (ok(res)) {
        deleted.push(object);
        lines.push(...warnings(res), `${object} deleted`);
        continue;
      }
      const answer = await failed(c, res);
      if (targets.length === 1) onlyResult = answer;
      const review = (answer.structuredContent as { review?: { id?: string } } | undefined)?.review?.id;
      if (review) {
        pending.push({ object, review });
        lines.push(`${object}: PENDING REVIEW ${review} (nothing deleted yet)`);
      } else {
        const said = statusMessage(res);
        failures.push({ object, error: `${said.reason}: ${said.message}`.slice(0, 300) });
        lines.push(`${object}: not deleted (${said.reason}):`, untrusted("error message", said.message));
      }
    }
    // One object: its answer as it is (a pending review's full view, or the refusal with how to ask).
    if (onlyResult) return onlyResult;
    if (pending.length)
      lines.push(
        `${pending.length} deletes wait for a human's approval: wait with airlock_review_wait for each id, then ` +
          "repeat this call (the same objects give the same requests).",
      );
    const result = text(lines.join("\n"), {
      deleted,
      pending,
      failed: failures,
      ...(pending[0] ? { review: { id: pending[0].review, state: "pending" } } : {}),
    });
    return failures.length && !deleted.length && !pending.length ? { ...result, isError: true } : result;
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
