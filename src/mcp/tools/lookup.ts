// Resolving a tool's resource argument and building the paths of its requests. Unknown names are looked up in the
// cluster's aggregated discovery — two GETs through the pipeline as the caller, like kubectl's own discovery.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type CallContext, failed, json, kube, ok, toolError } from "../call.ts";
import {
  BUILTIN_RESOURCES,
  findResource,
  fromAggregatedDiscovery,
  type ObjectRef,
  type ResourceType,
  resourcePath,
} from "../resources.ts";

const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

export type Lookup<T> = { ok: true; value: T } | { ok: false; result: CallToolResult };

/** Every resource type the cluster serves (core and groups), from aggregated discovery. */
export async function discover(c: CallContext, cluster: string | undefined): Promise<Lookup<ResourceType[]>> {
  const prefix = cluster ? `/k8s/${cluster}` : "";
  const out: ResourceType[] = [];
  for (const path of ["/api", "/apis"]) {
    const res = await kube(c, { method: "GET", path: `${prefix}${path}`, headers: { accept: AGGREGATED } });
    if (!ok(res)) return { ok: false, result: await failed(c, res) };
    out.push(...fromAggregatedDiscovery(json(res)));
  }
  return { ok: true, value: out };
}

export async function resolveType(
  c: CallContext,
  name: string,
  cluster: string | undefined,
): Promise<Lookup<ResourceType>> {
  const known = findResource(BUILTIN_RESOURCES, name);
  if (known) return { ok: true, value: known };
  const all = await discover(c, cluster);
  if (!all.ok) return all;
  const found = findResource(all.value, name);
  if (found) return { ok: true, value: found };
  return {
    ok: false,
    result: toolError(`the server doesn't have a resource type "${name}" (see k8s_api_resources)`),
  };
}

/** The path of a collection or object, or a tool error for a name that is not valid in a path. */
export function pathOf(t: ResourceType, ref: ObjectRef): Lookup<string> {
  try {
    return {
      ok: true,
      value: resourcePath(t, { ...ref, namespace: t.namespaced ? (ref.namespace ?? "default") : undefined }),
    };
  } catch (err) {
    return { ok: false, result: toolError((err as Error).message) };
  }
}
