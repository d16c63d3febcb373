// Pure helpers the controllers share: label selectors, owner references, the pod-template hash, name suffixes and
// structural equality. No IO here, so each is table-tested.
import { randomInt } from "node:crypto";
import type { KubeObject, OwnerReference } from "../contracts.ts";

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/**
 * metav1.LabelSelector semantics. An absent selector matches nothing (a controller without a selector must not adopt
 * every pod in the namespace); an empty one `{}` matches everything.
 */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
) {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(l[req.key] as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(l[req.key] as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false; // an operator we do not know selects nothing rather than everything
    }
  }
  return true;
}

/** A Service's selector is a plain map; an empty or absent one selects no pods (the Endpoints are user-managed). */
export function mapSelectorMatches(
  selector: Record<string, string> | undefined,
  labels?: Record<string, string>,
) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return selectorMatches({ matchLabels: selector }, labels);
}

export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata.uid;
  return !!uid && (obj.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** JSON with object keys sorted, so that equal values give equal strings whatever order fields were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// k8s.io/apimachinery/pkg/util/rand: no vowels (no words) and no look-alike characters.
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** rand.SafeEncodeString of a number's 10-digit decimal form: always 10 characters. */
export function safeEncode(n: number): string {
  return [...String(n).padStart(10, "0")]
    .map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length])
    .join("");
}

/**
 * The `pod-template-hash` label value: stable for equal templates (key order does not matter), different when any
 * field of the template changes. The label itself is left out so that hashing a ReplicaSet's template round-trips.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const t = structuredClone((template ?? {}) as { metadata?: { labels?: Record<string, string> } });
  if (t.metadata?.labels) delete t.metadata.labels["pod-template-hash"];
  const suffix = collisionCount > 0 ? `#${collisionCount}` : "";
  return safeEncode(fnv32a(canonicalJson(t) + suffix));
}

/** The 5 random characters of a generated name (`web-7c5ddbdf54-x2kqp`). */
export function randomSuffix(length = 5): string {
  let s = "";
  for (let i = 0; i < length; i++) s += SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)];
  return s;
}

export function isTerminating(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp;
}

export function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
