// The admin API's cluster routes: `POST /airlock/v1/clusters/{name}/test` asks the cluster who the gateway is there
// (SelfSubjectReview) and what it may do (SelfSubjectRulesReview in one namespace), as `airlock connection test` shows.
//
// Security stance: admin or humans only ("read"); the probes run as the gateway's own upstream identity, never
// impersonating, and the answer carries names and rules only: no token, key or header of the connection.
import https from "node:https";
import { badRequest, notFound } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { Upstream } from "../upstream/types.ts";
import { sendJson } from "./http.ts";

export type ClusterRouteId = "testCluster";

export const CLUSTER_ROUTES = [
  { id: "testCluster", method: "POST", path: "/airlock/v1/clusters/{name}/test", access: "read" },
] as const;

export interface ConnectionReport {
  cluster: string;
  server: string;
  ok: boolean;
  /** Who the cluster says the gateway is. */
  user?: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  namespace: string;
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  /** The cluster's authorizer could not list everything (e.g. webhooks): absence of a rule proves nothing. */
  incomplete: boolean;
  error?: string;
  durationMs: number;
}

async function post(
  upstream: Upstream,
  path: string,
  body: object,
): Promise<{ status: number; json: unknown }> {
  const text = JSON.stringify(body);
  const options = await upstream.requestOptions("POST", path, [
    ["content-type", "application/json"],
    ["accept", "application/json"],
    ["content-length", String(Buffer.byteLength(text))],
  ]);
  return new Promise((resolve, reject) => {
    const req = https.request({ ...options, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on("timeout", () => req.destroy(new Error("the cluster did not answer within 15 s")));
    req.on("error", reject);
    req.end(text);
  });
}

const messageOf = (json: unknown) => String((json as { message?: unknown })?.message ?? "no message");

/** Probes one connection; failures become `ok: false` with the cluster's message, never a throw. */
export async function testConnection(upstream: Upstream, namespace: string): Promise<ConnectionReport> {
  const started = Date.now();
  const report: ConnectionReport = {
    cluster: upstream.name,
    server: upstream.url.origin + upstream.url.pathname.replace(/\/$/, ""),
    ok: false,
    namespace,
    resourceRules: [],
    nonResourceRules: [],
    incomplete: false,
    durationMs: 0,
  };
  try {
    const who = await post(upstream, "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    if (who.status !== 201 && who.status !== 200)
      throw new Error(`SelfSubjectReview: HTTP ${who.status}: ${messageOf(who.json)}`);
    const userInfo = (who.json as { status?: { userInfo?: ConnectionReport["user"] } }).status?.userInfo;
    if (userInfo) report.user = { ...userInfo, groups: userInfo.groups ?? [] };
    const rules = await post(upstream, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectRulesReview",
      spec: { namespace },
    });
    if (rules.status !== 201 && rules.status !== 200)
      throw new Error(`SelfSubjectRulesReview: HTTP ${rules.status}: ${messageOf(rules.json)}`);
    const status =
      (rules.json as { status?: Partial<ConnectionReport> & { evaluationError?: string } }).status ?? {};
    report.resourceRules = status.resourceRules ?? [];
    report.nonResourceRules = status.nonResourceRules ?? [];
    report.incomplete = status.incomplete === true;
    report.ok = true;
  } catch (err) {
    report.error = (err as Error).message;
  }
  report.durationMs = Date.now() - started;
  return report;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function clusterHandlers(
  upstreams: { get(name: string): Upstream | undefined } | undefined,
): Record<
  ClusterRouteId,
  (call: {
    url: URL;
    params: Record<string, string>;
    res: import("node:http").ServerResponse;
  }) => Promise<void>
> {
  return {
    async testCluster({ url, params, res }) {
      const name = params.name ?? "";
      const upstream = upstreams?.get(name);
      if (!upstream)
        throw new StatusError(notFound(`cluster "${name}" is not configured`, { name, kind: "clusters" }));
      const namespace = url.searchParams.get("namespace") ?? "default";
      if (!NAMESPACE.test(namespace))
        throw new StatusError(badRequest(`"${namespace}" is not a namespace name`));
      sendJson(res, 200, await testConnection(upstream, namespace));
    },
  };
}

export function describeClusterRoute(_id: ClusterRouteId, name: string | undefined): string {
  return `testing the connection to cluster "${name}"`;
}

export function clusterOpenApiPaths(): Record<string, Record<string, unknown>> {
  const status = { $ref: "#/components/schemas/Status" };
  const err = (d: string) => ({ description: d, content: { "application/json": { schema: status } } });
  return {
    "/airlock/v1/clusters/{name}/test": {
      post: {
        operationId: "testCluster",
        summary:
          "Who the gateway is on the cluster (SelfSubjectReview) and what it may do in a namespace (SelfSubjectRulesReview)",
        parameters: [
          { name: "name", in: "path", required: true, schema: { type: "string" } },
          { name: "namespace", in: "query", schema: { type: "string", default: "default" } },
        ],
        responses: {
          "200": {
            description: "The report; ok is false (with error) when the cluster could not be asked",
            content: { "application/json": { schema: { type: "object" } } },
          },
          "400": err("Not a namespace name"),
          "401": err("No valid token"),
          "403": err("Agents may not test connections"),
          "404": err("No such cluster"),
        },
      },
    },
  };
}
