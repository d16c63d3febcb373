// The create-only review kinds: SelfSubjectReview and TokenReview (authentication.k8s.io/v1), SelfSubjectAccessReview,
// SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1).
//
// Each answers with the object it was given plus a status, as kube-apiserver does; nothing is stored. A malformed
// spec is a 422 Invalid with kube's field path, never a guess.

import type { AuthorizationAttributes, KubeObject, SimRequest, UserInfo } from "../contracts.ts";
import { StatusError } from "../status.ts";
import type { TokenAuthenticator } from "./authenticator.ts";
import type { SimAuthorizer } from "./authorizer.ts";

type Json = Record<string, unknown>;

export interface ReviewDeps {
  authorizer: SimAuthorizer;
  tokens: TokenAuthenticator;
}

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
}

function invalid(kind: string, field: string, message: string): StatusError {
  return StatusError.of("Invalid", `${kind}.authorization.k8s.io "" is invalid: ${field}: ${message}`, {
    group: "authorization.k8s.io",
    kind,
    causes: [{ type: "FieldValueInvalid", message, field }],
  });
}

function userInfoJson(user: UserInfo): Json {
  const out: Json = { username: user.username };
  if (user.uid) out.uid = user.uid;
  out.groups = user.groups;
  if (Object.keys(user.extra).length > 0) out.extra = user.extra;
  return out;
}

/** spec.resourceAttributes / spec.nonResourceAttributes → authorizer attributes (exactly one must be set). */
function accessAttributes(kind: string, spec: Json, user: UserInfo): AuthorizationAttributes {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if (ra && nra) {
    throw invalid(
      kind,
      "spec.resourceAttributes",
      "cannot be specified in combination with nonResourceAttributes",
    );
  }
  if (!ra && !nra) {
    throw invalid(
      kind,
      "spec.resourceAttributes",
      "exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
  }
  if (nra) {
    const n = obj(nra);
    return {
      user,
      verb: str(n.verb),
      resourceRequest: false,
      apiGroup: "",
      apiVersion: "",
      namespace: "",
      resource: "",
      subresource: "",
      name: "",
      path: str(n.path),
    };
  }
  const r = obj(ra);
  return {
    user,
    verb: str(r.verb),
    resourceRequest: true,
    apiGroup: str(r.group),
    apiVersion: str(r.version),
    namespace: str(r.namespace),
    resource: str(r.resource),
    subresource: str(r.subresource),
    name: str(r.name),
    path: "",
  };
}

function accessStatus(deps: ReviewDeps, attrs: AuthorizationAttributes): Json {
  const { allowed, reason } = deps.authorizer.authorize(attrs);
  const status: Json = { allowed };
  if (reason) status.reason = reason;
  return status;
}

function answer(body: KubeObject, kind: string, apiVersion: string, rest: Json): KubeObject {
  return { kind, apiVersion, metadata: body.metadata ?? {}, ...rest };
}

/** The user a SubjectAccessReview asks about: exactly what the spec says, no groups added. */
function specUser(kind: string, spec: Json): UserInfo {
  const username = str(spec.user);
  const groups = strings(spec.groups);
  if (!username && groups.length === 0) {
    throw invalid(kind, "spec.user", "at least one of user or group must be specified");
  }
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(obj(spec.extra))) extra[k] = strings(v);
  const user: UserInfo = { username, groups, extra };
  if (str(spec.uid)) user.uid = str(spec.uid);
  return user;
}

export function handleReview(
  deps: ReviewDeps,
  route: SimRequest,
  user: UserInfo,
  body: KubeObject,
): KubeObject {
  const apiVersion = `${route.apiGroup}/${route.apiVersion}`;
  const spec = obj(body.spec);
  switch (route.resource) {
    case "selfsubjectreviews":
      return answer(body, "SelfSubjectReview", apiVersion, { status: { userInfo: userInfoJson(user) } });
    case "tokenreviews": {
      const asked = strings(spec.audiences);
      const result = deps.tokens.authenticateToken(str(spec.token), asked.length > 0 ? asked : undefined);
      // The token itself is not echoed back: the review answers who it is, not what it was.
      const echoed = asked.length > 0 ? { audiences: asked } : {};
      if (!result) {
        return answer(body, "TokenReview", apiVersion, {
          spec: echoed,
          status: { authenticated: false, user: {}, error: "invalid bearer token" },
        });
      }
      return answer(body, "TokenReview", apiVersion, {
        spec: echoed,
        status: { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences },
      });
    }
    case "selfsubjectaccessreviews":
      return answer(body, "SelfSubjectAccessReview", apiVersion, {
        spec,
        status: accessStatus(deps, accessAttributes("SelfSubjectAccessReview", spec, user)),
      });
    case "subjectaccessreviews":
    case "localsubjectaccessreviews": {
      const kind =
        route.resource === "subjectaccessreviews" ? "SubjectAccessReview" : "LocalSubjectAccessReview";
      const attrs = accessAttributes(kind, spec, specUser(kind, spec));
      if (
        kind === "LocalSubjectAccessReview" &&
        attrs.resourceRequest &&
        attrs.namespace !== route.namespace
      ) {
        throw StatusError.of(
          "BadRequest",
          `spec.resourceAttributes.namespace must match namespace: ${route.namespace}`,
        );
      }
      return answer(body, kind, apiVersion, { spec, status: accessStatus(deps, attrs) });
    }
    case "selfsubjectrulesreviews": {
      const namespace = str(spec.namespace);
      const rules = deps.authorizer.rulesFor(user, namespace);
      const status: Json = { ...rules };
      if (rules.incomplete) status.evaluationError = "some role references could not be resolved";
      return answer(body, "SelfSubjectRulesReview", apiVersion, { spec, status });
    }
    default:
      throw StatusError.of("NotFound", `the server could not find the requested resource`);
  }
}
