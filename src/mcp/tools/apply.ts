// k8s_diff and k8s_apply: server-side apply of YAML or JSON manifests, the diff computed by a server-side dry run
// (the current object against the dry-run result, Secret values masked), as kubectl diff / apply --server-side do.
//
// Stance: the dry run is built by the gateway (dryRun=All set by call.ts kubeDryRun, never from the arguments) and
// decided by policy as a `get` of the object (stages/decide.ts): a diff never opens a review, and shows only what the
// caller may read, masked as a get is. Apply shows that diff first; when it changes nothing, apply answers "no
// change" and sends no write (so no review opens for nothing). Otherwise the write goes through with its own decision.
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { displayMasking } from "../../gateway/transform/stage.ts";
import { unifiedDiff } from "../../review/diff.ts";
import { renderObject } from "../../review/preview.ts";
import { type CallContext, failed, json, kube, kubeDryRun, ok, text, toolError, warnings } from "../call.ts";
import { untrusted } from "../format.ts";
import { BUILTIN_RESOURCES, type ResourceType } from "../resources.ts";
import { common, defineTool, MAY_WAIT } from "./define.ts";
import { sameObject } from "./dry-run.ts";
import { discover, pathOf } from "./lookup.ts";

const FIELD_MANAGER = "airlock-mcp";
const APPLY = "application/apply-patch+yaml";
const MAX_OBJECTS = 20;

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };

export function parseManifest(manifest: string): { ok: true; objects: Obj[] } | { ok: false; error: string } {
  const objects: Obj[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length)
      return { ok: false, error: `the manifest does not parse: ${doc.errors[0]?.message}` };
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const list =
      (value as { kind?: string; items?: unknown[] }).kind === "List"
        ? ((value as { items?: unknown[] }).items ?? [])
        : [value];
    for (const item of list) {
      if (typeof item !== "object" || item === null || Array.isArray(item))
        return { ok: false, error: "every document must be a Kubernetes object" };
      const o = item as Obj;
      if (!o.apiVersion || !o.kind || !o.metadata?.name)
        return { ok: false, error: "every object needs apiVersion, kind and metadata.name" };
      objects.push(o);
    }
  }
  if (objects.length === 0) return { ok: false, error: "the manifest holds no objects" };
  if (objects.length > MAX_OBJECTS) return { ok: false, error: `at most ${MAX_OBJECTS} objects per call` };
  return { ok: true, objects };
}

interface Planned {
  obj: Obj;
  type: ResourceType;
  path: string;
  label: string;
}

async function plan(
  c: CallContext,
  objects: Obj[],
  namespace: string | undefined,
  cluster: string | undefined,
) {
  let types: ResourceType[] = BUILTIN_RESOURCES;
  const out: Planned[] = [];
  for (const obj of objects) {
    const [group, version] = obj.apiVersion?.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const find = () => types.find((t) => t.kind === obj.kind && t.group === group);
    let type = find();
    if (!type && types === BUILTIN_RESOURCES) {
      const all = await discover(c, cluster);
      if (!all.ok) return all;
      types = all.value;
      type = find();
    }
    if (!type)
      return { ok: false as const, result: toolError(`no resource type for ${obj.apiVersion} ${obj.kind}`) };
    type = { ...type, version: version ?? type.version };
    const own = obj.metadata?.namespace;
    if (own && namespace && own !== namespace)
      return {
        ok: false as const,
        result: toolError(
          `${obj.kind} ${obj.metadata?.name} names namespace ${own}, the call says ${namespace}`,
        ),
      };
    const ns = own ?? namespace ?? c.principal.defaultNamespace;
    const path = pathOf(type, { cluster, namespace: ns, name: obj.metadata?.name });
    if (!path.ok) return path;
    out.push({ obj, type, path: path.value, label: `${type.kind}/${obj.metadata?.name}` });
  }
  return { ok: true as const, value: out };
}

function applyRequest(p: Planned, force: boolean, dryRun: boolean) {
  return {
    method: "PATCH",
    path: p.path,
    query: {
      fieldManager: FIELD_MANAGER,
      force: force ? "true" : undefined,
      dryRun: dryRun ? "All" : undefined,
    },
    headers: { "content-type": APPLY, accept: "application/json" },
    body: JSON.stringify(p.obj),
  };
}

