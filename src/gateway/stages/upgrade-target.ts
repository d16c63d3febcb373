// upgrade target: protocol upgrades are accepted only for pods/exec, pods/attach and pods/portforward.
import { badRequest } from "../../kube/refusals.ts";
import { describeTarget } from "../decide.ts";
import { UPGRADE_SUBRESOURCES } from "../forward/upgrade.ts";
import { admitted, type Stage } from "./types.ts";

export const upgradeTarget: Stage = async (flow) => {
  if (flow.answer.kind !== "socket") return undefined;
  const { kube } = admitted(flow);
  const { info } = kube;
  if (info.isResourceRequest && info.resource === "pods" && UPGRADE_SUBRESOURCES.has(info.subresource))
    return undefined;
  return badRequest(
    `airlock: protocol upgrades are accepted only for pods/exec, pods/attach and pods/portforward, not ${describeTarget(kube)}`,
  );
};
