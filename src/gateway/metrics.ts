// Prometheus metrics for the gateway. Labels are low-cardinality on purpose (verb, code, decision, cluster): no
// identity names or object names, which would grow without bound and disclose who did what to anyone who can scrape.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<"verb" | "code" | "decision" | "cluster">;
  latency: Histogram<"verb" | "cluster">;
  openStreams: Gauge<"kind">;
  upstreamErrors: Counter<"cluster">;
  limitRefusals: Counter<"limit">;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "airlock_process_" });
  return {
    registry,
    requests: new Counter({
      name: "airlock_requests_total",
      help: "Requests handled, by verb, HTTP status code and decision.",
      labelNames: ["verb", "code", "decision", "cluster"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "airlock_request_duration_seconds",
      help: "Time from request arrival to response end (for streams: to stream end).",
      labelNames: ["verb", "cluster"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
      registers: [registry],
    }),
    openStreams: new Gauge({
      name: "airlock_open_streams",
      help: "Long-running streams open now (watch, log follow, exec, attach, portforward).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "airlock_upstream_errors_total",
      help: "Requests that failed because the upstream cluster could not be reached or broke off.",
      labelNames: ["cluster"],
      registers: [registry],
    }),
    limitRefusals: new Counter({
      name: "airlock_limit_refusals_total",
      help: "Requests refused by a resource limit (limits in the configuration), by limit.",
      labelNames: ["limit"],
      registers: [registry],
    }),
  };
}
