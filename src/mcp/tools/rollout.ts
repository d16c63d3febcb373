// Rollout history, undo, pause and resume for Deployments, as kubectl rollout does them: history and undo read the
// Deployment's ReplicaSets (owned by its uid, revision in the deployment.kubernetes.io/revision annotation); undo
// writes the chosen revision's pod template back (a JSON patch of spec.template, as kubectl's undo); pause and resume
// set spec.paused. Every request goes through the pipeline as the caller; writes may be held for review.
import { z } from "zod";
import { type CallContext, failed, json, kube, ok, text, toolError, warnings } from "../call.ts";
import { capText, table, untrusted } from "../format.ts";
import { common, defineTool, MAY_WAIT, READ_ONLY, rowsField } from "./define.ts";
import { changesNothing } from "./dry-run.ts";
import { pathOf, resolveType } from "./lookup.ts";

const REVISION = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE = "kubernetes.io/change-cause";

interface Rs {
  metadata?: {
    name?: string;
    uid?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { uid?: string; controller?: boolean }[];
  };
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers?: { image?: string }[] };
    };
  };
}

interface Deployment {
  metadata?: { name?: string; uid?: string; annotations?: Record<string, string> };
  spec?: { selector?: { matchLabels?: Record<string, string> }; paused?: boolean };
}

const nameArg = z.string().min(1).describe("Deployment name");

async function deploymentAndSets(c: CallContext, a: { name: string; namespace?: string; cluster?: string }) {
  const type = await resolveType(c, "deployments", a.cluster);
  if (!type.ok) return type;
  const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name });
  if (!path.ok) return path;
  const res = await kube(c, { method: "GET", path: path.value, headers: { accept: "application/json" } });
  if (!ok(res)) return { ok: false as const, result: await failed(c, res) };
  const dep = json(res) as Deployment;
  const labels = dep.spec?.selector?.matchLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const rsType = await resolveType(c, "replicasets", a.cluster);
  if (!rsType.ok) return rsType;
  const rsPath = pathOf(rsType.value, { cluster: a.cluster, namespace: a.namespace });
  if (!rsPath.ok) return rsPath;
  const list = await kube(c, {
    method: "GET",
    path: rsPath.value,
    query: { labelSelector: selector || undefined, limit: "500" },
    headers: { accept: "application/json" },
  });
  if (!ok(list)) return { ok: false as const, result: await failed(c, list) };
  const owned = (((json(list) as { items?: Rs[] })?.items ?? []) as Rs[]).filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === dep.metadata?.uid),
  );
  const revision = (rs: Rs) => Number.parseInt(rs.metadata?.annotations?.[REVISION] ?? "0", 10) || 0;
  owned.sort((x, y) => revision(x) - revision(y));
  return { ok: true as const, value: { dep, path: path.value, sets: owned, revision } };
}

export const rolloutHistoryTool = defineTool({
  name: "k8s_rollout_history",
  title: "Rollout history",
  description:
    "The revisions of a Deployment (from its ReplicaSets), oldest first, with the change cause and images, as " +
    "kubectl rollout history shows them.",
  input: { name: nameArg, ...common },
  output: { rows: rowsField, current: z.number() },
  annotations: READ_ONLY,
  async run(c, a) {
    const found = await deploymentAndSets(c, a);
    if (!found.ok) return found.result;
    const { sets, revision, dep } = found.value;
    const header = ["REVISION", "CHANGE-CAUSE", "IMAGES", "REPLICASET"];
    const rows = sets.map((rs) => [
      String(revision(rs)),
      rs.metadata?.annotations?.[CHANGE_CAUSE] ?? "<none>",
      (rs.spec?.template?.spec?.containers ?? []).map((x) => x.image ?? "").join(","),
      rs.metadata?.name ?? "",
    ]);
    const current = Number.parseInt(dep.metadata?.annotations?.[REVISION] ?? "0", 10) || 0;
    const body = rows.length ? table(header, rows) : "No rollout history found.";
    return text(
      `${untrusted(`rollout history of deployment ${a.name}`, capText(body, "k8s_get of one ReplicaSet").text)}\nCurrent revision: ${current}`,
      { rows: rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""]))), current },
    );
  },
});

