// Services: a ClusterIP (and node ports) allocated on create, as kube-apiserver's allocators do, and an Endpoints
// object per selector-based Service listing its pods — ready ones under `addresses`, the rest under
// `notReadyAddresses` — kept up to date as pods come and go. A Service without a selector has user-managed
// Endpoints, which are never touched.
import type { KubeObject } from "../contracts.ts";
import { type ControllerContext, namespaceTerminating } from "./context.ts";
import type { IpPool } from "./ipam.ts";
import { deepEqual, mapSelectorMatches } from "./objects.ts";
import { isPodReady } from "./podspec.ts";

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  clusterIP?: string;
  ports?: ServicePort[];
}

type Container = { ports?: { name?: string; containerPort: number; protocol?: string }[] };

/** The pod port a service port sends to: a number as is, a name looked up among the pod's container ports. */
export function resolveTargetPort(sp: ServicePort, pod: KubeObject): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of (pod.spec as { containers?: Container[] })?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? "TCP") === (sp.protocol ?? "TCP")) return p.containerPort;
  }
  return undefined;
}

/** The Endpoints subsets for a service over the given pods: pods grouped by their resolved port set, sorted by IP. */
export function endpointSubsets(service: KubeObject, pods: KubeObject[]): Record<string, unknown>[] {
  const spec = (service.spec ?? {}) as ServiceSpec;
  const groups = new Map<string, { ports: unknown[]; ready: unknown[]; notReady: unknown[] }>();
  for (const pod of pods) {
    const podIP = (pod.status as { podIP?: string } | undefined)?.podIP;
    if (!podIP || pod.metadata.deletionTimestamp || !mapSelectorMatches(spec.selector, pod.metadata.labels))
      continue;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const ports = (spec.ports ?? []).flatMap((sp) => {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) return [];
      return [
        {
          ...(sp.name ? { name: sp.name } : {}),
          port,
          protocol: sp.protocol ?? "TCP",
          ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
        },
      ];
    });
    const key = JSON.stringify(ports);
    const g = groups.get(key) ?? { ports, ready: [], notReady: [] };
    groups.set(key, g);
    const address = {
      ip: podIP,
      nodeName: (pod.spec as { nodeName?: string }).nodeName,
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    };
    (isPodReady(pod) ? g.ready : g.notReady).push(address);
  }
  const byIp = (a: unknown, b: unknown) => ipKey(a) - ipKey(b);
  return [...groups.values()].map((g) => {
    const subset: Record<string, unknown> = {};
    if (g.ready.length) subset.addresses = g.ready.sort(byIp);
    if (g.notReady.length) subset.notReadyAddresses = g.notReady.sort(byIp);
    if (g.ports.length) subset.ports = g.ports;
    return subset;
  });
}

function ipKey(address: unknown): number {
  const ip = (address as { ip: string }).ip;
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** Fills in clusterIP and node ports on a service that has none; returns the service as it now stands. */
export function allocateServiceAddresses(
  ctx: ControllerContext,
  serviceIps: IpPool,
  nodePorts: { allocate(): number },
  service: KubeObject,
): KubeObject {
  const svcType = ctx.type("", "v1", "services");
  if (!svcType) return service;
  const spec = { ...(service.spec as ServiceSpec) } as ServiceSpec & Record<string, unknown>;
  if (spec.type === "ExternalName") return service;
  spec.type = spec.type ?? "ClusterIP";
  if (!spec.clusterIP) spec.clusterIP = serviceIps.allocate();
  spec.clusterIPs = spec.clusterIPs ?? [spec.clusterIP];
  spec.ipFamilies = spec.ipFamilies ?? ["IPv4"];
  spec.ipFamilyPolicy = spec.ipFamilyPolicy ?? "SingleStack";
  spec.sessionAffinity = spec.sessionAffinity ?? "None";
  spec.internalTrafficPolicy = spec.internalTrafficPolicy ?? "Cluster";
  spec.ports = (spec.ports ?? []).map((p) => {
    const port: ServicePort = { ...p, protocol: p.protocol ?? "TCP", targetPort: p.targetPort ?? p.port };
    if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && !p.nodePort)
      port.nodePort = nodePorts.allocate();
    return port;
  });
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
  const next: KubeObject = { ...service, spec, status: service.status ?? { loadBalancer: {} } };
  return deepEqual(next, service) ? service : ctx.store.update(svcType, next);
}

export function reconcileEndpoints(ctx: ControllerContext, service: KubeObject): void {
  const epType = ctx.type("", "v1", "endpoints");
  const podType = ctx.type("", "v1", "pods");
  const spec = (service.spec ?? {}) as ServiceSpec;
  if (!epType || !podType || !spec.selector || Object.keys(spec.selector).length === 0) return;
  if (service.metadata.deletionTimestamp) return;
  const namespace = service.metadata.namespace ?? "";
  const name = service.metadata.name ?? "";
  const subsets = endpointSubsets(service, ctx.store.list(podType, namespace).items);
  const existing = ctx.store.get(epType, namespace, name);
  const labels = { ...service.metadata.labels, "endpoints.kubernetes.io/managed-by": "endpoint-controller" };
  if (!existing) {
    if (namespaceTerminating(ctx, namespace)) return;
    const ep: KubeObject = { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace, labels } };
    if (subsets.length) ep.subsets = subsets;
    ctx.store.create(epType, ep);
    return;
  }
  const next: KubeObject = { ...existing, metadata: { ...existing.metadata, labels } };
  if (subsets.length) next.subsets = subsets;
  else delete next.subsets;
  if (!deepEqual(next, existing)) ctx.store.update(epType, next);
}
