// metrics.k8s.io/v1beta1 as metrics-server serves it: PodMetrics for running pods and NodeMetrics for nodes, read-only
// (get, list), computed on each request from the pods in the store — nothing is stored. Usage is deterministic and
// plausible: per container, derived from the pod's uid and the container's name (1–250m CPU, 16–255Mi memory); a
// node's usage is its running pods' plus a fixed system share. `kubectl top pod|node` reads these.
//
// Failure stance: a pod that is not Running has no metrics (404 on get, absent from lists), as with metrics-server.
import type { ServerResponse } from "node:http";
import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { seedOf } from "../streams/loglines.ts";
import type { ApiContext } from "./context.ts";
import { objectFilter } from "./read.ts";
import { sendJson } from "./respond.ts";

export const METRICS_GROUP = "metrics.k8s.io";
const API_VERSION = "metrics.k8s.io/v1beta1";
const WINDOW = "30s";

interface ContainerUsage {
  name: string;
  usage: { cpu: string; memory: string };
}

/** CPU in millicores and memory in MiB of one container: stable for a pod's lifetime. */
function usageOf(uid: string, container: string): { milli: number; mib: number } {
  const s = seedOf(`${uid}/${container}/usage`);
  return { milli: 1 + (s % 250), mib: 16 + ((s >>> 8) % 240) };
}

const cpu = (milli: number) => `${milli * 1_000_000}n`;
const memory = (mib: number) => `${mib * 1024}Ki`;

function runningPods(ctx: ApiContext, namespace: string): KubeObject[] {
  const type = ctx.registry.find("", "v1", "pods");
  if (!type) return [];
  return ctx.store
    .list(type, namespace)
    .items.filter((p) => (p.status as { phase?: string } | undefined)?.phase === "Running");
}

function podMetrics(pod: KubeObject, now: Date): KubeObject {
  const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map(
    (c): ContainerUsage => {
      const u = usageOf(pod.metadata.uid ?? "", c.name);
      return { name: c.name, usage: { cpu: cpu(u.milli), memory: memory(u.mib) } };
    },
  );
  return {
    kind: "PodMetrics",
    apiVersion: API_VERSION,
    metadata: {
      name: pod.metadata.name ?? "",
      namespace: pod.metadata.namespace ?? "",
      creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    window: WINDOW,
    containers,
  } as KubeObject;
}

function nodeMetrics(ctx: ApiContext, node: KubeObject, now: Date): KubeObject {
  let milli = 150;
  let mib = 800;
  for (const pod of runningPods(ctx, "")) {
    if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node.metadata.name) continue;
    for (const c of (pod.spec as { containers?: { name: string }[] }).containers ?? []) {
      const u = usageOf(pod.metadata.uid ?? "", c.name);
      milli += u.milli;
      mib += u.mib;
    }
  }
  return {
    kind: "NodeMetrics",
    apiVersion: API_VERSION,
    metadata: {
      name: node.metadata.name ?? "",
      creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      ...(node.metadata.labels ? { labels: node.metadata.labels } : {}),
    },
    timestamp: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    window: WINDOW,
    usage: { cpu: cpu(milli), memory: memory(mib) },
  } as KubeObject;
}

/** GET/list of pods or nodes in metrics.k8s.io. */
export function handleMetrics(
  ctx: ApiContext,
  type: ResourceType,
  route: SimRequest,
  res: ServerResponse,
): void {
  const now = ctx.now();
  const keep = objectFilter(type, route);
  let items: KubeObject[];
  if (type.resource === "pods") {
    items = runningPods(ctx, route.namespace).map((p) => podMetrics(p, now));
  } else {
    const nodes = ctx.registry.find("", "v1", "nodes");
    items = nodes ? ctx.store.list(nodes, "").items.map((n) => nodeMetrics(ctx, n, now)) : [];
  }
  items = items.filter(keep);
  if (route.verb === "get") {
    const found = items.find((i) => i.metadata.name === route.name);
    if (!found)
      throw StatusError.of("NotFound", `${type.resource}.${METRICS_GROUP} "${route.name}" not found`, {
        name: route.name,
        group: METRICS_GROUP,
        kind: type.resource,
      });
    sendJson(res, 200, found);
    return;
  }
  if (route.verb !== "list")
    throw StatusError.of(
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
    );
  sendJson(res, 200, {
    kind: `${type.kind}List`,
    apiVersion: API_VERSION,
    metadata: {},
    items,
  });
}