export const rolloutUndoTool = defineTool({
  name: "k8s_rollout_undo",
  title: "Roll back a Deployment",
  description:
    "Roll a Deployment back to a previous revision (default: the one before the current), writing that revision's " +
    "pod template back as kubectl rollout undo does. See k8s_rollout_history for the revisions." +
    MAY_WAIT,
  input: {
    name: nameArg,
    ...common,
    toRevision: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("The revision to roll back to (default: the previous)"),
  },
  output: { revision: z.number(), changed: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(c, a) {
    const found = await deploymentAndSets(c, a);
    if (!found.ok) return found.result;
    const { sets, revision, dep, path } = found.value;
    const current = Number.parseInt(dep.metadata?.annotations?.[REVISION] ?? "0", 10) || 0;
    const target =
      a.toRevision !== undefined
        ? sets.find((rs) => revision(rs) === a.toRevision)
        : [...sets].reverse().find((rs) => revision(rs) !== current && revision(rs) < current);
    if (!target)
      return toolError(
        a.toRevision !== undefined
          ? `deployment ${a.name} has no revision ${a.toRevision} (see k8s_rollout_history)`
          : `deployment ${a.name} has no previous revision to roll back to`,
      );
    const template = structuredClone(target.spec?.template ?? {});
    if (template.metadata?.labels) delete template.metadata.labels["pod-template-hash"];
    const write = {
      method: "PATCH",
      path,
      headers: { "content-type": "application/json-patch+json", accept: "application/json" },
      body: JSON.stringify([{ op: "replace", path: "/spec/template", value: template }]),
    };
    const to = revision(target);
    if (await changesNothing(c, path, write))
      return text(`deployment.apps/${a.name}: no change (already at revision ${to}'s template)`, {
        revision: to,
        changed: false,
      });
    const res = await kube(c, write);
    if (!ok(res)) return failed(c, res);
    return text([...warnings(res), `deployment.apps/${a.name} rolled back to revision ${to}`].join("\n"), {
      revision: to,
      changed: true,
    });
  },
});

function pauseTool(paused: boolean) {
  const verb = paused ? "pause" : "resume";
  return defineTool({
    name: `k8s_rollout_${verb}`,
    title: paused ? "Pause a rollout" : "Resume a rollout",
    description:
      (paused
        ? "Pause a Deployment's rollout (spec.paused: true): template changes are held until it is resumed."
        : "Resume a paused Deployment's rollout (spec.paused: false).") +
      ` Already ${paused ? "paused" : "running"} is answered "no change".` +
      MAY_WAIT,
    input: { name: nameArg, ...common },
    output: { paused: z.boolean(), changed: z.boolean() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(c, a) {
      const type = await resolveType(c, "deployments", a.cluster);
      if (!type.ok) return type.result;
      const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name });
      if (!path.ok) return path.result;
      const write = {
        method: "PATCH",
        path: path.value,
        headers: { "content-type": "application/merge-patch+json", accept: "application/json" },
        body: JSON.stringify({ spec: { paused } }),
      };
      if (await changesNothing(c, path.value, write))
        return text(`deployment.apps/${a.name}: no change (already ${paused ? "paused" : "running"})`, {
          paused,
          changed: false,
        });
      const res = await kube(c, write);
      if (!ok(res)) return failed(c, res);
      return text(
        [...warnings(res), `deployment.apps/${a.name} ${paused ? "paused" : "resumed"}`].join("\n"),
        {
          paused,
          changed: true,
        },
      );
    },
  });
}

export const rolloutPauseTool = pauseTool(true);
export const rolloutResumeTool = pauseTool(false);
