// Read tools: list, get, describe, events, logs. Each is the GET(s) kubectl would send, through the pipeline as the
// caller, so the same policy decides them and the same masking applies to what comes back.
import { z } from "zod";
import {
  type CallContext,
  failed,
  json,
  kube,
  kubeWindow,
  masking,
  ok,
  text,
  toolError,
  warnings,
} from "../call.ts";
import {
  age,
  capText,
  columnCell,
  compactObject,
  parseColumns,
  readableObject,
  renderKubeTable,
  rowObjects,
  table,
  toYaml,
  untrusted,
} from "../format.ts";
import { checkName, checkNamespace } from "../resources.ts";
import { common, defineTool, READ_ONLY, resourceArg, rowsField } from "./define.ts";
import { pathOf, resolveType } from "./lookup.ts";

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const NARROW = "labelSelector, fieldSelector, a namespace or a lower limit";

function withNotes(body: string, notes: string[]): string {
  return notes.length ? `${notes.join("\n")}\n${body}` : body;
}

const OUTPUTS = ["table", "wide", "name", "json"] as const;
const MAX_JSON_ITEMS_CHARS = 30_000;

export const listTool = defineTool({
  name: "k8s_list",
  title: "List Kubernetes objects",
  description:
    "List objects of one resource type. output: table (default, the columns kubectl get shows), wide (more " +
    "columns), name (resource/name lines) or json (the objects); or columns: custom columns as HEADER:.json.path " +
    'pairs, e.g. "NAME:.metadata.name,IMAGE:.spec.containers[*].image". Filter with labelSelector and fieldSelector; ' +
    "allNamespaces for every namespace. Pages of at most limit objects: when more exist the answer says how many and " +
    "gives a continue token to pass back. Secret values and other sensitive data are masked by policy.",
  input: {
    resource: resourceArg,
    ...common,
    allNamespaces: z.boolean().optional().describe("List across all namespaces"),
    labelSelector: z.string().optional().describe('e.g. "app=web,tier!=db"'),
    fieldSelector: z.string().optional().describe('e.g. "status.phase=Running"'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("At most this many objects per page (default 200)"),
    continue: z.string().max(4096).optional().describe("The continue token of the previous page"),
    output: z.enum(OUTPUTS).optional().describe("table (default), wide, name or json"),
    columns: z
      .string()
      .max(2000)
      .optional()
      .describe("Custom columns, \"HEADER:.path,…\" (JSONPath subset: .a.b, [n], [*], ['key'])"),
  },
  output: {
    resource: z.string(),
    namespace: z.string(),
    rows: rowsField.describe("table, wide and columns output: one object per row, keyed by column header"),
    names: z.array(z.string()).describe("name output"),
    items: z.array(z.unknown()).describe("json output: the objects"),
    count: z.number(),
    continue: z.string().describe("Pass this as continue to get the next page"),
    remaining: z.number().describe("How many more objects the cluster says exist after this page"),
    truncated: z.boolean(),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const columns = a.columns ? parseColumns(a.columns) : undefined;
    if (columns && !columns.ok) return toolError(`columns: ${columns.error}`);
    const output = columns ? "columns" : (a.output ?? "table");
    const all = a.allNamespaces && type.value.namespaced;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: all ? undefined : a.namespace });
    if (!path.ok) return path.result;
    const target = all ? path.value.replace(/\/namespaces\/[^/]+\//, "/") : path.value;
    const asTable = output === "table" || output === "wide";
    const res = await kube(c, {
      method: "GET",
      path: target,
      query: {
        limit: String(a.limit ?? 200),
        labelSelector: a.labelSelector,
        fieldSelector: a.fieldSelector,
        continue: a.continue,
      },
      headers: { accept: asTable ? TABLE_ACCEPT : "application/json" },
    });
    if (!ok(res)) return failed(c, res);
    const body = json(res) as {
      metadata?: { continue?: string; remainingItemCount?: number };
      items?: unknown[];
    };
    const where = all ? "all namespaces" : type.value.namespaced ? `namespace ${a.namespace}` : "cluster";
    const plural = type.value.group ? `${type.value.resource}.${type.value.group}` : type.value.resource;
    let rendered: string;
    let count: number;
    const structured: Record<string, unknown> = {
      resource: plural,
      namespace: all ? "*" : type.value.namespaced ? (a.namespace ?? "default") : "",
    };
    let data: unknown;
    if (asTable) {
      const t = renderKubeTable(body, Boolean(all), output === "wide");
      rendered = t.text;
      count = t.rows;
      structured.rows = rowObjects(t.header, t.cells);
      data = t.cells;
    } else {
      const items = (body?.items ?? []).map((i) => readableObject(compactObject(i)));
      count = items.length;
      if (output === "name") {
        const names = items.map(
          (i) => `${plural}/${(i as { metadata?: { name?: string } }).metadata?.name ?? ""}`,
        );
        rendered = names.join("\n") || "No resources found.";
        structured.names = names;
      } else if (output === "json") {
        rendered = JSON.stringify(items, null, 1);
        if (rendered.length > MAX_JSON_ITEMS_CHARS)
          return toolError(
            `${count} objects as JSON are ${rendered.length} characters (at most ${MAX_JSON_ITEMS_CHARS}): ask for ` +
              "a lower limit, use columns for the fields you need, or k8s_get one object",
          );
        structured.items = items;
      } else {
        const cols = columns?.ok ? columns.columns : [];
        const header = cols.map((col) => col.header);
        const cells = items.map((i) => cols.map((col) => columnCell(i, col.steps)));
        rendered = cells.length ? table(header, cells) : "No resources found.";
        structured.rows = rowObjects(header, cells);
      }
      data = items;
    }
    structured.count = count;
    const notes = warnings(res);
    const token = body?.metadata?.continue;
    const after: string[] = [];
    if (token) {
      const remaining = body?.metadata?.remainingItemCount;
      after.push(
        `${remaining !== undefined ? `${remaining} more` : "More objects"} after these ${count}; pass continue: ${JSON.stringify(token)} (same arguments) for the next page.`,
      );
      structured.continue = token;
      if (remaining !== undefined) structured.remaining = remaining;
    }
    const capped = capText(rendered, NARROW);
    structured.truncated = capped.truncated;
    const masked = masking(res, data);
    if (masked) {
      after.push(masked.line);
      structured.masked = masked.structured;
    }
    return text(
      [withNotes(untrusted(`${plural} in ${where}`, capped.text), notes), ...after].join("\n"),
      structured,
    );
  },
});

