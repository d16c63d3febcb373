// fieldValidation (Ignore | Warn | Strict) on create, update and patch, as kube-apiserver applies it to built-in
// kinds: unknown fields are listed by path ("spec.replica", "spec.template.spec.containers[0].imagePullPolice").
// Strict refuses the write with 400 and kube's `strict decoding error` message; Warn (the server's default) lets
// it through with one `Warning: 299` header per field; Ignore says nothing. Which fields are known comes from
// known-fields.ts; custom resources and subtrees it does not describe are not checked.

import type { KubeObject, ResourceType, SimRequest } from "../contracts.ts";
import { StatusError } from "../status.ts";
import { objectShape, type Shape } from "./known-fields.ts";

export type FieldValidation = "Ignore" | "Warn" | "Strict";

export function fieldValidationOf(route: SimRequest): FieldValidation {
  const raw = route.query.get("fieldValidation") ?? "";
  if (raw === "") return "Warn";
  if (raw === "Ignore" || raw === "Warn" || raw === "Strict") return raw;
  throw StatusError.of(
    "BadRequest",
    `fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${raw}"`,
  );
}

function walk(value: unknown, s: Shape, path: string, out: string[]): void {
  if (!value || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    // Strategic-merge directives ($patch, $setElementOrder/…, $retainKeys) are instructions, not fields.
    if (key.startsWith("$")) continue;
    const here = path ? `${path}.${key}` : key;
    if (!s.fields.has(key)) {
      out.push(here);
      continue;
    }
    const next = s.children[key];
    if (!next) continue;
    if (!Array.isArray(child)) walk(child, next, here, out);
    else for (const [i, item] of child.entries()) walk(item, next, `${here}[${i}]`, out);
  }
}

/** The paths of the fields of `obj` its kind does not have, in document order. */
export function unknownFields(type: Pick<ResourceType, "group" | "kind">, obj: unknown): string[] {
  const s = objectShape(type.group, type.kind);
  if (!s) return [];
  const out: string[] = [];
  walk(obj, s, "", out);
  return out;
}

/** The value of a `Warning` header for one unknown field (RFC 7234 warn-code 299, as kube-apiserver sends). */
export function unknownFieldWarning(path: string): string {
  return `299 - ${JSON.stringify(`unknown field "${path}"`)}`;
}

/**
 * Applies the route's fieldValidation to an object about to be written: throws 400 under Strict, returns the
 * Warning header values under Warn, nothing under Ignore.
 */
export function validateFields(type: ResourceType, route: SimRequest, obj: KubeObject | unknown): string[] {
  const mode = fieldValidationOf(route);
  if (mode === "Ignore") return [];
  const unknown = unknownFields(type, obj);
  if (unknown.length === 0) return [];
  if (mode === "Strict") {
    const version = type.version;
    throw StatusError.of(
      "BadRequest",
      `${type.kind} in version "${version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown
        .map((p) => `unknown field "${p}"`)
        .join(", ")}`,
    );
  }
  return unknown.map(unknownFieldWarning);
}
