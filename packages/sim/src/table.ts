// Server-side Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which is what `kubectl get`
// prints: the kind's columns and one row of cells per object, each row carrying the object as None, Metadata
// (PartialObjectMetadata, the apiserver's default) or the full Object.
//
// Pure: the clock is a parameter. Printers read objects defensively: a malformed stored object prints empty or
// "<none>" cells rather than failing the whole list.
import type { KubeObject, ResourceType } from "./contracts.ts";
import { core } from "./table/core-index.ts";
import { crdDefaultColumns, customPrinter, genericPrinter, type PrinterColumn } from "./table/custom.ts";
import type { Obj, Printer } from "./table/format.ts";

export { evalJsonPath, type PrinterColumn, printerColumnsOf } from "./table/custom.ts";
export { humanDuration } from "./table/format.ts";

export interface TableOptions {
  includeObject: "None" | "Metadata" | "Object";
  resourceVersion: string;
  continueToken?: string;
  now?: Date;
  /** A custom resource's additionalPrinterColumns; when the type is not built in and none are given: NAME, AGE. */
  printerColumns?: PrinterColumn[];
  remainingItemCount?: number;
}

function printerFor(type: ResourceType, opts: TableOptions): Printer {
  const builtIn = core[`${type.group}/${type.kind}`];
  if (builtIn) return builtIn;
  if (opts.printerColumns) return customPrinter(opts.printerColumns);
  // Custom resources get the CRD convertor's default (AGE as a date column); built-ins without a printer get NAME, AGE.
  return type.group.includes(".") && !type.group.endsWith(".k8s.io")
    ? customPrinter(crdDefaultColumns)
    : genericPrinter;
}

function rowObject(obj: KubeObject, include: TableOptions["includeObject"]): unknown {
  if (include === "None") return null;
  if (include === "Object") return structuredClone(obj);
  return {
    kind: "PartialObjectMetadata",
    apiVersion: "meta.k8s.io/v1",
    metadata: structuredClone(obj.metadata),
  };
}

export function toTable(type: ResourceType, objects: KubeObject[], opts: TableOptions): KubeObject {
  const printer = printerFor(type, opts);
  const now = opts.now ?? new Date();
  const metadata: Record<string, unknown> = { resourceVersion: opts.resourceVersion };
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows: objects.map((o) => {
      const printed = printer.print(o as unknown as Obj, now);
      const row: Record<string, unknown> = { cells: printed.cells, object: rowObject(o, opts.includeObject) };
      if (printed.conditions) row.conditions = printed.conditions;
      return row;
    }),
  };
}
