// Markers never flow back (docs/masking.md): the refusal of a write whose body carries a masking marker, as the
// Status kubectl prints. Every identity, every write verb, before policy: a marker in a body is never what the
// writer meant to store, and storing it would replace a real value with a placeholder.

import { maskedValueWritten } from "../../kube/refusals.ts";
import type { KubeRequest } from "../../kube/request.ts";
import type { Status } from "../../kube/status.ts";
import { findMarkerInBody } from "../../mask/body-markers.ts";
import { describeTarget } from "../decide.ts";

/** A 422 Status when the request body carries a marker; undefined otherwise. */
export function refuseMarkers(kube: KubeRequest, raw: Buffer | undefined): Status | undefined {
  if (!raw?.length && kube.body === undefined) return undefined;
  const found = findMarkerInBody(kube.body, raw);
  if (!found) return undefined;
  const where = found.where.length > 200 ? `${found.where.slice(0, 200)}…` : found.where;
  const how = found.form === "raw" ? "" : ` (${found.form}-encoded)`;
  return maskedValueWritten(describeTarget(kube), kube.action, where, how);
}
