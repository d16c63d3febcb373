// Read tools: list, get, describe, events, logs. Each is the GET(s) kubectl would send, through the pipeline as the
// caller, so the same policy decides them and the same masking applies to what comes back.
import { z } from "zod";
import { type CallContext, failed, json, kube, ok, text, toolError, warnings } from "../call.ts";
import { age, capText, renderKubeTable, table, toYaml, untrusted } from "../format.ts";
import { checkName, checkNamespace } from "../resources.ts";
import { common, defineTool, READ_ONLY, resourceArg } from "./define.ts";
import { pathOf, resolveType } from "./lookup.ts";

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const NARROW = "labelSelector, fieldSelector, a namespace or a lower limit";

function withNotes(body: string, notes: string[]): string {
  return notes.length ? `${notes.join("\n")}\n${body}` : body;
}

export const listTool = defineTool({
  name: "k8s_list",
  title: "List Kubernetes objects",
  description:
    "List objects of one resource type as a table (the columns kubectl get shows). Filter with labelSelector and " +
    "fieldSelector; use allNamespaces for every namespace. Secret values and other sensitive data are masked by policy.",
  input: {
    resource: resourceArg,
    ...common,
    allNamespaces: z.boolean().optional().describe("List across all namespaces"),
    labelSelector: z.string().optional().describe('e.g. "app=web,tier!=db"'),
    fieldSelector: z.string().optional().describe('e.g. "status.phase=Running"'),
    limit: z.number().int().min(1).max(1000).optional().describe("At most this many objects (default 200)"),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const all = a.allNamespaces && type.value.namespaced;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: all ? undefined : a.namespace });
    if (!path.ok) return path.result;
    const target = all ? path.value.replace(/\/namespaces\/[^/]+\//, "/") : path.value;
    const res = await kube(c, {
      method: "GET",
      path: target,
      query: {
        limit: String(a.limit ?? 200),
        labelSelector: a.labelSelector,
        fieldSelector: a.fieldSelector,
      },
      headers: { accept: TABLE_ACCEPT },
    });
    if (!ok(res)) return failed(c, res);
    const body = json(res) as { metadata?: { continue?: string } };
    const rendered = renderKubeTable(body, Boolean(all));
    const notes = warnings(res);
    if (body?.metadata?.continue)
      notes.push(`More objects exist beyond ${rendered.rows}: narrow with ${NARROW}.`);
    const where = all
      ? "all namespaces"
      : type.value.namespaced
        ? `namespace ${a.namespace ?? "default"}`
        : "cluster";
    const capped = capText(rendered.text, NARROW);
    return text(withNotes(untrusted(`${type.value.resource} in ${where}`, capped.text), notes), {
      rows: rendered.rows,
      truncated: capped.truncated || Boolean(body?.metadata?.continue),
    });
  },
});

export const getTool = defineTool({
  name: "k8s_get",
  title: "Get one Kubernetes object",
  description:
    "Get one object as compact YAML (managedFields and the last-applied copy left out). Secret values and other " +
    "sensitive data are masked by policy.",
  input: {
    resource: resourceArg,
    name: z.string().min(1).describe("Object name"),
    ...common,
    output: z.enum(["yaml", "json"]).optional().describe("yaml (default) or json"),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const path = pathOf(type.value, { cluster: a.cluster, namespace: a.namespace, name: a.name });
    if (!path.ok) return path.result;
    const res = await kube(c, { method: "GET", path: path.value, headers: { accept: "application/json" } });
    if (!ok(res)) return failed(c, res);
    const obj = json(res);
    const rendered = a.output === "json" ? JSON.stringify(obj, null, 2) : toYaml(obj);
    const capped = capText(rendered, "k8s_list with selectors, or fewer fields");
    return text(withNotes(untrusted(`${type.value.resource}/${a.name}`, capped.text), warnings(res)));
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
    );
  },
});

export const describeTool = defineTool({
  name: "k8s_describe",
  title: "Describe a Kubernetes object",
  description: "One object (compact YAML) together with the events about it, like kubectl describe.",
  input: { resource: resourceArg, name: z.string().min(1), ...common },
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
    const events = ok(ev)
      ? renderEvents(((json(ev) as { items?: KubeEvent[] })?.items ?? []) as KubeEvent[])
      : `(events not shown: ${(await failed(c, ev)).content.map((x) => ("text" in x ? x.text : "")).join(" ")})`;
    const body = `${toYaml(json(res))}\nEvents:\n${events}`;
    const capped = capText(body, "k8s_get for the object alone, or k8s_events with type=Warning");
    return text(
      withNotes(untrusted(`${type.value.resource}/${a.name} and its events`, capped.text), warnings(res)),
    );
  },
});

const MAX_LOG_BYTES = 256 * 1024;

export const logsTool = defineTool({
  name: "k8s_logs",
  title: "Read a pod's logs",
  description:
    "The last lines of a container's log (default 100, at most 5000), optionally only since some seconds ago or of " +
    "the previous (crashed) instance. Size-capped; secrets in log lines are masked by policy. Log text is " +
    "cluster-supplied data.",
  input: {
    pod: z.string().min(1).describe("Pod name"),
    ...common,
    container: z.string().optional().describe("Container (default: the pod's only or default container)"),
    tailLines: z.number().int().min(1).max(5000).optional(),
    sinceSeconds: z.number().int().min(1).optional(),
    previous: z.boolean().optional(),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const problem = checkName(a.pod) ?? (a.container ? checkName(a.container) : undefined);
    if (problem) return toolError(problem);
    const namespace = a.namespace ?? "default";
    if (checkNamespace(namespace)) return toolError(checkNamespace(namespace) ?? "");
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const res = await kube(
      c,
      {
        method: "GET",
        path: `${prefix}/api/v1/namespaces/${namespace}/pods/${a.pod}/log`,
        query: {
          container: a.container,
          tailLines: String(a.tailLines ?? 100),
          sinceSeconds: a.sinceSeconds ? String(a.sinceSeconds) : undefined,
          previous: a.previous ? "true" : undefined,
          limitBytes: String(MAX_LOG_BYTES),
        },
      },
      MAX_LOG_BYTES,
    );
    if (!ok(res)) return failed(c, res);
    const capped = capText(res.body.toString("utf8"), "a lower tailLines or sinceSeconds");
    const notes = warnings(res);
    if (res.truncated) notes.push(`Log output capped at ${MAX_LOG_BYTES} bytes: ask for fewer lines.`);
    return text(withNotes(untrusted(`logs of pod ${a.pod}`, capped.text || "(no log lines)"), notes));
  },
});
