// The admin API's agent routes (docs/agent.md): the clusters and their connected agents, join tokens, revocation.
//
// Security stance: listing is "read"; creating a join token and revoking an agent are "write" (the admin or
// airlock:admins). A join token is noted in the audit chain before it is shown (by cluster and expiry, never the
// token or its hash) and shown once. A revocation is stored first (every certificate of the agent is refused from then
// on, by every replica), then the agent's tunnels on this gateway are closed at once (their streams end with them),
// then noted.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AgentState } from "../agent/state.ts";
import type { AuditNote } from "../audit/types.ts";
import type { Principal } from "../identity/types.ts";
import { badRequest, notFound } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { TunnelAgentInfo, TunnelHub } from "../upstream/tunnel-hub.ts";
import type { Upstream } from "../upstream/types.ts";
import { readJsonBody, sendJson } from "./http.ts";

export type AgentRouteId = "listClusters" | "createJoinToken" | "revokeAgent";

export const AGENT_ROUTES = [
  { id: "listClusters", method: "GET", path: "/airlock/v1/clusters", access: "read" },
  { id: "createJoinToken", method: "POST", path: "/airlock/v1/clusters/{name}/join-tokens", access: "write" },
  { id: "revokeAgent", method: "POST", path: "/airlock/v1/agents/{id}/revoke", access: "write" },
] as const;

export const AGENT_ROUTE_IDS: readonly AgentRouteId[] = AGENT_ROUTES.map((r) => r.id);

/** What the routes need of the gateway's agent side (src/server/agents.ts). */
export interface AgentAdminOptions {
  hub: TunnelHub;
  state: AgentState;
  tunnelClusters: ReadonlySet<string>;
  metrics: { revocations: { inc(): void } };
  /** Tells the other replicas, which close the agent's tunnels they hold. */
  announceRevocation?: (agentId: string, why: string) => Promise<void>;
}

export interface ClusterListing {
  name: string;
  kind: "tunnel" | "direct";
  /** Direct clusters: the address the gateway dials. */
  server?: string;
  agents: TunnelAgentInfo[];
}

/** Join tokens live at most a day: they are for starting an agent, not for keeping around. */
const MAX_TTL_SECONDS = 86_400;

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  principal: Principal | undefined;
}