export const getTool = defineTool({
  name: "k8s_get",
  title: "Get one Kubernetes object",
  description:
    "Get one object as compact YAML (managedFields and the last-applied copy left out); structuredContent.object " +
    "holds the same object. Secret values and other sensitive data are masked by policy: a masked Secret value " +
    "reads as its ‹masked:…› marker (not base64), and the answer ends with a line naming the masked fields.",
  input: {
    resource: resourceArg,
    name: z.string().min(1).describe("Object name"),
    ...common,
    output: z.enum(["yaml", "json"]).optional().describe("yaml (default) or json"),
  },
  output: { object: z.record(z.string(), z.unknown()) },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name });
    if (!path.ok) return path.result;
    const res = await kube(c, { method: "GET", path: path.value, headers: { accept: "application/json" } });
    if (!ok(res)) return failed(c, res);
    const obj = readableObject(compactObject(json(res))) as Record<string, unknown>;
    const rendered = a.output === "json" ? JSON.stringify(obj, null, 2) : toYaml(obj);
    const capped = capText(rendered, "k8s_list with columns, or fewer fields");
    const masked = masking(res, obj);
    const body = withNotes(untrusted(`${type.value.resource}/${a.name}`, capped.text), warnings(res));
    return text(masked ? `${body}\n${masked.line}` : body, {
      object: obj,
      ...(masked ? { masked: masked.structured } : {}),
    });
  },
});

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  metadata?: { creationTimestamp?: string; namespace?: string };
  involvedObject?: { kind?: string; name?: string };
}

function eventTime(e: KubeEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? "";
}

export function renderEvents(items: KubeEvent[], now = Date.now()): string {
  if (items.length === 0) return "No events found.";
  const sorted = [...items].sort((x, y) => eventTime(x).localeCompare(eventTime(y)));
  return table(
    ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
    sorted.map((e) => [
      age(eventTime(e), now),
      e.type ?? "",
      e.reason ?? "",
      `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
      (e.message ?? "").replace(/\s+/g, " "),
    ]),
  );
}

/** Events as row objects (oldest first), the structured form of renderEvents. */
export function eventRows(items: KubeEvent[], now = Date.now()): Record<string, string>[] {
  return [...items]
    .sort((x, y) => eventTime(x).localeCompare(eventTime(y)))
    .map((e) => ({
      LAST_SEEN: age(eventTime(e), now),
      TYPE: e.type ?? "",
      REASON: e.reason ?? "",
      OBJECT: `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
      MESSAGE: (e.message ?? "").replace(/\s+/g, " "),
    }));
}

