// Field selectors, parsed and matched the way kube-apiserver does (apimachinery pkg/fields and each kind's
// registered field labels).
//
// Fail closed: only the field labels the apiserver registers for a kind are accepted; anything else is 400
// "field label not supported", never ignored.

import type { KubeObject } from "../contracts.ts";
import { StatusError } from "../status.ts";

export type FieldRequirement = { field: string; operator: "=" | "!="; value: string };
export type FieldSelector = FieldRequirement[];
function badRequest(message: string): StatusError {
  return StatusError.of("BadRequest", message);
}

// ---- field selectors -----------------------------------------------------------------------------------------

/** Splits on commas that are not escaped with a backslash (fields.splitTerms). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\" && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescapeValue(v: string): string {
  if (!/[\\=,]/.test(v)) return v;
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === "\\") {
      const n = v[i + 1];
      if (n === undefined || !"\\,=".includes(n))
        throw badRequest(`invalid field selector: invalid escape sequence: \\${n ?? ""}`);
      out += n;
      i++;
    } else if (ch === "," || ch === "=") {
      // Go prints the rune with %v, i.e. as its code point number.
      throw badRequest(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else out += ch;
  }
  return out;
}

/** Parses a `fieldSelector` query value: terms joined by ",", each `field=value`, `field==value` or `field!=value`. */
export function parseFieldSelector(s: string): FieldSelector {
  const out: FieldSelector = [];
  for (const term of splitTerms(s).sort()) {
    if (term === "") continue;
    const m = /!=|==|=/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = term.slice(0, m.index);
    const value = unescapeValue(term.slice(m.index + m[0].length));
    out.push({ field, operator: m[0] === "!=" ? "!=" : "=", value });
  }
  return out;
}

type Getter = (o: Record<string, unknown>) => string;

function at(o: unknown, path: string): unknown {
  let cur = o;
  for (const p of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
const str =
  (path: string): Getter =>
  (o) => {
    const v = at(o, path);
    return v === undefined || v === null ? "" : String(v);
  };
const bool =
  (path: string): Getter =>
  (o) =>
    at(o, path) === true ? "true" : "false";
const int =
  (path: string): Getter =>
  (o) => {
    const v = at(o, path);
    return typeof v === "number" ? String(v) : "0";
  };

/** The field labels each kind registers (AddFieldLabelConversionFunc / *ToSelectableFields). */
const FIELDS_BY_KIND: Record<string, Record<string, Getter>> = {
  Pod: {
    "spec.nodeName": str("spec.nodeName"),
    "spec.restartPolicy": str("spec.restartPolicy"),
    "spec.schedulerName": str("spec.schedulerName"),
    "spec.serviceAccountName": str("spec.serviceAccountName"),
    "spec.hostNetwork": bool("spec.hostNetwork"),
    "status.phase": str("status.phase"),
    "status.podIP": str("status.podIP"),
    "status.nominatedNodeName": str("status.nominatedNodeName"),
  },
  Event: {
    "involvedObject.kind": str("involvedObject.kind"),
    "involvedObject.namespace": str("involvedObject.namespace"),
    "involvedObject.name": str("involvedObject.name"),
    "involvedObject.uid": str("involvedObject.uid"),
    "involvedObject.apiVersion": str("involvedObject.apiVersion"),
    "involvedObject.resourceVersion": str("involvedObject.resourceVersion"),
    "involvedObject.fieldPath": str("involvedObject.fieldPath"),
    reason: str("reason"),
    reportingComponent: str("reportingComponent"),
    source: str("source.component"),
    type: str("type"),
  },
  Secret: { type: str("type") },
  Namespace: { "status.phase": str("status.phase") },
  Node: { "spec.unschedulable": bool("spec.unschedulable") },
  ReplicaSet: { "status.replicas": int("status.replicas") },
  ReplicationController: { "status.replicas": int("status.replicas") },
  Job: { "status.successful": int("status.succeeded") },
};

const COMMON_FIELDS: Record<string, Getter> = {
  "metadata.name": str("metadata.name"),
  "metadata.namespace": str("metadata.namespace"),
};

function getterFor(kind: string, field: string): Getter {
  const g = COMMON_FIELDS[field] ?? FIELDS_BY_KIND[kind]?.[field];
  if (!g) throw badRequest(`field label not supported: ${field}`);
  return g;
}

/** Throws BadRequest when the selector names a field the kind does not support; call before listing. */
export function checkFieldSelector(sel: FieldSelector, kind: string): void {
  for (const r of sel) getterFor(kind, r.field);
}

export function matchesFieldSelector(sel: FieldSelector, obj: KubeObject): boolean {
  return sel.every((r) => {
    const v = getterFor(obj.kind, r.field)(obj as unknown as Record<string, unknown>);
    return r.operator === "=" ? v === r.value : v !== r.value;
  });
}

/** The name an exact `metadata.name=` term pins, so a list can become a single lookup. */
export function fieldSelectorName(sel: FieldSelector): string | undefined {
  return sel.find((r) => r.field === "metadata.name" && r.operator === "=")?.value;
}
