// The tunnel side of the composition root: tunnel clusters (`tunnel: {}`) as cluster connections, and the agent port
// they are reached through (src/agent/gateway-listener.ts, docs/agent.md). Absent `agents` in the configuration,
// nothing here runs.

import type { Registry } from "prom-client";
import { loadAgentCa } from "../agent/ca.ts";
import { type AgentListener, startAgentListener } from "../agent/gateway-listener.ts";
import { type AgentMetrics, createAgentMetrics } from "../agent/metrics.ts";
import { AgentState, type SharedTable } from "../agent/state.ts";
import type { AuditNote } from "../audit/types.ts";
import type { GatewayConfig } from "../gateway/config.ts";
import type { Logger } from "../shared/log.ts";
import type { EventBus } from "../store/notify.ts";
import { TunnelUpstream } from "../upstream/tunnel.ts";
import { TunnelHub } from "../upstream/tunnel-hub.ts";

/** What the admin API needs of agents (src/admin/agents.ts). */
export interface AgentAdmin {
  hub: TunnelHub;
  state: AgentState;
  tunnelClusters: ReadonlySet<string>;
  metrics: AgentMetrics;
  announceRevocation: (agentId: string, why: string) => Promise<void>;
}

const REVOKED_TOPIC = "airlock_agent_revoked";

export interface Tunnels {
  upstreams: TunnelUpstream[];
  hub: TunnelHub;
  /** Starts the agent port (after the store and metrics exist). */
  listen(deps: {
    table: SharedTable;
    note: (note: AuditNote) => Promise<unknown>;
    registry: Registry;
    tls: { certPem: string; keyPem: string };
    now?: () => number;
    log: Logger;
    /** The replicas' event bus: a revocation closes the agent's tunnels on every replica, not only this one. */
    bus: EventBus;
  }): Promise<{ listener: AgentListener; admin: AgentAdmin } | undefined>;
  close(): Promise<void>;
}

export function createTunnels(config: GatewayConfig): Tunnels {
  const hub = new TunnelHub();
  const tunnelClusters = new Set(config.clusters.filter((c) => "tunnel" in c).map((c) => c.name));
  const upstreams = config.clusters
    .filter((c) => "tunnel" in c)
    .map((c) => new TunnelUpstream(c.name, hub, { impersonate: c.impersonate ?? true }));
  let listener: AgentListener | undefined;
  let stopBus = () => {};
  return {
    upstreams,
    hub,
    async listen(deps) {
      const agents = config.agents;
      if (!agents) return undefined;
      const now = deps.now ?? Date.now;
      const state = new AgentState(deps.table, now);
      const metrics = createAgentMetrics(deps.registry, hub);
      listener = await startAgentListener({
        address: agents.listen.address,
        port: agents.listen.port,
        tls: deps.tls,
        ca: await loadAgentCa(config.dataDir),
        state,
        hub,
        tunnelClusters,
        certificateSeconds: Math.round(agents.certificateHours * 3600),
        now,
        log: deps.log,
        metrics,
        note: deps.note,
      });
      // Revoked on another replica: its tunnels here close too. After a bus outage (messages may be lost), every
      // tunnel held here is checked against the stored records.
      const unsubscribe = deps.bus.subscribe(REVOKED_TOPIC, (message) => {
        try {
          const { agent, why } = JSON.parse(message) as { agent?: unknown; why?: unknown };
          if (typeof agent === "string") hub.closeAgent(agent, typeof why === "string" ? why : "revoked");
        } catch {
          // not one of ours
        }
      });
      const unresync = deps.bus.onResync(() => {
        for (const link of hub.links()) {
          void state.agent(link.id).then(
            (record) => {
              if (record?.revokedMs !== undefined) hub.closeAgent(link.id, `agent ${link.id} was revoked`);
            },
            () => {},
          );
        }
      });
      stopBus = () => {
        unsubscribe();
        unresync();
      };
      const announceRevocation = (agent: string, why: string) =>
        deps.bus.publish(REVOKED_TOPIC, JSON.stringify({ agent, why }), { local: false });
      return { listener, admin: { hub, state, tunnelClusters, metrics, announceRevocation } };
    },
    async close() {
      stopBus();
      for (const u of upstreams) u.close();
      await listener?.close();
    },
  };
}
