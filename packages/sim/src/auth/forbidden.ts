// The Forbidden Status kube-apiserver sends when authorization refuses a request
// (endpoints/handlers/responsewriters.Forbidden + apimachinery errors.NewForbidden), word for word, because kubectl
// prints the message verbatim and tests compare it with what a real cluster says.

import type { AuthorizationAttributes } from "../contracts.ts";
import { failure, type Status, StatusError } from "../status.ts";

/** `User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"` (or `… path "/x"`). */
export function forbiddenMessage(attrs: AuthorizationAttributes): string {
  const user = JSON.stringify(attrs.user.username);
  if (!attrs.resourceRequest) return `User ${user} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  const resource = JSON.stringify(
    attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource,
  );
  const where = attrs.namespace
    ? `in the namespace ${JSON.stringify(attrs.namespace)}`
    : "at the cluster scope";
  return `User ${user} cannot ${attrs.verb} resource ${resource} in API group ${JSON.stringify(attrs.apiGroup)} ${where}`;
}

/** The full 403 Status: `pods "x" is forbidden: User … [: reason]`, details naming the group, resource and name. */
export function forbiddenStatus(attrs: AuthorizationAttributes, reason: string): Status {
  const err = reason ? `${forbiddenMessage(attrs)}: ${reason}` : forbiddenMessage(attrs);
  // Only resource requests have a qualified resource; the subresource is not part of it.
  const resource = attrs.resourceRequest ? attrs.resource : "";
  const group = attrs.resourceRequest ? attrs.apiGroup : "";
  const qualified = group ? `${resource}.${group}` : resource;
  let message: string;
  if (!qualified) message = `forbidden: ${err}`;
  else if (!attrs.name) message = `${qualified} is forbidden: ${err}`;
  else message = `${qualified} ${JSON.stringify(attrs.name)} is forbidden: ${err}`;
  const details: Status["details"] = { kind: resource };
  if (group) details.group = group;
  if (attrs.name) details.name = attrs.name;
  return failure("Forbidden", message, details);
}

export function forbiddenError(attrs: AuthorizationAttributes, reason: string): StatusError {
  return new StatusError(forbiddenStatus(attrs, reason));
}
