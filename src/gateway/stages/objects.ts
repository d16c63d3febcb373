// objects: the objects the rules that could match read (the stored object, a server-side dry run), loaded before
// policy decides (src/review/object-context.ts).
import { header } from "../context.ts";
import { loadNeededObjects } from "../objects.ts";
import { admitted, type Stage } from "./types.ts";

export const objects: Stage = async (flow) => {
  const { gw, ctx } = flow;
  const { kube, principal, upstream } = admitted(flow);
  const loaded = await loadNeededObjects({
    decider: gw.decider,
    upstream,
    principal,
    requestId: ctx.id,
    kube,
    method: ctx.method,
    pathAndQuery: flow.pathAndQuery,
    body: flow.body,
    contentType: header(ctx.headers, "content-type"),
  });
  return loaded.ok ? undefined : loaded.status;
};
