// listen: which cluster a request is for. `/k8s/<cluster>/…` selects one; any other path goes to the default
// cluster. The cluster prefix is cut before classification, so the classifier sees exactly the path the cluster will.
import { invalidClusterName, noSuchCluster } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import type { UpstreamRegistry } from "../upstream/index.ts";

export type Route = { ok: true; cluster: string; pathAndQuery: string } | { ok: false; status: Status };

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const CLUSTER_PREFIX = "/k8s/";

export function routeCluster(rawUrl: string, upstreams: UpstreamRegistry): Route {
  if (!rawUrl.startsWith(CLUSTER_PREFIX))
    return { ok: true, cluster: upstreams.default().name, pathAndQuery: rawUrl };
  const rest = rawUrl.slice(CLUSTER_PREFIX.length);
  const end = rest.search(/[/?]/);
  const name = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? "" : rest.slice(end);
  if (!CLUSTER_NAME.test(name)) {
    return {
      ok: false,
      status: invalidClusterName(name),
    };
  }
  if (!upstreams.get(name)) {
    const known = upstreams.all().map((u) => u.name);
    return { ok: false, status: noSuchCluster(name, known) };
  }
  return { ok: true, cluster: name, pathAndQuery: tail.startsWith("/") ? tail : `/${tail}` };
}
