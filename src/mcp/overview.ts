// The "cluster overview" MCP resource (airlock://cluster/overview): what an agent reads first — namespaces, nodes,
// workloads that are not ready, pods that are not running, recent warnings — built from lists sent through the
// pipeline as the caller (policy, masking, audit apply as to any tool call; a list the caller may not read is named
// as not shown). Text only, capped; cluster strings fenced.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type CallContext, json, kube, ok } from "./call.ts";
import { capText, untrusted } from "./format.ts";

export const OVERVIEW_URI = "airlock://cluster/overview";

type Item = {
  metadata?: { name?: string; namespace?: string };
  spec?: { replicas?: number };
  status?: {
    phase?: string;
    readyReplicas?: number;
    conditions?: { type?: string; status?: string }[];
  };
  type?: string;
  reason?: string;
  involvedObject?: { kind?: string; name?: string };
};

async function list(c: CallContext, path: string, query: Record<string, string> = {}) {
  const res = await kube(c, {
    method: "GET",
    path,
    query: { limit: "500", ...query },
    headers: { accept: "application/json" },
  });
  if (!ok(res)) return undefined;
  return ((json(res) as { items?: Item[] })?.items ?? []) as Item[];
}

const where = (i: Item) =>
  `${i.metadata?.namespace ? `${i.metadata.namespace}/` : ""}${i.metadata?.name ?? ""}`;

export async function clusterOverview(c: CallContext): Promise<string> {
  const [namespaces, nodes, deployments, pods, warnings] = await Promise.all([
    list(c, "/api/v1/namespaces"),
    list(c, "/api/v1/nodes"),
    list(c, "/apis/apps/v1/deployments"),
    list(c, "/api/v1/pods"),
    list(c, "/api/v1/events", { fieldSelector: "type=Warning" }),
  ]);
  const lines: string[] = [];
  const notShown = (what: string) => lines.push(`${what}: not shown (policy does not let you list them)`);
  if (namespaces)
    lines.push(`Namespaces (${namespaces.length}): ${namespaces.map((n) => n.metadata?.name).join(", ")}`);
  else notShown("Namespaces");
  if (nodes) {
    const ready = nodes.filter((n) =>
      n.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"),
    );
    lines.push(`Nodes: ${nodes.length} (${ready.length} ready)`);
  } else notShown("Nodes");
  if (deployments) {
    const behind = deployments.filter((d) => (d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 1));
    lines.push(
      `Deployments: ${deployments.length}, ${behind.length} not fully ready${behind.length ? `: ${behind.map((d) => `${where(d)} ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`).join(", ")}` : ""}`,
    );
  } else notShown("Deployments");
  if (pods) {
    const bad = pods.filter((p) => p.status?.phase !== "Running" && p.status?.phase !== "Succeeded");
    lines.push(
      `Pods: ${pods.length}, ${bad.length} neither running nor succeeded${
        bad.length
          ? `: ${bad
              .slice(0, 20)
              .map((p) => `${where(p)} ${p.status?.phase ?? "?"}`)
              .join(", ")}`
          : ""
      }`,
    );
  } else notShown("Pods");
  if (warnings) {
    const recent = warnings.slice(-10);
    lines.push(`Warning events: ${warnings.length}${recent.length ? " (latest 10):" : ""}`);
    for (const e of recent)
      lines.push(
        `  ${e.reason ?? ""} ${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""} in ${e.metadata?.namespace ?? ""}`,
      );
  } else notShown("Warning events");
  return untrusted("cluster overview", capText(lines.join("\n"), "k8s_list of one resource type").text);
}

/** Registers the overview resource; each read runs as the session's caller. */
export function registerOverview(server: McpServer, context: (uri: string) => CallContext): void {
  server.registerResource(
    "cluster-overview",
    OVERVIEW_URI,
    {
      title: "Cluster overview",
      description:
        "Namespaces, nodes, workloads not ready, pods not running and recent warnings, as your identity may read them",
      mimeType: "text/plain",
    },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: "text/plain", text: await clusterOverview(context(uri.href)) }],
    }),
  );
}