async function listEvents(
  c: CallContext,
  cluster: string | undefined,
  namespace: string | undefined,
  fieldSelector: string | undefined,
  limit: number,
) {
  const prefix = cluster ? `/k8s/${cluster}` : "";
  const path = namespace ? `${prefix}/api/v1/namespaces/${namespace}/events` : `${prefix}/api/v1/events`;
  return kube(c, { method: "GET", path, query: { fieldSelector, limit: String(limit) } });
}

export const eventsTool = defineTool({
  name: "k8s_events",
  title: "List Kubernetes events",
  description:
    "Recent events, oldest first, optionally only those about one object (kind + name). Event messages are " +
    "cluster-supplied text.",
  input: {
    ...common,
    allNamespaces: z.boolean().optional(),
    kind: z.string().optional().describe('Only events about objects of this kind, e.g. "Pod"'),
    name: z.string().optional().describe("Only events about the object of this name"),
    type: z.enum(["Normal", "Warning"]).optional(),
    limit: z.number().int().min(1).max(1000).optional().describe("At most this many events (default 200)"),
  },
  output: { rows: rowsField },
  annotations: READ_ONLY,
  async run(c, a) {
    const namespace = a.allNamespaces ? undefined : (a.namespace ?? "default");
    if (namespace && checkNamespace(namespace)) return toolError(checkNamespace(namespace) ?? "");
    if (a.name && checkName(a.name)) return toolError(checkName(a.name) ?? "");
    const selectors = [
      a.kind ? `involvedObject.kind=${a.kind.replace(/[^A-Za-z0-9]/g, "")}` : "",
      a.name ? `involvedObject.name=${a.name}` : "",
      a.type ? `type=${a.type}` : "",
    ].filter(Boolean);
    const res = await listEvents(c, a.cluster, namespace, selectors.join(",") || undefined, a.limit ?? 200);
    if (!ok(res)) return failed(c, res);
    const items = ((json(res) as { items?: KubeEvent[] })?.items ?? []) as KubeEvent[];
    const capped = capText(renderEvents(items), "kind and name, type=Warning or a namespace");
    return text(
      withNotes(untrusted(`events in ${namespace ?? "all namespaces"}`, capped.text), warnings(res)),
      { rows: eventRows(items) },
    );
  },
});

export const describeTool = defineTool({
  name: "k8s_describe",
  title: "Describe a Kubernetes object",
  description: "One object (compact YAML) together with the events about it, like kubectl describe.",
  input: { resource: resourceArg, name: z.string().min(1), ...common },
  output: { object: z.record(z.string(), z.unknown()), events: rowsField },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name });
    if (!path.ok) return path.result;
    const res = await kube(c, { method: "GET", path: path.value, headers: { accept: "application/json" } });
    if (!ok(res)) return failed(c, res);
    const namespace = type.value.namespaced ? (a.namespace ?? "default") : undefined;
    const selector = `involvedObject.kind=${type.value.kind},involvedObject.name=${a.name}`;
    const ev = await listEvents(c, a.cluster, namespace, selector, 200);
    const evItems = ok(ev) ? (((json(ev) as { items?: KubeEvent[] })?.items ?? []) as KubeEvent[]) : [];
    const events = ok(ev)
      ? renderEvents(evItems)
      : `(events not shown: ${(await failed(c, ev)).content.map((x) => ("text" in x ? x.text : "")).join(" ")})`;
    const obj = readableObject(compactObject(json(res))) as Record<string, unknown>;
    const body = `${describeText(obj)}\nEvents:\n${events}`;
    const capped = capText(body, "k8s_get for the object alone, or k8s_events with type=Warning");
    const masked = masking(res, obj);
    const answer = withNotes(
      untrusted(`${type.value.resource}/${a.name} and its events`, capped.text),
      warnings(res),
    );
    return text(masked ? `${answer}\n${masked.line}` : answer, {
      object: obj,
      events: eventRows(evItems),
      ...(masked ? { masked: masked.structured } : {}),
    });
  },
});

