// classify: header hygiene, path hygiene, RequestInfo as kube-apiserver computes it (src/kube/classify).
import { classifyRequest, inspectClientHeaders } from "../../kube/classify/index.ts";
import type { Stage } from "./types.ts";

export const classify: Stage = async (flow) => {
  const { ctx } = flow;
  const hygiene = inspectClientHeaders(ctx.rawHeaders);
  if (!hygiene.ok) return hygiene.status;
  flow.forward = hygiene.value.forward;
  const classified = classifyRequest(ctx.method, flow.pathAndQuery, ctx.cluster);
  if (!classified.ok) return classified.status;
  ctx.kube = classified.value;
  return undefined;
};
