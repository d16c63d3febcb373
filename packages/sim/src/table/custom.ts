// Tables for kinds without a built-in printer: custom resources (their CRD's additionalPrinterColumns, else
// NAME and AGE, as the apiserver's CRD table convertor does) and any other kind (NAME, AGE).
//
// Column values come from a JSONPath subset: `.a.b`, `[0]`, `['key']`, `[*]` (first match) and
// `[?(@.f=="v")]`. An expression outside that subset yields an empty (null) cell, never an error: a printer
// column must not make a list fail.
import {
  AGE_DESCRIPTION,
  ageCol,
  type Cell,
  type Column,
  humanDuration,
  nameCol,
  type Printer,
  since,
} from "./format.ts";

/** One entry of a CRD version's `additionalPrinterColumns`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

type Step =
  | { field: string }
  | { index: number }
  | { all: true }
  | { filter: { field: string; value: string } };

function parsePath(path: string): Step[] | undefined {
  const steps: Step[] = [];
  const re =
    /\.([A-Za-z0-9_\-$]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]|\[\*\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]/y;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    const m = re.exec(path);
    if (!m) return undefined;
    at = re.lastIndex;
    if (m[1] !== undefined) steps.push({ field: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else if (m[3] !== undefined || m[4] !== undefined) steps.push({ field: (m[3] ?? m[4])! });
    else if (m[5] !== undefined) steps.push({ filter: { field: m[5], value: m[6] ?? "" } });
    else steps.push({ all: true });
  }
  return steps;
}

function dig(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const f of dotted.split("."))
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[f] : undefined;
  return cur;
}

/** Evaluates the JSONPath subset; undefined when nothing matches. */
export function evalJsonPath(obj: unknown, path: string): unknown {
  const steps = parsePath(
    path
      .trim()
      .replace(/^\{(.*)\}$/, "$1")
      .replace(/^\$/, ""),
  );
  if (!steps) return undefined;
  let cur: unknown = obj;
  for (const s of steps) {
    if (cur === undefined || cur === null) return undefined;
    if ("field" in s)
      cur =
        typeof cur === "object" && !Array.isArray(cur)
          ? (cur as Record<string, unknown>)[s.field]
          : undefined;
    else if ("index" in s) cur = Array.isArray(cur) ? cur[s.index] : undefined;
    else if ("all" in s) cur = Array.isArray(cur) ? cur[0] : undefined;
    else
      cur = Array.isArray(cur)
        ? cur.find((x) => String(dig(x, s.filter.field)) === s.filter.value)
        : undefined;
  }
  return cur;
}

/** cellForJSONValue from the apiserver's CRD table convertor. */
function cell(type: string, value: unknown, now: Date): Cell {
  if (value === undefined || value === null) return null;
  switch (type) {
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? "<invalid>" : humanDuration(now.getTime() - t);
    }
    default:
      // "string" columns print any value as text, as the JSONPath printer does.
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

export function customPrinter(columns: PrinterColumn[]): Printer {
  const defs: Column[] = [
    nameCol(),
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    })),
  ];
  return {
    columns: defs,
    print(obj, now) {
      return {
        cells: [
          obj.metadata?.name ?? "",
          ...columns.map((c) => cell(c.type, evalJsonPath(obj, c.jsonPath), now)),
        ],
      };
    },
  };
}

/** A CRD without printer columns shows an Age column of type date. */
export const crdDefaultColumns: PrinterColumn[] = [
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: AGE_DESCRIPTION },
];

/** NAME and AGE for any other kind. */
export const genericPrinter: Printer = {
  columns: [nameCol(), ageCol()],
  print(obj, now) {
    return { cells: [obj.metadata?.name ?? "", since(obj.metadata?.creationTimestamp, now)] };
  },
};

/** The printer columns a CustomResourceDefinition declares for one served version. */
export function printerColumnsOf(crd: unknown, version: string): PrinterColumn[] | undefined {
  const versions = dig(crd, "spec.versions");
  if (!Array.isArray(versions)) return undefined;
  const v = versions.find((x) => dig(x, "name") === version);
  const cols = dig(v, "additionalPrinterColumns");
  return Array.isArray(cols) ? (cols as PrinterColumn[]) : undefined;
}
