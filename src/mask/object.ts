// Masking of decoded Kubernetes JSON: single objects, lists, Tables (cells and embedded objects) and the objects
// inside watch events. Field rules first (Secret data, env values, ConfigMap keys, the last-applied annotation,
// managedFields, optional Secret names and references, secret-sounding properties), then the profile's detectors on
// every remaining string. Objects are freshly parsed, so they are changed in place.
//
// Stance: the shape stays (keys, types, base64 validity), values do not. Anything masked is counted per rule.
import { addCount, type MaskCounts } from "./counts.ts";
import { isMarker, type Placeholders } from "./placeholder.ts";
import type { MaskingProfile } from "./profile.ts";
import { type KeyStrength, keyStrength, valueIsSecret } from "./secretish.ts";

export interface MaskContext {
  profile: MaskingProfile;
  ph: Placeholders;
  counts: MaskCounts;
  /**
   * Told every value a field rule masks (Secret data decoded, env values, ConfigMap keys): the gateway remembers
   * them, in memory only, to find them later in exec and log output of the same cluster.
   */
  remember?: (value: Uint8Array) => void;
}

type Obj = Record<string, unknown>;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
/** A marker is 21 UTF-8 bytes, so 28 base64 characters. */
const BASE64_MARKER_LENGTH = 28;
const fromBase64 = (v: string) => Buffer.from(v, "base64").toString("utf8");

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The kind a collection's items have when the items themselves do not say (typed lists omit it). */
export function kindForResource(resource: string): string | undefined {
  return resource === "secrets" ? "Secret" : resource === "configmaps" ? "ConfigMap" : undefined;
}

