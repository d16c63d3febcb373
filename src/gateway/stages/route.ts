// listen → route: which cluster the request is for (a /k8s/<cluster>/ prefix, or the default one).
import { internalError } from "../../kube/refusals.ts";
import { routeCluster } from "../route.ts";
import type { Stage } from "./types.ts";

export const route: Stage = async (flow) => {
  const routed = routeCluster(flow.ctx.rawUrl, flow.gw.upstreams);
  if (!routed.ok) return routed.status;
  flow.ctx.cluster = routed.cluster;
  flow.pathAndQuery = routed.pathAndQuery;
  flow.upstream = flow.gw.upstreams.get(routed.cluster);
  // routeCluster names only configured clusters, and the registry does not change at run time.
  if (!flow.upstream) return internalError(`airlock: cluster ${routed.cluster} has no connection`);
  return undefined;
};