const MAX_LOG_BYTES = 256 * 1024;
// The log text is in the answer twice (text and structuredContent.log), so each copy gets half the result budget.
const MAX_LOG_CHARS = 20_000;

const MAX_FOLLOW_SECONDS = 50;
const MAX_PODS = 5;

/** The pods a logs call reads: one named pod, or those a Deployment's or Job's selector or a label selector picks. */
async function logPods(
  c: CallContext,
  a: {
    pod?: string;
    deployment?: string;
    job?: string;
    labelSelector?: string;
    namespace?: string;
    cluster?: string;
  },
): Promise<
  { ok: true; pods: string[]; more: number } | { ok: false; result: Awaited<ReturnType<typeof failed>> }
> {
  const given = [a.pod, a.deployment, a.job, a.labelSelector].filter((x) => x !== undefined).length;
  if (given !== 1)
    return { ok: false, result: toolError("give exactly one of pod, deployment, job or labelSelector") };
  if (a.pod) return { ok: true, pods: [a.pod], more: 0 };
  const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
  const ns = a.namespace ?? "default";
  let selector = a.labelSelector ?? "";
  const owner = a.deployment ?? a.job;
  if (owner) {
    const problem = checkName(owner);
    if (problem) return { ok: false, result: toolError(problem) };
    const path = a.deployment
      ? `${prefix}/apis/apps/v1/namespaces/${ns}/deployments/${owner}`
      : `${prefix}/apis/batch/v1/namespaces/${ns}/jobs/${owner}`;
    const res = await kube(c, { method: "GET", path, headers: { accept: "application/json" } });
    if (!ok(res)) return { ok: false, result: await failed(c, res) };
    const labels =
      (json(res) as { spec?: { selector?: { matchLabels?: Record<string, string> } } })?.spec?.selector
        ?.matchLabels ?? {};
    selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    if (!selector)
      return { ok: false, result: toolError(`${owner} has no matchLabels selector to find its pods by`) };
  }
  const res = await kube(c, {
    method: "GET",
    path: `${prefix}/api/v1/namespaces/${ns}/pods`,
    query: { labelSelector: selector, limit: "100" },
    headers: { accept: "application/json" },
  });
  if (!ok(res)) return { ok: false, result: await failed(c, res) };
  const names = (
    ((json(res) as { items?: { metadata?: { name?: string } }[] })?.items ?? []) as {
      metadata?: { name?: string };
    }[]
  )
    .map((p) => p.metadata?.name ?? "")
    .filter(Boolean)
    .sort();
  if (names.length === 0)
    return { ok: false, result: toolError(`no pods match ${selector} in namespace ${ns}`) };
  return { ok: true, pods: names.slice(0, MAX_PODS), more: Math.max(0, names.length - MAX_PODS) };
}