const strengthCache = new Map<string, KeyStrength>();
export function strengthOf(key: string): KeyStrength {
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

/**
 * A value's marker, counted. `remember`: the value is a secret for certain (Secret data, a token, a value under a
 * key that says password/secret/credential), so the gateway may look for it later in exec and log output; names
 * and values under weaker keys (`SESSION_MODE=default`) are not remembered, or ordinary words would be masked.
 */
function marker(value: unknown, rule: string, ctx: MaskContext, remember = false): string {
  addCount(ctx.counts, rule);
  if (remember && ctx.remember && typeof value === "string") ctx.remember(Buffer.from(value, "utf8"));
  return ctx.ph.marker(typeof value === "string" ? value : (JSON.stringify(value) ?? ""));
}

function maskSecretFields(obj: Obj, ctx: MaskContext): void {
  const { profile, ph, counts } = ctx;
  if (profile.secretData) {
    if (isObj(obj.data)) {
      for (const [k, v] of Object.entries(obj.data)) {
        // Already a marker (an answer masked once, rendered again for a diff): kept, so masking is idempotent.
        if (typeof v === "string" && v.length === BASE64_MARKER_LENGTH && isMarker(fromBase64(v))) continue;
        if (ctx.remember && typeof v === "string") ctx.remember(Buffer.from(v, "base64"));
        obj.data[k] =
          typeof v === "string"
            ? ph.base64MarkerOf(v)
            : ph.base64Marker(Buffer.from(JSON.stringify(v) ?? ""));
        addCount(counts, "secret-data");
      }
    }
    if (isObj(obj.stringData)) {
      for (const [k, v] of Object.entries(obj.stringData))
        obj.stringData[k] = marker(v, "secret-data", ctx, true);
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
      if (pattern.test(k)) obj.data[k] = marker(v, "configmap-key", ctx, strengthOf(k) === "strong");
  }
  if (isObj(obj.binaryData)) {
    for (const [k, v] of Object.entries(obj.binaryData)) {
      if (!pattern.test(k)) continue;
      obj.binaryData[k] = ctx.ph.base64Marker(Buffer.from(typeof v === "string" ? v : "", "base64"));
      addCount(ctx.counts, "configmap-key");
    }
  }
}

/** The last-applied annotation is the applied object itself: masked as one, so kubectl apply can still read it. */
export function maskLastApplied(value: string, ctx: MaskContext): string {
  try {
    const applied: unknown = JSON.parse(value);
    return `${JSON.stringify(maskDocument(applied, ctx))}\n`;
  } catch {
    return marker(value, "last-applied", ctx);
  }
}

/** `metadata.managedFields`: value-named field set members through the detectors, then like any array. */
export function maskManagedFields(value: unknown, ctx: MaskContext): unknown {
  if (ctx.profile.managedFields && Array.isArray(value)) {
    for (const entry of value) {
      if (isObj(entry) && isObj(entry.fieldsV1)) entry.fieldsV1 = maskFieldSet(entry.fieldsV1, ctx);
    }
  }
  return walk(value, ctx, "managedFields");
}

/** An object's `metadata`: annotations through the detectors (last-applied as a document), the rest walked. */
function maskMetadata(meta: Obj, ctx: MaskContext): void {
  for (const key of Object.keys(meta)) {
    const v = meta[key];
    if (key === "annotations") {
      if (!isObj(v)) continue;
      for (const [k, a] of Object.entries(v)) {
        if (typeof a !== "string") continue;
        if (k !== LAST_APPLIED) v[k] = maskText(a, ctx);
        else if (ctx.profile.lastAppliedConfiguration) v[k] = maskLastApplied(a, ctx);
      }
    } else if (key === "managedFields") {
      meta[key] = maskManagedFields(v, ctx);
    } else {
      meta[key] = walkMember(key, v, ctx);
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
    const strong = strengthOf(item.name) === "strong";
    if (pattern?.test(item.name)) item.value = marker(item.value, "env-value", ctx, strong);
    else if (ctx.profile.secretSoundingKeys && valueIsSecret(strengthOf(item.name), item.value)) {
      item.value = marker(item.value, "env-value", ctx, strong);
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
export function walk(value: unknown, ctx: MaskContext, parentKey: string): unknown {
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
  for (const key of Object.keys(value)) value[key] = walkMember(key, value[key], ctx);
  return value;
}

/** One property of an object: a string next to a secret-sounding key is masked whole, any other is searched. */
export function walkMember(key: string, v: unknown, ctx: MaskContext): unknown {
  if (typeof v === "string") {
    if (isMarker(v)) return v;
    if (ctx.profile.secretSoundingKeys && valueIsSecret(strengthOf(key), v))
      return marker(v, "secret-key", ctx, strengthOf(key) === "strong");
    return maskText(v, ctx);
  }
  return v !== null && typeof v === "object" ? walk(v, ctx, key) : v;
}

/**
 * Answers that carry a credential the cluster minted (issue 12 §3): a TokenRequest's `status.token` and a
 * CertificateSigningRequest's issued `status.certificate` (base64 PEM; with the key the requester holds, it is a
 * client credential). Masked by every profile that masks Secret data; only `mask: none` shows them.
 */
export const CREDENTIAL_KINDS: ReadonlySet<string> = new Set(["TokenRequest", "CertificateSigningRequest"]);

function maskCredential(obj: Obj, ctx: MaskContext): void {
  if (!ctx.profile.secretData || !isObj(obj.status)) return;
  const status = obj.status;
  if (typeof status.token === "string" && !isMarker(status.token))
    status.token = marker(status.token, "token", ctx, true);
  if (typeof status.certificate === "string" && status.certificate.length > 0) {
    if (!(status.certificate.length === BASE64_MARKER_LENGTH && isMarker(fromBase64(status.certificate)))) {
      addCount(ctx.counts, "certificate");
      status.certificate = ctx.ph.base64MarkerOf(status.certificate);
    }
  }
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
  if (CREDENTIAL_KINDS.has(kind ?? "")) maskCredential(obj, ctx);
  if (kind === "Secret") {
    maskSecretFields(obj, ctx);
    skip.add("data").add("stringData");
  } else if (kind === "ConfigMap") {
    maskConfigMapFields(obj, ctx);
  }
  for (const key of Object.keys(obj)) {
    if (skip.has(key)) continue;
    const v = obj[key];
    // The last-applied annotation is masked as a document: detectors must not re-read its markers as text.
    if (key === "metadata" && isObj(v)) maskMetadata(v, ctx);
    else obj[key] = typeof v === "string" ? maskText(v, ctx) : walk(v, ctx, key);
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

/**
 * A masked copy of any decoded value, the input left alone: what reviewers and MCP diffs are shown (the review
 * preview, the held request's body, k8s_diff). The same rules and markers as every response.
 */
export function maskedCopy<T>(value: T, ctx: MaskContext, kindHint?: string): T {
  if (value === undefined) return value;
  return maskDocument(structuredClone(value), ctx, kindHint) as T;
}

/** Any decoded response body: an object, a list, a Table, a Status. */
export function maskDocument(doc: unknown, ctx: MaskContext, kindHint?: string): unknown {
  return maskObject(doc, ctx, kindHint);
}
