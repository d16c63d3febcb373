// Table printers for core kinds (services, secrets, configmaps, namespaces, events, service accounts and
// endpoints), after kube's pkg/printers/internalversion.
import {
  ageCol,
  type Cell,
  col,
  formatLabels,
  int,
  nameCol,
  type Obj,
  type Printer,
  since,
} from "./format.ts";

function serviceExternalIP(svc: Obj): string {
  const spec = (svc.spec ?? {}) as Obj;
  const external = (spec.externalIPs ?? []) as string[];
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return external.length ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = ((svc.status?.loadBalancer?.ingress ?? []) as Obj[])
        .map((i) => i.ip || i.hostname)
        .filter(Boolean) as string[];
      const all = [...lb, ...external];
      return all.length ? all.join(",") : "<pending>";
    }
    case "ExternalName":
      return spec.externalName ?? "";
    default:
      return "<unknown>";
  }
}

function servicePorts(ports: Obj[]): string {
  return ports
    .map((p) => {
      const proto = p.protocol ?? "TCP";
      return p.nodePort > 0 ? `${p.port}:${p.nodePort}/${proto}` : `${p.port}/${proto}`;
    })
    .join(",");
}

export const servicePrinter: Printer = {
  columns: [
    nameCol(),
    col("Type", "type determines how the Service is exposed."),
    col("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
    col(
      "External-IP",
      "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col("Port(s)", "The list of ports that are exposed by this service."),
    ageCol(),
    col("Selector", "Route service traffic to pods with label keys and values matching this selector.", {
      wide: true,
    }),
  ],
  print(svc, now) {
    const spec = (svc.spec ?? {}) as Obj;
    return {
      cells: [
        svc.metadata?.name ?? "",
        spec.type ?? "ClusterIP",
        spec.clusterIPs?.[0] || spec.clusterIP || "<none>",
        serviceExternalIP(svc),
        servicePorts((spec.ports ?? []) as Obj[]) || "<none>",
        since(svc.metadata?.creationTimestamp, now),
        formatLabels(spec.selector),
      ],
    };
  },
};

export const secretPrinter: Printer = {
  columns: [
    nameCol(),
    col("Type", "Used to facilitate programmatic handling of secret data."),
    col("Data", "The number of entries in the secret."),
    ageCol(),
  ],
  print(s, now) {
    const n = Object.keys(s.data ?? {}).length;
    return {
      cells: [s.metadata?.name ?? "", s.type ?? "Opaque", n, since(s.metadata?.creationTimestamp, now)],
    };
  },
};

export const configMapPrinter: Printer = {
  columns: [nameCol(), col("Data", "The number of entries in the config map."), ageCol()],
  print(cm, now) {
    const n = Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length;
    return { cells: [cm.metadata?.name ?? "", n, since(cm.metadata?.creationTimestamp, now)] };
  },
};

export const namespacePrinter: Printer = {
  columns: [nameCol(), col("Status", "The status of the namespace"), ageCol()],
  print(ns, now) {
    return {
      cells: [ns.metadata?.name ?? "", ns.status?.phase ?? "", since(ns.metadata?.creationTimestamp, now)],
    };
  },
};

export const eventPrinter: Printer = {
  columns: [
    col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    col(
      "Reason",
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "The object that this event is about."),
    col(
      "Subobject",
      "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
      {
        wide: true,
      },
    ),
    col("Source", "The component reporting this event. Should be a short machine understandable string.", {
      wide: true,
    }),
    col("Message", "A human-readable description of the status of this operation."),
    col(
      "First Seen",
      "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
      { wide: true },
    ),
    col("Count", "The number of times this event has occurred.", { wide: true }),
    { ...nameCol(), priority: 1 },
  ],
  print(e, now) {
    let first = since(e.firstTimestamp, now);
    if (!e.firstTimestamp) first = since(e.eventTime, now);
    let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
    let count = int(e.count);
    if (e.series) {
      last = since(e.series.lastObservedTime, now);
      count = int(e.series.count);
    } else if (count === 0) count = 1;
    const io = (e.involvedObject ?? {}) as Obj;
    const kind = String(io.kind ?? "").toLowerCase();
    const target = io.name ? `${kind}/${io.name}` : kind;
    const component = e.source?.component || e.reportingComponent || "";
    const instance = e.source?.host || e.reportingInstance || "";
    const cells: Cell[] = [
      last,
      e.type ?? "",
      e.reason ?? "",
      target,
      io.fieldPath ?? "",
      instance ? `${component}, ${instance}` : component,
      String(e.message ?? "").trim(),
      first,
      count,
      e.metadata?.name ?? "",
    ];
    return { cells };
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [
    nameCol(),
    col(
      "Secrets",
      "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    ageCol(),
  ],
  print(sa, now) {
    return {
      cells: [
        sa.metadata?.name ?? "",
        ((sa.secrets ?? []) as unknown[]).length,
        since(sa.metadata?.creationTimestamp, now),
      ],
    };
  },
};

/** formatEndpoints: up to three host:port pairs, then "+ N more...". */
function formatEndpoints(ep: Obj): string {
  const subsets = (ep.subsets ?? []) as Obj[];
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = (ss.addresses ?? []) as Obj[];
    const ports = (ss.ports ?? []) as Obj[];
    const targets = ports.length
      ? ports.map((p) => (ip: string) => (ip.includes(":") ? `[${ip}]:${p.port}` : `${ip}:${p.port}`))
      : [(ip: string) => ip];
    for (const fmt of targets) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(fmt(String(a.ip ?? "")));
      }
    }
  }
  return more ? `${list.join(",")} + ${count - max} more...` : list.join(",");
}

export const endpointsPrinter: Printer = {
  columns: [nameCol(), col("Endpoints", "Endpoints is the list of endpoints in this service."), ageCol()],
  print(ep, now) {
    return {
      cells: [ep.metadata?.name ?? "", formatEndpoints(ep), since(ep.metadata?.creationTimestamp, now)],
    };
  },
};
