// Table printers for cluster-level kinds: nodes (STATUS from the Ready condition, ROLES from node-role labels)
// and RBAC roles and bindings, after kube's pkg/printers/internalversion.
import { ageCol, col, nameCol, type Obj, type Printer, since } from "./format.ts";

function nodeRoles(labels: Record<string, string>): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const r = k.slice("node-role.kubernetes.io/".length);
      if (r) roles.add(r);
    } else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return [...roles].sort().join(",") || "<none>";
}

function nodeAddress(node: Obj, type: string): string {
  return ((node.status?.addresses ?? []) as Obj[]).find((a) => a.type === type)?.address ?? "<none>";
}

export const nodePrinter: Printer = {
  columns: [
    nameCol(),
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    ageCol(),
    col("Version", "Kubelet Version reported by the node."),
    col("Internal-IP", "List of addresses reachable to the node.", { wide: true }),
    col("External-IP", "List of addresses reachable to the node.", { wide: true }),
    col(
      "OS-Image",
      "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      { wide: true },
    ),
    col(
      "Kernel-Version",
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      { wide: true },
    ),
    col(
      "Container-Runtime",
      "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      {
        wide: true,
      },
    ),
  ],
  print(node, now) {
    const ready = ((node.status?.conditions ?? []) as Obj[]).find((c) => c.type === "Ready");
    const status = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
    if (node.spec?.unschedulable) status.push("SchedulingDisabled");
    const info = (node.status?.nodeInfo ?? {}) as Obj;
    return {
      cells: [
        node.metadata?.name ?? "",
        status.join(","),
        nodeRoles(node.metadata?.labels ?? {}),
        since(node.metadata?.creationTimestamp, now),
        info.kubeletVersion ?? "",
        nodeAddress(node, "InternalIP"),
        nodeAddress(node, "ExternalIP"),
        info.osImage || "<unknown>",
        info.kernelVersion || "<unknown>",
        info.containerRuntimeVersion || "<unknown>",
      ],
    };
  },
};

export const rolePrinter: Printer = {
  columns: [
    nameCol(),
    col(
      "Created At",
      "CreationTimestamp is a timestamp representing the server time when this object was created.",
      { type: "date" },
    ),
  ],
  print(r) {
    const ts = r.metadata?.creationTimestamp;
    const created =
      typeof ts === "string" && !Number.isNaN(Date.parse(ts))
        ? new Date(ts).toISOString().replace(/\.\d{3}Z$/, "Z")
        : "<unknown>";
    return { cells: [r.metadata?.name ?? "", created] };
  },
};

function subjects(b: Obj, kind: string): string {
  return ((b.subjects ?? []) as Obj[])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name))
    .join(", ");
}

export const roleBindingPrinter: Printer = {
  columns: [
    nameCol(),
    col(
      "Role",
      "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    ageCol(),
    col("Users", "Users in the roleBinding", { wide: true }),
    col("Groups", "Groups in the roleBinding", { wide: true }),
    col("ServiceAccounts", "ServiceAccounts in the roleBinding", { wide: true }),
  ],
  print(b, now) {
    return {
      cells: [
        b.metadata?.name ?? "",
        `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
        since(b.metadata?.creationTimestamp, now),
        subjects(b, "User"),
        subjects(b, "Group"),
        subjects(b, "ServiceAccount"),
      ],
    };
  },
};
