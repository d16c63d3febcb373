// collection: a deletecollection's objects are listed (as the caller) and decided one by one before anything is
// deleted; the forward stage then deletes each checked object with a precondition (../collection.ts).

import { forbiddenHere } from "../../kube/refusals.ts";
import { impersonationHeaders } from "../../upstream/impersonation.ts";
import { checkCollection } from "../collection.ts";
import { admitted, type Stage } from "./types.ts";

export const collection: Stage = async (flow) => {
  const { gw, ctx } = flow;
  const { kube, principal, upstream } = admitted(flow);
  if (kube.action !== "deletecollection" || !ctx.decision) return undefined;
  const decideCollection = gw.decider.decideCollection?.bind(gw.decider);
  // A decider that cannot judge objects one by one never lets a deletecollection through as one raw DELETE.
  if (!decideCollection) {
    return forbiddenHere(
      `airlock: deletecollection ${kube.info.resource} is refused: this gateway's decider cannot check the objects it would delete one by one`,
    );
  }
  const as = upstream.impersonate !== false ? impersonationHeaders(principal, ctx.id) : [];
  const checked = await checkCollection(decideCollection, upstream, principal, kube, ctx.decision, as);
  if (!checked.ok) {
    if (checked.decision) ctx.decision = checked.decision;
    return checked.status;
  }
  flow.collection = checked.collection;
  return undefined;
};
