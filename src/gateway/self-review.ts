// forward → transform for self reviews: `kubectl auth can-i` tells the truth. A SelfSubjectAccessReview is sent to the
// cluster as the caller (RBAC's answer), then answered with what Airlock's policy would decide too: allowed only if
// both allow; a request policy would hold for review counts as not allowed now, and the reason says why. A
// SelfSubjectRulesReview lists RBAC's rules only, so its answer is marked incomplete (it cannot overstate).
//
// Fail closed: attributes the gateway cannot turn into a request (verb or resource `*`, an unknown verb) are answered
// "not allowed" with the reason; an answer that is not the review JSON is relayed as a 502 Status.

import type { Principal } from "../identity/types.ts";
import { upstreamBadAnswer } from "../kube/refusals.ts";
import type { KubeRequest } from "../kube/request.ts";
import type { Decision } from "../policy/decision.ts";
import { describeToRequest } from "../policy/request.ts";
import { callUpstream } from "../review/upstream-call.ts";
import type { Upstream } from "../upstream/index.ts";
import type { RequestContext } from "./context.ts";
import { header } from "./context.ts";
import type { Decider } from "./decide.ts";
import type { AnyResponse } from "./respond.ts";
import { sendStatus, writeHead } from "./respond.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : "");

export function isAnsweredSelfReview(kube: KubeRequest): boolean {
  return (
    kube.info.isResourceRequest &&
    kube.action === "create" &&
    kube.info.subresource === "" &&
    kube.info.apiGroup === "authorization.k8s.io" &&
    (kube.info.resource === "selfsubjectaccessreviews" || kube.info.resource === "selfsubjectrulesreviews")
  );
}

/** What policy would decide for the attributes a SelfSubjectAccessReview asks about; a string when it cannot tell. */
export async function policyVerdict(
  decider: Decider,
  principal: Principal,
  spec: unknown,
): Promise<Decision | string> {
  const resource = isObj(spec) ? spec.resourceAttributes : undefined;
  const nonResource = isObj(spec) ? spec.nonResourceAttributes : undefined;
  let request: Record<string, unknown>;
  if (isObj(resource)) {
    const verb = str(resource.verb);
    const res = str(resource.resource);
    // Header hygiene refuses every client Impersonate-* header, so through Airlock the answer is always no.
    if (verb === "impersonate")
      return "clients never impersonate through Airlock (Impersonate-* headers are refused)";
    if (!verb || verb === "*" || !res || res === "*" || str(resource.subresource) === "*") {
      return "Airlock decides each request on its own; ask about one verb and one resource";
    }
    const sub = str(resource.subresource);
    // "may I get pods" asks about any pod: a placeholder name stands for it (collection verbs take none).
    const named = sub || !["list", "watch", "create", "deletecollection"].includes(verb);
    const name = str(resource.name) || (named ? "any" : "");
    request = {
      verb,
      apiGroup: str(resource.group),
      ...(str(resource.version) ? { apiVersion: str(resource.version) } : {}),
      resource: res,
      ...(sub ? { subresource: sub } : {}),
      ...(str(resource.namespace) ? { namespace: str(resource.namespace) } : {}),
      ...(name ? { name } : {}),
    };
  } else if (isObj(nonResource) && str(nonResource.path).startsWith("/")) {
    request = { method: str(nonResource.verb).toUpperCase() || "GET", path: str(nonResource.path) };
  } else {
    return "the review names neither resourceAttributes nor nonResourceAttributes";
  }
  const described = describeToRequest({
    identity: {
      name: principal.name,
      kind: principal.kind,
      groups: principal.groups,
      labels: principal.labels,
    },
    request,
  });
  if (!described.ok) return `Airlock cannot tell: ${described.errors.join("; ")}`;
  // The object of a write is not known: rules that read it judge it fail-closed (the credentials category counts a
  // binding, role, Secret or workload of unknown content as in it), so "yes" is never said for what depends on it.
  described.kube.object = undefined;
  described.kube.oldObject = undefined;
  // A question, not a request: no rate-limit budget is used (evaluate), and the body of a write is not known.
  if (decider.evaluate) return decider.evaluate(principal, described.kube).decision;
  return decider.decide(principal, described.kube);
}

function combine(status: Obj, verdict: Decision | string): Obj {
  if (typeof verdict !== "string" && verdict.effect === "allow") return status;
  const why =
    typeof verdict === "string"
      ? `airlock: ${verdict}`
      : verdict.effect === "review"
        ? `airlock: policy ${verdict.policy} rule ${verdict.rule} would hold it for a review by a human; not allowed without one`
        : `airlock: denied by policy ${verdict.policy} rule ${verdict.rule}: ${verdict.message}`;
  const rbac = str(status.reason);
  return {
    ...status,
    allowed: false,
    ...(typeof verdict !== "string" && verdict.effect === "deny" ? { denied: true } : {}),
    reason:
      rbac && status.allowed === true
        ? `${why} (the cluster alone would allow it: ${rbac})`
        : rbac
          ? `${why}; the cluster: ${rbac}`
          : why,
  };
}

/** Forwards the self review as the caller and answers with the combined verdict. Returns the HTTP status sent. */
export async function answerSelfReview(
  deps: { decider: Decider; upstream: Upstream },
  ctx: RequestContext,
  res: AnyResponse,
  forward: { pathAndQuery: string; body: Buffer | undefined; headers: [string, string][] },
): Promise<{ status: number; bytesOut: number; error?: string }> {
  const kube = ctx.kube as KubeRequest;
  const principal = ctx.principal as Principal;
  const contentType = header(ctx.headers, "content-type");
  const headers: [string, string][] = [
    ...forward.headers.filter(([n]) => !/^(accept|content-type|content-length)$/i.test(n)),
    ...(contentType ? ([["Content-Type", contentType]] as [string, string][]) : []),
  ];
  const answer = await callUpstream(deps.upstream, "POST", forward.pathAndQuery, headers, forward.body);
  const review = answer.json;
  if (answer.status < 200 || answer.status >= 300 || !isObj(review)) {
    if (isObj(review) && review.kind === "Status") {
      const body = Buffer.from(JSON.stringify(review));
      writeHead(res, answer.status, {
        "content-type": "application/json",
        "content-length": String(body.length),
      });
      res.end(body);
      return { status: answer.status, bytesOut: body.length };
    }
    const status = upstreamBadAnswer(
      `airlock: the cluster's answer to the self review could not be read${answer.error ? `: ${answer.error}` : ""}`,
    );
    return {
      status: status.code,
      bytesOut: sendStatus(res, status),
      error: answer.error ?? "unreadable answer",
    };
  }
  const status = isObj(review.status) ? review.status : {};
  let out: Obj;
  if (kube.info.resource === "selfsubjectaccessreviews") {
    out = { ...review, status: combine(status, await policyVerdict(deps.decider, principal, review.spec)) };
  } else {
    out = {
      ...review,
      status: {
        ...status,
        incomplete: true,
        evaluationError:
          "airlock: these are the cluster's RBAC rules only; Airlock's policy also decides every request (ask with kubectl auth can-i VERB RESOURCE)",
      },
    };
  }
  const body = Buffer.from(JSON.stringify(out));
  writeHead(res, answer.status, {
    "content-type": "application/json",
    "content-length": String(body.length),
  });
  res.end(body);
  return { status: answer.status, bytesOut: body.length };
}
