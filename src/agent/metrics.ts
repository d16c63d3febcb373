// Prometheus metrics of agents and tunnels, on the gateway's registry. Labels: cluster and result only (agent ids
// come and go; they are in the logs, audit notes and `airlock cluster list`).
import { Counter, Gauge, type Registry } from "prom-client";
import type { TunnelHub } from "../upstream/tunnel-hub.ts";

export interface AgentMetrics {
  joins: Counter<"result">;
  renewals: Counter<"result">;
  connects: Counter<"result">;
  disconnects: Counter;
  revocations: Counter;
}

export function createAgentMetrics(registry: Registry, hub: TunnelHub): AgentMetrics {
  new Gauge({
    name: "airlock_agent_tunnels",
    help: "Agent tunnels connected now, by cluster.",
    labelNames: ["cluster"],
    registers: [registry],
    collect() {
      this.reset();
      for (const link of hub.links()) if (link.usable) this.inc({ cluster: link.cluster });
    },
  });
  new Gauge({
    name: "airlock_agent_streams_in_flight",
    help: "Requests and streams open on agent tunnels now, by cluster.",
    labelNames: ["cluster"],
    registers: [registry],
    collect() {
      this.reset();
      for (const link of hub.links()) this.inc({ cluster: link.cluster }, link.inFlight);
    },
  });
  return {
    joins: new Counter({
      name: "airlock_agent_joins_total",
      help: "Join token exchanges, by result (ok, unknown, used, expired, other-cluster, refused).",
      labelNames: ["result"],
      registers: [registry],
    }),
    renewals: new Counter({
      name: "airlock_agent_renewals_total",
      help: "Agent certificate renewals, by result.",
      labelNames: ["result"],
      registers: [registry],
    }),
    connects: new Counter({
      name: "airlock_agent_connects_total",
      help: "Agent tunnel connections, by result (ok, refused).",
      labelNames: ["result"],
      registers: [registry],
    }),
    disconnects: new Counter({
      name: "airlock_agent_disconnects_total",
      help: "Agent tunnels that ended (agent gone, revoked, certificate expired, shutdown).",
      registers: [registry],
    }),
    revocations: new Counter({
      name: "airlock_agent_revocations_total",
      help: "Agents revoked.",
      registers: [registry],
    }),
  };
}
