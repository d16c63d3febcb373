// Who am I, what may I do, what is there: k8s_whoami, k8s_can_i, k8s_api_resources.
//
// whoami and can_i answer from two places: Airlock (the caller's identity; the policy decision for a described
// request, evaluated without using any rate budget and without sending anything) and the cluster (SelfSubjectReview /
// SelfSubjectAccessReview, sent through the pipeline like kubectl auth whoami / can-i, so policy may refuse them).
import { z } from "zod";
import { classifyRequest } from "../../kube/classify/index.ts";
import type { Decision } from "../../policy/decision.ts";
import type { PolicyEngine } from "../../policy/engine.ts";
import { impersonatedGroups, impersonatedUser } from "../../upstream/impersonation.ts";
import { type CallContext, json, kube, ok, statusMessage, text, toolError } from "../call.ts";
import { capText, rowObjects, table, untrusted } from "../format.ts";
import { common, defineTool, READ_ONLY, resourceArg, rowsField } from "./define.ts";
import { discover, pathOf, resolveType } from "./lookup.ts";

async function clusterCall(c: CallContext, cluster: string | undefined, path: string, body: unknown) {
  const prefix = cluster ? `/k8s/${cluster}` : "";
  const res = await kube(c, {
    method: "POST",
    path: `${prefix}${path}`,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  if (ok(res)) return { ok: true as const, value: json(res) };
  const { reason, message } = statusMessage(res);
  return { ok: false as const, error: `${reason}: ${message}` };
}

export const whoamiTool = defineTool({
  name: "k8s_whoami",
  title: "Who am I",
  description:
    "The Airlock identity this connection acts as (name, kind, groups) and the user the cluster sees for it " +
    "(Airlock impersonates the caller), plus the cluster's own SelfSubjectReview answer when policy allows it.",
  input: { cluster: common.cluster },
  output: {
    identity: z.string(),
    kind: z.string(),
    groups: z.array(z.string()),
    defaultNamespace: z.string(),
    clusterUser: z.string(),
    clusterGroups: z.array(z.string()),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const p = c.principal;
    const defaultNamespace = p.defaultNamespace ?? "default";
    const lines = [
      `Airlock identity: ${p.name} (${p.kind}), groups: ${p.groups.join(", ") || "(none)"}`,
      `Default namespace (used when a call names none): ${defaultNamespace}`,
      `Cluster user (impersonated): ${impersonatedUser(p)}, groups: ${impersonatedGroups(p).join(", ")}`,
    ];
    if (p.onBehalfOf) lines.push(`On behalf of: ${p.onBehalfOf}`);
    if (p.expiresAt) lines.push(`Credential expires: ${p.expiresAt}`);
    const review = await clusterCall(c, a.cluster, "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    if (review.ok) {
      const info = (review.value as { status?: { userInfo?: { username?: string; groups?: string[] } } })
        ?.status?.userInfo;
      lines.push(`Cluster says: ${info?.username ?? "?"} in ${(info?.groups ?? []).join(", ")}`);
    } else lines.push(`Cluster SelfSubjectReview not available: ${review.error}`);
    return text(lines.join("\n"), {
      identity: p.name,
      kind: p.kind,
      groups: [...p.groups],
      defaultNamespace,
      clusterUser: impersonatedUser(p),
      clusterGroups: impersonatedGroups(p),
    });
  },
});

const METHOD: Record<string, string> = {
  get: "GET",
  list: "GET",
  watch: "GET",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
};

function explain(d: Decision): string {
  const where = `policy ${d.policy} rule ${d.rule}`;
  if (d.effect === "allow") return `yes — allowed by ${where}${d.mask ? ` (masking profile ${d.mask})` : ""}`;
  if (d.effect === "review")
    return `only after a human approves — ${where} requires a review (approvers: ${d.review.approvers.groups.map((g) => `group ${g}`).join(", ") || "named approvers"}); the call answers with a pending review`;
  return `no — denied by ${where}: ${d.message}`;
}

export const canITool = defineTool({
  name: "k8s_can_i",
  title: "Check whether an action is allowed",
  description:
    "Whether this identity may perform an action: Airlock's policy answer (allow, review by a human, or deny with " +
    "the reason) and the cluster's RBAC answer. Nothing is changed. For exec, pass the command to check too.",
  input: {
    verb: z.enum(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "exec"]),
    resource: resourceArg,
    name: z.string().optional(),
    ...common,
    command: z.array(z.string()).optional().describe("For exec: the argv to check"),
  },
  output: {
    effect: z.enum(["allow", "review", "deny"]),
    policy: z.string(),
    rule: z.string(),
    approverGroups: z.array(z.string()),
    rbacAllowed: z.boolean(),
  },
  annotations: READ_ONLY,
  async run(c, a) {
    const type = await resolveType(c, a.resource, a.cluster);
    if (!type.ok) return type.result;
    const exec = a.verb === "exec";
    const named = exec || ["get", "update", "patch", "delete"].includes(a.verb);
    const name = named ? (a.name ?? "example") : undefined;
    const path = pathOf(type.value, {
      cluster: a.cluster,
      namespace: a.namespace,
      name,
      subresource: exec ? "exec" : undefined,
    });
    if (!path.ok) return path.result;
    const q = new URLSearchParams();
    if (a.verb === "watch") q.set("watch", "true");
    if (exec) {
      for (const arg of a.command ?? ["sh"]) q.append("command", arg);
      q.set("stdout", "true");
    }
    const cluster = a.cluster ?? c.gw.upstreams.default().name;
    const classified = classifyRequest(
      exec ? "GET" : (METHOD[a.verb] ?? "GET"),
      `${path.value.replace(/^\/k8s\/[^/]+/, "")}${q.size ? `?${q}` : ""}`,
      cluster,
    );
    if (!classified.ok) return toolError(classified.status.message ?? "the request could not be classified");
    const engine = c.gw.decider as Partial<PolicyEngine>;
    // The engine's evaluate uses no rate budget; a built-in decider has none to use.
    const decision = engine.evaluate
      ? engine.evaluate(c.principal, classified.value).decision
      : await c.gw.decider.decide(c.principal, classified.value);
    const lines = [`Airlock policy: ${explain(decision)}`];
    const rbac = await clusterCall(c, a.cluster, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb: exec ? "create" : a.verb,
          group: type.value.group,
          resource: type.value.resource,
          ...(exec ? { subresource: "exec" } : {}),
          ...(type.value.namespaced ? { namespace: a.namespace ?? "default" } : {}),
          ...(a.name ? { name: a.name } : {}),
        },
      },
    });
    let rbacAllowed: boolean | undefined;
    if (rbac.ok) {
      const s = (rbac.value as { status?: { allowed?: boolean; reason?: string } })?.status;
      rbacAllowed = s?.allowed === true;
      lines.push(`Cluster RBAC: ${s?.allowed ? "yes" : "no"}${s?.reason ? ` (${s.reason})` : ""}`);
    } else lines.push(`Cluster RBAC not checked: ${rbac.error}`);
    return text(lines.join("\n"), {
      effect: decision.effect,
      policy: decision.policy,
      rule: decision.rule,
      ...(decision.effect === "review" ? { approverGroups: [...decision.review.approvers.groups] } : {}),
      ...(rbacAllowed !== undefined ? { rbacAllowed } : {}),
    });
  },
});

export const apiResourcesTool = defineTool({
  name: "k8s_api_resources",
  title: "List the API resource types",
  description:
    "The resource types the cluster serves (name, short names, API version, namespaced, kind, verbs).",
  input: {
    cluster: common.cluster,
    group: z.string().optional().describe('Only this API group ("" for core)'),
  },
  output: { rows: rowsField },
  annotations: READ_ONLY,
  async run(c, a) {
    const all = await discover(c, a.cluster);
    if (!all.ok) return all.result;
    const rows = all.value
      .filter((t) => !t.resource.includes("/") && (a.group === undefined || t.group === a.group))
      .map((t) => [
        t.resource,
        t.shortNames.join(","),
        t.group ? `${t.group}/${t.version}` : t.version,
        String(t.namespaced),
        t.kind,
        t.verbs.join(","),
      ]);
    const header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS"];
    const capped = capText(table(header, rows), "the group argument");
    const shown = capped.truncated ? rows.slice(0, capped.text.split("\n").length - 2) : rows;
    return text(untrusted("api resources", capped.text), { rows: rowObjects(header, shown) });
  },
});
