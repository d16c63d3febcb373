// Masking of decoded Kubernetes JSON: single objects, lists, Tables (cells and embedded objects) and the objects
// inside watch events. Field rules first (Secret data, env values, ConfigMap keys, the last-applied annotation,
// managedFields, optional Secret names and references, secret-sounding properties), then the profile's detectors on
// every remaining string. Objects are freshly parsed, so they are changed in place.
//
// Stance: the shape stays (keys, types, base64 validity), values do not. Anything masked is counted per rule.
import { addCount, type MaskCounts } from "./counts.ts";
import type { Placeholders } from "./placeholder.ts";
import type { MaskingProfile } from "./profile.ts";
import { type KeyStrength, keyStrength, valueIsSecret } from "./secretish.ts";

export interface MaskContext {
  profile: MaskingProfile;
  ph: Placeholders;
  counts: MaskCounts;
}

type Obj = Record<string, unknown>;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The kind a collection's items have when the items themselves do not say (typed lists omit it). */
export function kindForResource(resource: string): string | undefined {
  return resource === "secrets" ? "Secret" : resource === "configmaps" ? "ConfigMap" : undefined;
}

const strengthCache = new Map<string, KeyStrength>();
function strengthOf(key: string): KeyStrength {
  let s = strengthCache.get(key);
  if (s === undefined && !strengthCache.has(key)) {
    s = keyStrength(key);
    if (strengthCache.size > 10_000) strengthCache.clear();
    strengthCache.set(key, s);
  }
  return s;
}

function maskText(value: string, ctx: MaskContext): string {
  return ctx.profile.detectors.maskString(value, ctx.ph, ctx.counts);
}

function marker(value: unknown, rule: string, ctx: MaskContext): string {
  addCount(ctx.counts, rule);
  return ctx.ph.marker(typeof value === "string" ? value : (JSON.stringify(value) ?? ""));
}

function maskSecretFields(obj: Obj, ctx: MaskContext): void {
  const { profile, ph, counts } = ctx;
  if (profile.secretData) {
    if (isObj(obj.data)) {
      for (const [k, v] of Object.entries(obj.data)) {
        const decoded =
          typeof v === "string" ? Buffer.from(v, "base64") : Buffer.from(JSON.stringify(v) ?? "");
        obj.data[k] = ph.base64Marker(decoded);
        addCount(counts, "secret-data");
      }
    }
    if (isObj(obj.stringData)) {
      for (const [k, v] of Object.entries(obj.stringData)) obj.stringData[k] = marker(v, "secret-data", ctx);
    }
  }
  const meta = obj.metadata;
  if (profile.secretNames && isObj(meta) && typeof meta.name === "string") {
    meta.name = marker(meta.name, "secret-name", ctx);
  }
}

function maskConfigMapFields(obj: Obj, ctx: MaskContext): void {
  const pattern = ctx.profile.configMapKey;
  if (!pattern) return;
  if (isObj(obj.data)) {
    for (const [k, v] of Object.entries(obj.data))
      if (pattern.test(k)) obj.data[k] = marker(v, "configmap-key", ctx);
  }
  if (isObj(obj.binaryData)) {
    for (const [k, v] of Object.entries(obj.binaryData)) {
      if (!pattern.test(k)) continue;
      obj.binaryData[k] = ctx.ph.base64Marker(Buffer.from(typeof v === "string" ? v : "", "base64"));
      addCount(ctx.counts, "configmap-key");
    }
  }
}

function maskMetadata(meta: Obj, ctx: MaskContext): void {
  const annotations = meta.annotations;
  if (
    ctx.profile.lastAppliedConfiguration &&
    isObj(annotations) &&
    typeof annotations[LAST_APPLIED] === "string"
  ) {
    // The annotation is the applied object itself: mask it as one, so kubectl apply can still read it.
    try {
      const applied: unknown = JSON.parse(annotations[LAST_APPLIED]);
      annotations[LAST_APPLIED] = `${JSON.stringify(maskDocument(applied, ctx))}\n`;
    } catch {
      annotations[LAST_APPLIED] = marker(annotations[LAST_APPLIED], "last-applied", ctx);
    }
  }
  if (ctx.profile.managedFields && Array.isArray(meta.managedFields)) {
    for (const entry of meta.managedFields) {
      if (isObj(entry) && isObj(entry.fieldsV1)) entry.fieldsV1 = maskFieldSet(entry.fieldsV1, ctx);
    }
  }
}

/** managedFields name set members by value (`v:"--password=…"`): those keys go through the detectors. */
function maskFieldSet(set: Obj, ctx: MaskContext): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(set)) {
    const key = k.startsWith("v:") ? maskText(k, ctx) : k;
    out[key] = isObj(v) ? maskFieldSet(v, ctx) : v;
  }
  return out;
}

function maskEnv(env: unknown[], ctx: MaskContext): void {
  const pattern = ctx.profile.envName;
  for (const item of env) {
    if (!isObj(item) || typeof item.value !== "string" || typeof item.name !== "string") continue;
    if (pattern?.test(item.name)) item.value = marker(item.value, "env-value", ctx);
    else if (ctx.profile.secretSoundingKeys && valueIsSecret(strengthOf(item.name), item.value)) {
      item.value = marker(item.value, "env-value", ctx);
    }
  }
}

