// Impersonation, as kube-apiserver's WithImpersonation filter (apiserver/pkg/endpoints/filters/impersonation.go):
// every requested user, service account, group, uid and extra value is authorised as verb "impersonate" for the
// requesting user before the identity changes.
//
// Fail closed: the first refused item ends the request with kube's 403; groups, extras or a uid without a user is
// the same error kube gives (500 InternalError "requested […] without impersonating a user").
import type { IncomingHttpHeaders } from "node:http";
import type { AuthorizationAttributes, Authorizer, UserInfo } from "../contracts.ts";
import { failure, StatusError } from "../status.ts";
import { forbiddenError } from "./forbidden.ts";
import { splitServiceAccount } from "./rbac.ts";

const EXTRA_PREFIX = "impersonate-extra-";
const AUTHENTICATED = "system:authenticated";
const UNAUTHENTICATED = "system:unauthenticated";
const ANONYMOUS = "system:anonymous";

/** Headers as Node gives them: `req.headers` (repeats joined with ", ") or `req.headersDistinct` (arrays). */
export type HeaderBag = IncomingHttpHeaders | NodeJS.Dict<string[]>;

/**
 * All values of a header. Node joins repeated header lines with ", ", so a joined string is split there; pass
 * `req.headersDistinct` to keep values that themselves contain ", ".
 */
function values(headers: HeaderBag, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  return v.split(/,\s*/).filter((s) => s !== "");
}

/** One impersonation request, in the shape of the Go ObjectReference kube builds (its fields print in errors). */
interface ImpersonationRequest {
  kind: "ServiceAccount" | "User" | "Group" | "UserExtra" | "UID";
  namespace: string;
  name: string;
  apiVersion: string;
  fieldPath: string; // the extra key
}

function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded; // kube records a malformed key as sent
  }
}

/** Go's `%v` of []v1.ObjectReference, so the error text matches kube's. */
function goFormat(requests: ImpersonationRequest[]): string {
  const one = (r: ImpersonationRequest) =>
    `{${[r.kind, r.namespace, r.name, "", r.apiVersion, "", r.fieldPath].join(" ")}}`;
  return `[${requests.map(one).join(" ")}]`;
}

export function buildImpersonationRequests(headers: HeaderBag): ImpersonationRequest[] {
  const requests: ImpersonationRequest[] = [];
  const base = { namespace: "", apiVersion: "", fieldPath: "" };
  const user = values(headers, "impersonate-user")[0] ?? "";
  if (user) {
    const sa = splitServiceAccount(user);
    if (sa) requests.push({ ...base, kind: "ServiceAccount", namespace: sa.namespace, name: sa.name });
    else requests.push({ ...base, kind: "User", name: user });
  }
  const groups = values(headers, "impersonate-group");
  for (const g of groups) requests.push({ ...base, kind: "Group", name: g });
  const extraHeaders = Object.keys(headers)
    .filter((h) => h.toLowerCase().startsWith(EXTRA_PREFIX))
    .sort();
  for (const h of extraHeaders) {
    const key = unescapeExtraKey(h.slice(EXTRA_PREFIX.length).toLowerCase());
    for (const value of values(headers, h)) {
      requests.push({
        ...base,
        kind: "UserExtra",
        apiVersion: "authentication.k8s.io/v1",
        name: value,
        fieldPath: key,
      });
    }
  }
  const uid = values(headers, "impersonate-uid")[0] ?? "";
  if (uid) requests.push({ ...base, kind: "UID", apiVersion: "authentication.k8s.io/v1", name: uid });
  if ((groups.length > 0 || extraHeaders.length > 0 || uid) && !user) {
    throw new StatusError(
      failure("InternalError", `requested ${goFormat(requests)} without impersonating a user`),
    );
  }
  return requests;
}

/** Returns the impersonated user, or `requestor` unchanged when no Impersonate-* header is present. */
export function impersonate(requestor: UserInfo, headers: HeaderBag, authorizer: Authorizer): UserInfo {
  const requests = buildImpersonationRequests(headers);
  if (requests.length === 0) return requestor;
  const groupsSpecified = values(headers, "impersonate-group").length > 0;
  let username = "";
  let uid: string | undefined;
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs: AuthorizationAttributes = {
      user: requestor,
      verb: "impersonate",
      resourceRequest: true,
      apiGroup: r.apiVersion ? "authentication.k8s.io" : "",
      apiVersion: r.apiVersion ? "v1" : "",
      namespace: r.namespace,
      resource: "",
      subresource: "",
      name: r.name,
      path: "",
    };
    switch (r.kind) {
      case "ServiceAccount":
        attrs.resource = "serviceaccounts";
        username = `system:serviceaccount:${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups = ["system:serviceaccounts", `system:serviceaccounts:${r.namespace}`];
        break;
      case "User":
        attrs.resource = "users";
        username = r.name;
        break;
      case "Group":
        attrs.resource = "groups";
        groups.push(r.name);
        break;
      case "UserExtra":
        attrs.resource = "userextras";
        attrs.subresource = r.fieldPath;
        extra[r.fieldPath] = [...(extra[r.fieldPath] ?? []), r.name];
        break;
      case "UID":
        attrs.resource = "uids";
        uid = r.name;
        break;
    }
    const decision = authorizer.authorize(attrs);
    if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
  }
  if (username !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED);
  }
  const result: UserInfo = { username, groups, extra };
  if (uid !== undefined) result.uid = uid;
  return result;
}