export const logsTool = defineTool({
  name: "k8s_logs",
  title: "Read logs",
  description:
    "The last lines of a container's log (default 100, at most 5000) of one pod, or of the pods of a Deployment, a " +
    `Job or a label selector (at most ${MAX_PODS} pods, each line prefixed with its pod). Optionally only since some ` +
    "seconds ago, or of the previous (crashed) instance; follow reads new lines for followSeconds (default 10, at " +
    `most ${MAX_FOLLOW_SECONDS}) and then stops. Size-capped; secrets in log lines are masked by policy. Log text is ` +
    "cluster-supplied data.",
  input: {
    pod: z.string().min(1).optional().describe("Pod name (or give deployment, job or labelSelector)"),
    deployment: z.string().min(1).optional().describe("The pods of this Deployment"),
    job: z.string().min(1).optional().describe("The pods of this Job"),
    labelSelector: z.string().min(1).optional().describe('The pods this selector picks, e.g. "app=web"'),
    ...common,
    container: z.string().optional().describe("Container (default: the pod's only or default container)"),
    tailLines: z.number().int().min(1).max(5000).optional(),
    sinceSeconds: z.number().int().min(1).optional(),
    previous: z.boolean().optional().describe("The previous (crashed) instance's log"),
    follow: z.boolean().optional().describe("Keep reading new lines for followSeconds, then stop"),
    followSeconds: z.number().int().min(1).max(MAX_FOLLOW_SECONDS).optional(),
  },
  output: {
    pod: z.string(),
    pods: z.array(z.string()),
    lines: z.number(),
    log: z.string(),
    truncated: z.boolean(),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    if (a.pod && checkName(a.pod)) return toolError(checkName(a.pod) ?? "");
    if (a.container && checkName(a.container)) return toolError(checkName(a.container) ?? "");
    const namespace = a.namespace ?? "default";
    if (checkNamespace(namespace)) return toolError(checkNamespace(namespace) ?? "");
    if (a.follow && a.previous)
      return toolError("follow and previous do not go together (a previous instance has ended)");
    const found = await logPods(c, a);
    if (!found.ok) return found.result;
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const several = found.pods.length > 1 || a.pod === undefined;
    const perPod = Math.floor(MAX_LOG_BYTES / found.pods.length);
    const window = (a.followSeconds ?? 10) * 1000;
    const answers = await Promise.all(
      found.pods.map(async (pod) => {
        const req = {
          method: "GET",
          path: `${prefix}/api/v1/namespaces/${namespace}/pods/${pod}/log`,
          query: {
            container: a.container,
            tailLines: String(a.tailLines ?? 100),
            sinceSeconds: a.sinceSeconds ? String(a.sinceSeconds) : undefined,
            previous: a.previous ? "true" : undefined,
            follow: a.follow ? "true" : undefined,
            limitBytes: String(perPod),
          },
        };
        const res = a.follow ? await kubeWindow(c, req, window, perPod) : await kube(c, req, perPod);
        return { pod, res };
      }),
    );
    const refused = answers.find((x) => !ok(x.res));
    if (refused && answers.length === 1) return failed(c, refused.res);
    const parts: string[] = [];
    const notes: string[] = [];
    let truncated = false;
    for (const { pod, res } of answers) {
      if (!ok(res)) {
        const said = (await failed(c, res)).content.map((x) => ("text" in x ? x.text : "")).join(" ");
        notes.push(`pod ${pod}: not read: ${said.split("\n")[0]}`);
        continue;
      }
      notes.push(...warnings(res));
      truncated ||= res.truncated;
      const log = res.body.toString("utf8");
      parts.push(several ? log.replace(/^(?=.)/gm, `[pod/${pod}] `) : log);
    }
    const all = parts.join(parts.every((p) => p.endsWith("\n") || p === "") ? "" : "\n");
    const capped = capText(all, "a lower tailLines or sinceSeconds, or one pod", MAX_LOG_CHARS);
    if (truncated) notes.push(`Log output capped at ${perPod} bytes per pod: ask for fewer lines.`);
    if (found.more)
      notes.push(`${found.more} more pods match; logs of the first ${found.pods.length} shown (by name).`);
    if (a.follow) notes.push(`Followed for up to ${window / 1000} s, then stopped.`);
    const masked = masking(answers[0]?.res, capped.text);
    const source = a.pod ? `logs of pod ${a.pod}` : `logs of ${found.pods.length} pods`;
    const body = withNotes(untrusted(source, capped.text || "(no log lines)"), notes);
    return text(masked ? `${body}\n${masked.line}` : body, {
      ...(a.pod ? { pod: a.pod } : {}),
      pods: found.pods,
      lines: capped.text ? capped.text.split("\n").filter(Boolean).length : 0,
      log: capped.text,
      truncated: capped.truncated || truncated,
      ...(masked ? { masked: masked.structured } : {}),
    });
  },
});

/** kubectl describe's text layout for the common header fields, then the rest of the object as indented YAML. */
export function describeText(obj: Record<string, unknown>): string {
  const meta = (obj.metadata ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    ownerReferences?: { kind?: string; name?: string }[];
  };
  const kv = (m: Record<string, string> | undefined) => {
    const entries = Object.entries(m ?? {});
    if (entries.length === 0) return "<none>";
    return entries.map(([k, v], i) => `${i === 0 ? "" : " ".repeat(14)}${k}=${v}`).join("\n");
  };
  const lines = [
    `Name:         ${meta.name ?? ""}`,
    ...(meta.namespace ? [`Namespace:    ${meta.namespace}`] : []),
    `Labels:       ${kv(meta.labels)}`,
    `Annotations:  ${kv(meta.annotations)}`,
    `Kind:         ${String(obj.kind ?? "")}`,
    `Created:      ${meta.creationTimestamp ?? "<unknown>"}`,
  ];
  if (meta.ownerReferences?.length)
    lines.push(`Controlled By:  ${meta.ownerReferences.map((o) => `${o.kind}/${o.name}`).join(", ")}`);
  for (const key of ["spec", "data", "stringData", "status"]) {
    const value = obj[key];
    if (value === undefined) continue;
    const title = key[0]?.toUpperCase() + key.slice(1);
    const body = toYaml(value)
      .trimEnd()
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n");
    lines.push(`${title}:`, body);
  }
  return lines.join("\n");
}