function maskReferences(obj: Obj, key: string, ctx: MaskContext): void {
  // secretKeyRef / envFrom secretRef / projected secret: {name}; volumes[].secret: {secretName}.
  if ((key === "secretKeyRef" || key === "secretRef" || key === "secret") && typeof obj.name === "string") {
    obj.name = marker(obj.name, "secret-ref", ctx);
  }
  if (key === "secret" && typeof obj.secretName === "string")
    obj.secretName = marker(obj.secretName, "secret-ref", ctx);
}

/** Walks any JSON value: field rules that apply anywhere, then detectors on every string left. */
function walk(value: unknown, ctx: MaskContext, parentKey: string): unknown {
  if (typeof value === "string") return maskText(value, ctx);
  if (Array.isArray(value)) {
    if (parentKey === "env") maskEnv(value, ctx);
    if (parentKey === "imagePullSecrets" && ctx.profile.secretReferences) {
      for (const ref of value)
        if (isObj(ref) && typeof ref.name === "string") ref.name = marker(ref.name, "secret-ref", ctx);
    }
    for (let i = 0; i < value.length; i++) value[i] = walk(value[i], ctx, "");
    return value;
  }
  if (!isObj(value)) return value;
  if (ctx.profile.secretReferences) maskReferences(value, parentKey, ctx);
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v === "string") {
      if (v.startsWith("‹masked:")) continue;
      if (ctx.profile.secretSoundingKeys && valueIsSecret(strengthOf(key), v)) {
        value[key] = marker(v, "secret-key", ctx);
      } else {
        value[key] = maskText(v, ctx);
      }
    } else if (v !== null && typeof v === "object") {
      value[key] = walk(v, ctx, key);
    }
  }
  return value;
}

/** One Kubernetes object (or any JSON value); `kind` names it when the object does not (list items). */
export function maskObject(obj: unknown, ctx: MaskContext, kindHint?: string): unknown {
  if (!isObj(obj)) return walk(obj, ctx, "");
  const kind = typeof obj.kind === "string" ? obj.kind : kindHint;
  if (kind === "Table" && Array.isArray(obj.rows)) return maskTable(obj, ctx, kindHint);
  if (typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)) {
    const itemKind = obj.kind.slice(0, -4);
    for (let i = 0; i < obj.items.length; i++) obj.items[i] = maskObject(obj.items[i], ctx, itemKind);
    const { items, ...rest } = obj;
    walk(rest, ctx, "");
    return Object.assign(obj, rest, { items });
  }
  const skip = new Set<string>();
  if (kind === "Secret") {
    maskSecretFields(obj, ctx);
    skip.add("data").add("stringData");
  } else if (kind === "ConfigMap") {
    maskConfigMapFields(obj, ctx);
  }
  if (isObj(obj.metadata)) maskMetadata(obj.metadata, ctx);
  for (const key of Object.keys(obj)) {
    if (skip.has(key)) continue;
    const v = obj[key];
    if (key === "metadata" && isObj(v)) {
      // The last-applied annotation was masked as a document: detectors must not re-read its markers as text.
      const { annotations, ...rest } = v;
      walk(rest, ctx, "metadata");
      if (isObj(annotations)) {
        for (const [k, a] of Object.entries(annotations)) {
          if (k !== LAST_APPLIED && typeof a === "string") annotations[k] = maskText(a, ctx);
        }
      }
      continue;
    }
    obj[key] = typeof v === "string" ? maskText(v, ctx) : walk(v, ctx, key);
  }
  return obj;
}

/** A Table row: every string cell through the detectors (and the name column for Secrets when asked), the object as one. */
export function maskTableRow(
  row: unknown,
  ctx: MaskContext,
  kindHint: string | undefined,
  nameColumn: number,
): unknown {
  if (!isObj(row)) return walk(row, ctx, "");
  if (Array.isArray(row.cells)) {
    row.cells = row.cells.map((cell, i) => {
      if (typeof cell !== "string") return walk(cell, ctx, "");
      if (i === nameColumn && kindHint === "Secret" && ctx.profile.secretNames)
        return marker(cell, "secret-name", ctx);
      return maskText(cell, ctx);
    });
  }
  if (row.object !== undefined) row.object = maskObject(row.object, ctx, kindHint);
  for (const key of Object.keys(row))
    if (key !== "cells" && key !== "object") row[key] = walk(row[key], ctx, key);
  return row;
}

/** The index of the Name column of a Table, or -1. */
export function nameColumnOf(columnDefinitions: unknown): number {
  if (!Array.isArray(columnDefinitions)) return -1;
  return columnDefinitions.findIndex(
    (c) => isObj(c) && typeof c.name === "string" && c.name.toLowerCase() === "name",
  );
}

function maskTable(table: Obj, ctx: MaskContext, kindHint: string | undefined): Obj {
  const nameColumn = nameColumnOf(table.columnDefinitions);
  const rows = table.rows as unknown[];
  for (let i = 0; i < rows.length; i++) rows[i] = maskTableRow(rows[i], ctx, kindHint, nameColumn);
  for (const key of Object.keys(table)) if (key !== "rows") table[key] = walk(table[key], ctx, key);
  return table;
}

/** Any decoded response body: an object, a list, a Table, a Status. */
export function maskDocument(doc: unknown, ctx: MaskContext, kindHint?: string): unknown {
  return maskObject(doc, ctx, kindHint);
}