export function agentHandlers(deps: {
  agents: AgentAdminOptions | undefined;
  upstreams: { all?(): Upstream[] } | undefined;
  note: (note: AuditNote) => Promise<unknown>;
  log: { error(obj: object, msg: string): void };
}): Record<AgentRouteId, (call: Call) => Promise<void>> {
  const { agents } = deps;
  const needAgents = (): AgentAdminOptions => {
    if (!agents)
      throw new StatusError(
        notFound("airlock: this gateway has no tunnel clusters (no agents section in its configuration)"),
      );
    return agents;
  };
  return {
    async listClusters({ res }) {
      const clusters: ClusterListing[] = (deps.upstreams?.all?.() ?? []).map((u) => {
        const tunnel = agents?.tunnelClusters.has(u.name) ?? false;
        return {
          name: u.name,
          kind: tunnel ? "tunnel" : "direct",
          ...(tunnel ? {} : { server: u.url.origin + u.url.pathname.replace(/\/$/, "") }),
          agents: tunnel ? (agents?.hub.links(u.name).map((l) => l.info()) ?? []) : [],
        };
      });
      sendJson(res, 200, { items: clusters });
    },
    async createJoinToken({ req, res, params, principal }) {
      const a = needAgents();
      const cluster = params.name ?? "";
      if (!a.tunnelClusters.has(cluster))
        throw new StatusError(
          notFound(
            `airlock: cluster "${cluster}" is not a tunnel cluster (clusters[].tunnel in the configuration)`,
            {
              name: cluster,
              kind: "clusters",
            },
          ),
        );
      const body = (await readJsonBody(req)) as { ttlSeconds?: unknown };
      const ttl = body?.ttlSeconds ?? 3600;
      if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TTL_SECONDS)
        throw new StatusError(badRequest(`ttlSeconds must be a whole number from 60 to ${MAX_TTL_SECONDS}`));
      const actor = principal?.name ?? "unknown";
      const created = await a.state.createJoinToken(cluster, ttl * 1000, actor);
      // Noted before it is shown: a token the chain does not know of is never handed out.
      await deps.note({
        type: "agent.join-token.created",
        actor,
        subject: cluster,
        detail: { expiresAt: created.expiresAt },
      });
      sendJson(res, 201, { cluster, token: created.token, expiresAt: created.expiresAt });
    },
    async revokeAgent({ res, params, principal }) {
      const a = needAgents();
      const id = params.id ?? "";
      const actor = principal?.name ?? "unknown";
      const record = await a.state.revoke(id, actor);
      if (!record) throw new StatusError(notFound(`agent "${id}" not found`, { name: id, kind: "agents" }));
      const why = `agent ${id} was revoked by ${actor}`;
      const closedTunnels = a.hub.closeAgent(id, why);
      // The other replicas close theirs; a failure to tell them is logged (the stored revocation refuses the agent on
      // its next connect or renewal everywhere regardless).
      await a
        .announceRevocation?.(id, why)
        .catch((err: Error) =>
          deps.log.error({ agent: id, err: err.message }, "revocation not announced to the other replicas"),
        );
      a.metrics.revocations.inc();
      try {
        await deps.note({
          type: "agent.revoked",
          actor,
          subject: record.cluster,
          detail: { agent: id, closedTunnels },
        });
      } catch (err) {
        deps.log.error(
          { note: "agent.revoked", subject: id, err: (err as Error).message },
          "audit note failed",
        );
      }
      sendJson(res, 200, {
        agent: id,
        cluster: record.cluster,
        revokedAt: new Date(record.revokedMs ?? 0).toISOString(),
        closedTunnels,
      });
    },
  };
}

export function describeAgentRoute(id: AgentRouteId, name: string | undefined): string {
  if (id === "listClusters") return "listing clusters";
  if (id === "createJoinToken") return `creating a join token for cluster "${name}"`;
  return `revoking agent "${name}"`;
}

export function agentOpenApiPaths(): Record<string, Record<string, unknown>> {
  const status = { $ref: "#/components/schemas/Status" };
  const err = (d: string) => ({ description: d, content: { "application/json": { schema: status } } });
  const json = (d: string) => ({
    description: d,
    content: { "application/json": { schema: { type: "object" } } },
  });
  return {
    "/airlock/v1/clusters": {
      get: {
        operationId: "listClusters",
        summary:
          "The clusters; for tunnel clusters, their connected agents (id, version, since, address, in-flight)",
        responses: { "200": json("{items: [{name, kind, server?, agents}]}"), "401": err("No valid token") },
      },
    },
    "/airlock/v1/clusters/{name}/join-tokens": {
      post: {
        operationId: "createJoinToken",
        summary: "A one-time join token for an agent of a tunnel cluster (shown once; stored hashed)",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        requestBody: {
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { ttlSeconds: { type: "integer", minimum: 60, maximum: 86400 } },
              },
            },
          },
        },
        responses: {
          "201": json("{cluster, token, expiresAt}"),
          "400": err("Bad ttlSeconds"),
          "401": err("No valid token"),
          "403": err("Not an admin"),
          "404": err("Not a tunnel cluster"),
        },
      },
    },
    "/airlock/v1/agents/{id}/revoke": {
      post: {
        operationId: "revokeAgent",
        summary: "Revokes an agent: its tunnels close at once and its certificates are refused from then on",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": json("{agent, cluster, revokedAt, closedTunnels}"),
          "401": err("No valid token"),
          "403": err("Not an admin"),
          "404": err("No such agent"),
        },
      },
    },
  };
}