const MAX_WATCH_SECONDS = 50;
const MAX_WATCH_BYTES = 256 * 1024;

interface WatchEvent {
  type?: string;
  object?: {
    kind?: string;
    metadata?: { name?: string; namespace?: string; resourceVersion?: string };
    status?: { phase?: string; replicas?: number; readyReplicas?: number };
  };
}

export const watchTool = defineTool({
  name: "k8s_watch",
  title: "Watch for changes",
  description:
    `Watch one resource type for changes during a bounded window (default 10 s, at most ${MAX_WATCH_SECONDS}): ` +
    "only what changes after the call starts (ADDED, MODIFIED, DELETED), one row per event with the object's name " +
    "and phase or ready count. Filter with name, labelSelector or fieldSelector.",
  input: {
    resource: resourceArg,
    ...common,
    allNamespaces: z.boolean().optional(),
    name: z.string().min(1).optional().describe("Only this object"),
    labelSelector: z.string().optional(),
    fieldSelector: z.string().optional(),
    seconds: z.number().int().min(1).max(MAX_WATCH_SECONDS).optional().describe("The window (default 10)"),
  },
  output: { events: rowsField, truncated: z.boolean() },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    if (a.name && checkName(a.name)) return toolError(checkName(a.name) ?? "");
    const all = a.allNamespaces && type.value.namespaced;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: all ? undefined : a.namespace });
    if (!path.ok) return path.result;
    const target = all ? path.value.replace(/\/namespaces\/[^/]+\//, "/") : path.value;
    const fieldSelector =
      [a.fieldSelector, a.name ? `metadata.name=${a.name}` : undefined].filter(Boolean).join(",") ||
      undefined;
    // A list of one object gives the collection's resourceVersion: the watch starts there, so it reports changes only.
    const start = await kube(c, {
      method: "GET",
      path: target,
      query: { limit: "1", labelSelector: a.labelSelector, fieldSelector },
      headers: { accept: "application/json" },
    });
    if (!ok(start)) return failed(c, start);
    const rv = (json(start) as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
    const seconds = a.seconds ?? 10;
    const res = await kubeWindow(
      c,
      {
        method: "GET",
        path: target,
        query: {
          watch: "true",
          resourceVersion: rv,
          labelSelector: a.labelSelector,
          fieldSelector,
          timeoutSeconds: String(seconds),
        },
        headers: { accept: "application/json" },
      },
      seconds * 1000,
      MAX_WATCH_BYTES,
    );
    if (!ok(res)) return failed(c, res);
    const rows: Record<string, string>[] = [];
    for (const line of res.body.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      let e: WatchEvent;
      try {
        e = JSON.parse(line) as WatchEvent;
      } catch {
        continue; // a line cut by the byte cap
      }
      if (e.type === "BOOKMARK") continue;
      const s = e.object?.status;
      rows.push({
        TYPE: e.type ?? "",
        ...(all ? { NAMESPACE: e.object?.metadata?.namespace ?? "" } : {}),
        NAME: e.object?.metadata?.name ?? "",
        STATUS:
          s?.phase ??
          (s?.replicas !== undefined
            ? `${s.readyReplicas ?? 0}/${s.replicas} ready`
            : e.type === "ERROR"
              ? "error"
              : ""),
      });
    }
    const header = Object.keys(rows[0] ?? { TYPE: "", NAME: "", STATUS: "" });
    const body = rows.length
      ? table(
          header,
          rows.map((r) => header.map((h) => r[h] ?? "")),
        )
      : `No changes in ${seconds} s.`;
    const capped = capText(body, "a name, a selector or a shorter window");
    return text(
      withNotes(
        untrusted(`changes to ${type.value.resource} during ${seconds} s`, capped.text),
        warnings(res),
      ),
      { events: rows, truncated: capped.truncated || res.truncated },
    );
  },
});