async function diffOne(
  c: CallContext,
  p: Planned,
  force: boolean,
): Promise<{ text: string; error?: string; unchanged?: boolean }> {
  const live = await kube(c, { method: "GET", path: p.path, headers: { accept: "application/json" } });
  if (!ok(live) && live.status !== 404)
    return {
      text: "",
      error: (await failed(c, live)).content.map((x) => ("text" in x ? x.text : "")).join(""),
    };
  const dry = await kubeDryRun(c, applyRequest(p, force, false));
  if (!ok(dry))
    return {
      text: "",
      error: (await failed(c, dry)).content.map((x) => ("text" in x ? x.text : "")).join(""),
    };
  // Rendered through the one masking engine (the answers came through the pipeline masked already; this also covers
  // callers whose rules leave responses unmasked: a diff is shown, stored in transcripts, and never break-glass).
  const mask = await displayMasking(c.gw);
  const before = ok(live) ? renderObject(json(live), mask) : "";
  const d = unifiedDiff(before, renderObject(json(dry), mask), {
    a: `${p.label} (live)`,
    b: `${p.label} (applied)`,
  });
  const unchanged = ok(live) && sameObject(json(live), json(dry));
  return { text: d.text || `${p.label}: no changes`, unchanged };
}

const input = {
  manifest: z
    .string()
    .min(1)
    .describe("YAML or JSON: one or more Kubernetes objects (--- between documents)"),
  ...common,
  forceConflicts: z
    .boolean()
    .optional()
    .describe("Take ownership of fields other managers own (server-side apply --force-conflicts)"),
};

export const diffTool = defineTool({
  name: "k8s_diff",
  title: "Diff a manifest against the cluster",
  description:
    "What applying a manifest would change, computed by a server-side dry run (nothing is changed). Secret values " +
    "are masked in the diff.",
  input,
  output: {
    objects: z.array(z.object({ object: z.string(), changed: z.boolean() })),
    diff: z.string(),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c, a) {
    const parsed = parseManifest(a.manifest);
    if (!parsed.ok) return toolError(parsed.error);
    const planned = await plan(c, parsed.objects, a.namespace, a.cluster);
    if (!planned.ok) return planned.result;
    const parts: string[] = [];
    const objects: { object: string; changed: boolean }[] = [];
    for (const p of planned.value) {
      const d = await diffOne(c, p, Boolean(a.forceConflicts));
      if (d.error) return toolError(`${p.label}: ${d.error}`);
      parts.push(d.text);
      objects.push({ object: p.label, changed: !d.unchanged });
    }
    const diff = parts.join("\n");
    return text(untrusted("dry-run diff", diff), { objects, diff });
  },
});

export const applyTool = defineTool({
  name: "k8s_apply",
  title: "Apply a manifest (server-side apply)",
  description:
    "Create or update objects from YAML or JSON by server-side apply (field manager airlock-mcp). The diff (server-" +
    "side dry run) is computed and shown first. May need a human's approval: the result then names a pending review " +
    "whose reviewer sees the diff; wait with airlock_review_wait and repeat the same call. An object the dry run " +
    'shows unchanged is answered "no change" and not written.' +
    MAY_WAIT,
  input,
  output: {
    objects: z.array(z.object({ object: z.string(), result: z.enum(["applied", "no change"]) })),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(c, a) {
    const parsed = parseManifest(a.manifest);
    if (!parsed.ok) return toolError(parsed.error);
    const planned = await plan(c, parsed.objects, a.namespace, a.cluster);
    if (!planned.ok) return planned.result;
    const force = Boolean(a.forceConflicts);
    const out: string[] = [];
    const objects: { object: string; result: "applied" | "no change" }[] = [];
    for (const p of planned.value) {
      const d = await diffOne(c, p, force);
      if (d.unchanged) {
        out.push(`${p.label}: no change (the server-side dry run changes nothing; nothing was sent)`);
        objects.push({ object: p.label, result: "no change" });
        continue;
      }
      out.push(
        d.error ? `${p.label}: diff not available: ${d.error}` : untrusted(`diff of ${p.label}`, d.text),
      );
      const res = await kube(c, applyRequest(p, force, false));
      if (!ok(res)) {
        const refused = await failed(c, res);
        const said = refused.content.map((x) => ("text" in x ? x.text : "")).join("");
        return { ...refused, content: [{ type: "text", text: [...out, said].join("\n") }] };
      }
      out.push(...warnings(res), `${p.label} applied (server-side, field manager ${FIELD_MANAGER})`);
      objects.push({ object: p.label, result: "applied" });
    }
    return text(out.join("\n"), { objects });
  },
});
