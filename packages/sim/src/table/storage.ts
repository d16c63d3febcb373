// Table printers for networking and storage kinds (Ingress, PersistentVolumeClaim, PersistentVolume,
// PriorityClass, PodDisruptionBudget, ResourceQuota), after kube's pkg/printers/internalversion: the same columns
// and cell formats kubectl 1.32 prints.
import { ageCol, col, nameCol, type Obj, type Printer, since } from "./format.ts";

const ACCESS_MODES: Record<string, string> = {
  ReadWriteOnce: "RWO",
  ReadOnlyMany: "ROX",
  ReadWriteMany: "RWX",
  ReadWriteOncePod: "RWOP",
};

function accessModes(modes: unknown): string {
  if (!Array.isArray(modes)) return "";
  const short = [...new Set(modes.map((m) => ACCESS_MODES[String(m)]).filter(Boolean))];
  return short.join(",");
}

function storageClassOf(obj: Obj): string {
  return (
    obj.spec?.storageClassName ?? obj.metadata?.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? ""
  );
}

const unset = (v: unknown): string => (typeof v === "string" && v !== "" ? v : "<unset>");

/** Up to three hosts, then "+ N more...", as kube's formatHosts prints them; "*" when no rule names a host. */
function ingressHosts(rules: Obj[]): string {
  const hosts = rules.map((r) => r.host).filter((h): h is string => typeof h === "string" && h !== "");
  if (hosts.length === 0) return "*";
  if (hosts.length <= 3) return hosts.join(",");
  return `${hosts.slice(0, 3).join(",")} + ${hosts.length - 3} more...`;
}

export const ingressPrinter: Printer = {
  columns: [
    nameCol(),
    col("Class", "The name of the IngressClass resource that should be used for ingress."),
    col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
    col("Address", "Address is a list containing ingress points for the load-balancer"),
    col("Ports", "Ports of TLS configurations that open"),
    ageCol(),
  ],
  print(ing, now) {
    const spec = (ing.spec ?? {}) as Obj;
    const address = ((ing.status?.loadBalancer?.ingress ?? []) as Obj[])
      .map((i) => i.ip || i.hostname)
      .filter(Boolean)
      .join(",");
    return {
      cells: [
        ing.metadata?.name ?? "",
        spec.ingressClassName ?? "<none>",
        ingressHosts((spec.rules ?? []) as Obj[]),
        address,
        (spec.tls ?? []).length > 0 ? "80, 443" : "80",
        since(ing.metadata?.creationTimestamp, now),
      ],
    };
  },
};

export const pvcPrinter: Printer = {
  columns: [
    nameCol(),
    col("Status", "status.phase is the current phase of PersistentVolumeClaim."),
    col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    col("Capacity", "capacity represents the actual resources of the underlying volume."),
    col("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has."),
    col("StorageClass", "storageClassName is the name of the StorageClass required by the claim."),
    col(
      "VolumeAttributesClass",
      "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
    ),
    ageCol(),
    col("VolumeMode", "volumeMode defines what type of volume is required by the claim.", { wide: true }),
  ],
  print(pvc, now) {
    const bound = Boolean(pvc.spec?.volumeName);
    const phase = pvc.metadata?.deletionTimestamp ? "Terminating" : (pvc.status?.phase ?? "");
    return {
      cells: [
        pvc.metadata?.name ?? "",
        phase,
        pvc.spec?.volumeName ?? "",
        bound ? (pvc.status?.capacity?.storage ?? "") : "",
        bound ? accessModes(pvc.status?.accessModes) : "",
        storageClassOf(pvc),
        unset(pvc.spec?.volumeAttributesClassName),
        since(pvc.metadata?.creationTimestamp, now),
        pvc.spec?.volumeMode ?? "<unset>",
      ],
    };
  },
};

export const pvPrinter: Printer = {
  columns: [
    nameCol(),
    col("Capacity", "capacity is the description of the persistent volume's resources and capacity."),
    col("Access Modes", "accessModes contains all ways the volume can be mounted."),
    col(
      "Reclaim Policy",
      "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    col(
      "Claim",
      "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col(
      "StorageClass",
      "storageClassName is the name of StorageClass to which this persistent volume belongs.",
    ),
    col("VolumeAttributesClass", "Name of VolumeAttributesClass to which this persistent volume belongs."),
    col("Reason", "reason is a brief CamelCase string that describes any failure."),
    ageCol(),
    col("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem.", {
      wide: true,
    }),
  ],
  print(pv, now) {
    const spec = (pv.spec ?? {}) as Obj;
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ""}/${spec.claimRef.name ?? ""}` : "";
    return {
      cells: [
        pv.metadata?.name ?? "",
        spec.capacity?.storage ?? "",
        accessModes(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? "",
        pv.metadata?.deletionTimestamp ? "Terminating" : (pv.status?.phase ?? ""),
        claim,
        storageClassOf(pv),
        unset(spec.volumeAttributesClassName),
        pv.status?.reason ?? "",
        since(pv.metadata?.creationTimestamp, now),
        spec.volumeMode ?? "<unset>",
      ],
    };
  },
};
