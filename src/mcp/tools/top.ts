// k8s_top: CPU and memory of pods (per pod, or per container) or of nodes, from metrics.k8s.io as `kubectl top`
// reads it — one list through the pipeline as the caller. When the cluster does not serve metrics.k8s.io (no
// metrics-server) the answer says so plainly instead of an error to interpret.
import { z } from "zod";
import { failed, json, kube, ok, text, toolError } from "../call.ts";
import { capText, untrusted } from "../format.ts";
import { checkNamespace } from "../resources.ts";
import { common, defineTool, READ_ONLY, rowsField } from "./define.ts";

const NOT_SERVED =
  "metrics.k8s.io is not served by this cluster (no metrics-server): CPU and memory usage are not available.";

const CPU_UNITS: Record<string, number> = { n: 1e-6, u: 1e-3, m: 1, "": 1000 };
const MEM_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A CPU quantity ("12345678n", "250m", "1") in millicores; NaN when not one. */
export function milliCores(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m|)$/.exec(q ?? "");
  return m ? Math.ceil(Number(m[1]) * (CPU_UNITS[m[2] as string] as number)) : Number.NaN;
}

/** A memory quantity ("1234Ki", "12Mi", "1000") in bytes; NaN when not one. */
export function memoryBytes(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|)$/.exec(q ?? "");
  return m ? Math.round(Number(m[1]) * (MEM_UNITS[m[2] as string] as number)) : Number.NaN;
}

const cpuText = (milli: number) => (Number.isNaN(milli) ? "<unknown>" : `${milli}m`);
const memText = (bytes: number) => (Number.isNaN(bytes) ? "<unknown>" : `${Math.floor(bytes / 1024 ** 2)}Mi`);

interface Usage {
  cpu?: string;
  memory?: string;
}
interface MetricsItem {
  metadata?: { name?: string; namespace?: string };
  usage?: Usage;
  containers?: { name?: string; usage?: Usage }[];
}

export const topTool = defineTool({
  name: "k8s_top",
  title: "CPU and memory usage",
  description:
    "Current CPU (millicores) and memory of pods (optionally per container) or nodes, from metrics.k8s.io as " +
    '`kubectl top` shows it. Says "not served" when the cluster has no metrics-server.',
  input: {
    kind: z.enum(["pods", "nodes"]).optional().describe('"pods" (default) or "nodes"'),
    namespace: common.namespace,
    allNamespaces: z.boolean().optional().describe("Pods of every namespace"),
    labelSelector: z.string().max(1000).optional().describe('e.g. "app=web"'),
    containers: z.boolean().optional().describe("One row per container (pods only)"),
    sortBy: z.enum(["cpu", "memory"]).optional().describe("Highest first (default: by name)"),
    cluster: common.cluster,
  },
  output: {
    kind: z.string(),
    served: z.boolean(),
    rows: rowsField,
    items: z.array(
      z.object({
        name: z.string(),
        namespace: z.string().optional(),
        container: z.string().optional(),
        cpuMillicores: z.number(),
        memoryBytes: z.number(),
      }),
    ),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const kind = a.kind ?? "pods";
    const namespace = a.namespace ?? "default";
    if (kind === "pods" && !a.allNamespaces && checkNamespace(namespace))
      return toolError(checkNamespace(namespace) ?? "");
    const prefix = a.cluster ? `/k8s/${a.cluster}` : "";
    const scope = kind === "pods" && !a.allNamespaces ? `/namespaces/${namespace}` : "";
    const res = await kube(
      c,
      {
        method: "GET",
        path: `${prefix}/apis/metrics.k8s.io/v1beta1${scope}/${kind}`,
        query: { labelSelector: a.labelSelector },
        headers: { accept: "application/json" },
      },
      8 * 1024 * 1024,
    );
    // A list of a collection is 404 only when the group/version/resource is not served.
    if (res.status === 404) return text(NOT_SERVED, { kind, served: false, rows: [], items: [] });
    if (!ok(res)) return failed(c, res);
    const list = json(res) as { items?: MetricsItem[] } | undefined;
    const items: {
      name: string;
      namespace?: string;
      container?: string;
      cpuMillicores: number;
      memoryBytes: number;
    }[] = [];
    for (const it of list?.items ?? []) {
      const name = String(it.metadata?.name ?? "");
      const ns = it.metadata?.namespace;
      const where = a.allNamespaces && ns ? { namespace: ns } : {};
      if (kind === "nodes") {
        items.push({
          name,
          cpuMillicores: milliCores(it.usage?.cpu),
          memoryBytes: memoryBytes(it.usage?.memory),
        });
      } else if (a.containers) {
        for (const ct of it.containers ?? [])
          items.push({
            name,
            ...where,
            container: String(ct.name ?? ""),
            cpuMillicores: milliCores(ct.usage?.cpu),
            memoryBytes: memoryBytes(ct.usage?.memory),
          });
      } else {
        const sum = (f: (u: Usage | undefined) => number) =>
          (it.containers ?? []).reduce((t, ct) => t + f(ct.usage), 0);
        items.push({
          name,
          ...where,
          cpuMillicores: sum((u) => milliCores(u?.cpu)),
          memoryBytes: sum((u) => memoryBytes(u?.memory)),
        });
      }
    }
    if (a.sortBy === "cpu") items.sort((x, y) => y.cpuMillicores - x.cpuMillicores);
    else if (a.sortBy === "memory") items.sort((x, y) => y.memoryBytes - x.memoryBytes);
    else
      items.sort((x, y) => `${x.namespace ?? ""}/${x.name}`.localeCompare(`${y.namespace ?? ""}/${y.name}`));
    const rows: Record<string, string>[] = items.map((i) => ({
      ...(i.namespace !== undefined ? { NAMESPACE: i.namespace } : {}),
      [kind === "nodes" ? "NAME" : a.containers ? "POD" : "NAME"]: i.name,
      ...(i.container !== undefined ? { NAME: i.container } : {}),
      "CPU(cores)": cpuText(i.cpuMillicores),
      "MEMORY(bytes)": memText(i.memoryBytes),
    }));
    if (rows.length === 0) {
      const where =
        kind === "nodes" ? "" : a.allNamespaces ? " in any namespace" : ` in namespace ${namespace}`;
      return text(`No ${kind} metrics${where} (metrics exist for running pods only).`, {
        kind,
        served: true,
        rows,
        items,
      });
    }
    const headers = Object.keys(rows[0] ?? {});
    const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => (r[h] ?? "").length)));
    const line = (cells: string[]) =>
      cells
        .map((x, i) => x.padEnd(widths[i] ?? 0))
        .join("   ")
        .trimEnd();
    const table = [line(headers), ...rows.map((r) => line(headers.map((h) => r[h] ?? "")))].join("\n");
    const capped = capText(table, "a labelSelector or one namespace");
    return text(untrusted(`${kind} metrics`, capped.text), { kind, served: true, rows, items });
  },
});
