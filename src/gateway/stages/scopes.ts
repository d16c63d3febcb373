// scopes: limits the credential itself carries (read-only, clusters), whatever policy would allow.
import { checkScopes } from "../../identity/scopes.ts";
import { admitted, type Stage } from "./types.ts";

export const scopes: Stage = async (flow) => {
  const { kube, principal } = admitted(flow);
  const scoped = checkScopes(principal, kube, flow.ctx.method);
  return scoped.ok ? undefined : scoped.status;
};
