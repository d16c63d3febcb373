// Label selectors: matching a rule's selector (matchLabels + matchExpressions, Kubernetes semantics) against a label
// set, and the label set a request carries (the written object's labels and the equality terms of its
// labelSelector query). Pure.
//
// Security stance: a request whose labels cannot be read has an empty label set — so `matchLabels` does not match it
// and `DoesNotExist` does. Rules that must hold whatever the labels are should not depend on a selector.
import type { LabelSelectorSpec } from "./schema.ts";

export type Labels = Readonly<Record<string, string>>;

export type LabelMatcher = (labels: Labels) => boolean;

export function compileSelector(spec: LabelSelectorSpec): LabelMatcher {
  const checks: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(spec.matchLabels ?? {})) {
    checks.push((l) => Object.hasOwn(l, key) && l[key] === value);
  }
  for (const e of spec.matchExpressions ?? []) {
    const values = new Set(e.values ?? []);
    switch (e.operator) {
      case "In":
        checks.push((l) => Object.hasOwn(l, e.key) && values.has(l[e.key] ?? ""));
        break;
      case "NotIn":
        checks.push((l) => !Object.hasOwn(l, e.key) || !values.has(l[e.key] ?? ""));
        break;
      case "Exists":
        checks.push((l) => Object.hasOwn(l, e.key));
        break;
      case "DoesNotExist":
        checks.push((l) => !Object.hasOwn(l, e.key));
        break;
    }
  }
  return (labels) => checks.every((c) => c(labels));
}

/** Equality terms (`a=b`, `a==b`, `a in (b)`) of a label selector string: the labels every selected object has. */
export function selectorEqualities(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!selector) return out;
  // Split on commas outside parentheses.
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  for (const raw of terms) {
    const term = raw.trim();
    const eq = /^([^=!\s]+)\s*==?\s*([^=!\s]*)$/.exec(term);
    if (eq?.[1] !== undefined) {
      out[eq[1]] = eq[2] ?? "";
      continue;
    }
    const single = /^(\S+)\s+in\s+\(\s*([^,\s)]*)\s*\)$/.exec(term);
    if (single?.[1] !== undefined) out[single[1]] = single[2] ?? "";
  }
  return out;
}

/** The labels of a request: body metadata.labels merged over the equality terms of its label selector. */
export function requestLabels(body: unknown, labelSelector: string): Record<string, string> {
  const labels = selectorEqualities(labelSelector);
  const meta = (body as { metadata?: { labels?: unknown } } | null | undefined)?.metadata;
  const fromBody = meta && typeof meta === "object" ? meta.labels : undefined;
  if (fromBody && typeof fromBody === "object" && !Array.isArray(fromBody)) {
    for (const [k, v] of Object.entries(fromBody)) if (typeof v === "string") labels[k] = v;
  }
  return labels;
}
