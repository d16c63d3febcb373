// Cell formatting shared by the Table printers, transcribed from kube's printers (pkg/printers/internalversion)
// and apimachinery's duration.HumanDuration, so that `kubectl get` prints the simulator's rows exactly as it prints
// a real cluster's.

/** A Table column definition (metav1.TableColumnDefinition): every field is always serialised. */
export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type Cell = string | number | boolean | null;

export interface Printed {
  cells: Cell[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export interface Printer {
  columns: Column[];
  print(obj: Obj, now: Date): Printed;
}

/** A loosely typed view of a stored object: printers read optional fields defensively. */
// biome-ignore lint/suspicious/noExplicitAny: objects are arbitrary JSON; every read below tolerates absence.
export type Obj = Record<string, any>;

export const NAME_DESCRIPTION =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
export const AGE_DESCRIPTION =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/** Builds a column; `wide` ones (priority 1) show only with `-o wide`. */
export function col(
  name: string,
  description: string,
  opts: { type?: string; format?: string; wide?: boolean } = {},
): Column {
  return {
    name,
    type: opts.type ?? "string",
    format: opts.format ?? "",
    description,
    priority: opts.wide ? 1 : 0,
  };
}
export const nameCol = (): Column => col("Name", NAME_DESCRIPTION, { format: "name" });
export const ageCol = (): Column => col("Age", AGE_DESCRIPTION);

/** apimachinery duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** translateTimestampSince: "<unknown>" for an unset time, else the humane age. */
export function since(ts: unknown, now: Date): string {
  if (typeof ts !== "string" || ts === "") return "<unknown>";
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now.getTime() - t);
}

/** labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty. */
export function formatLabels(m: unknown): string {
  const entries = Object.entries((m ?? {}) as Record<string, string>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
}

/** labels.Selector.String() of a metav1.LabelSelector: requirements sorted by key, "" when it selects everything. */
export function selectorString(sel: unknown): string {
  if (!sel || typeof sel !== "object") return "";
  const s = sel as Obj;
  const reqs: [string, string][] = [];
  for (const [k, v] of Object.entries((s.matchLabels ?? {}) as Record<string, string>))
    reqs.push([k, `${k}=${v}`]);
  for (const e of (s.matchExpressions ?? []) as Obj[]) {
    const values = [...((e.values ?? []) as string[])].sort().join(",");
    const text =
      e.operator === "In"
        ? `${e.key} in (${values})`
        : e.operator === "NotIn"
          ? `${e.key} notin (${values})`
          : e.operator === "Exists"
            ? `${e.key}`
            : e.operator === "DoesNotExist"
              ? `!${e.key}`
              : null;
    if (text === null) return "<error>";
    reqs.push([e.key as string, text]);
  }
  return reqs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, t]) => t)
    .join(",");
}

/** metav1.FormatLabelSelector: as selectorString but "<none>" for an empty selector. */
export function formatLabelSelector(sel: unknown): string {
  return selectorString(sel) || "<none>";
}

/** layoutContainerCells: container names and images, comma-joined. */
export function containerCells(podSpec: unknown): [string, string] {
  const cs = (((podSpec ?? {}) as Obj).containers ?? []) as Obj[];
  return [cs.map((c) => c.name ?? "").join(","), cs.map((c) => c.image ?? "").join(",")];
}

export const int = (v: unknown): number => (typeof v === "number" ? Math.trunc(v) : 0);
