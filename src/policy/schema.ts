// The policy language as zod schemas: what a `Policy` document may say (docs/policy.md is the reference).
//
// Strict by design: unknown fields, unknown verbs and effects, and effect/field combinations that would be silently
// ignored are errors, because a misspelt security rule must never load as a rule that matches nothing (or
// everything). CEL and regular expressions are compiled later (compile.ts) and reported against the same paths.
import { z } from "zod";
import { parseDuration } from "../shared/duration.ts";
import { CREDENTIAL_CLASSES } from "./credentials.ts";
import { compileJustificationPattern } from "./justification.ts";

export const API_VERSION = "airlock.dev/v1alpha1";

/** Verbs and actions a rule may name: RequestInfo verbs, the actions exec/attach/portforward/proxy, and the HTTP
 * verbs of non-resource requests (post, put, head, options). */
export const KNOWN_VERBS = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
  "exec",
  "attach",
  "portforward",
  "proxy",
  "post",
  "put",
  "head",
  "options",
] as const;
const VERB_SET = new Set<string>(KNOWN_VERBS);

export const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const name = z.string().regex(NAME, "must be a DNS label: lower-case letters, digits and '-', at most 63");

const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
  message: "must be a duration such as 30s, 10m, 1h or 1h30m",
});

const pattern = z.string().max(253);

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({
          key: z.string().min(1),
          operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
          values: z.array(z.string()).optional(),
        })
        .superRefine((e, ctx) => {
          const needsValues = e.operator === "In" || e.operator === "NotIn";
          if (needsValues && !e.values?.length) {
            ctx.addIssue({
              code: "custom",
              path: ["values"],
              message: `${e.operator} needs at least one value`,
            });
          }
          if (!needsValues && e.values?.length) {
            ctx.addIssue({ code: "custom", path: ["values"], message: `${e.operator} takes no values` });
          }
        }),
    )
    .optional(),
});
export type LabelSelectorSpec = z.infer<typeof labelSelector>;

const subject = z
  .strictObject({
    identity: pattern.optional(),
    group: pattern.optional(),
    kind: z.enum(["agent", "human", "admin"]).optional(),
    labelSelector: labelSelector.optional(),
  })
  .refine((s) => Object.keys(s).length > 0, {
    message: "a subject needs at least one of identity, group, kind, labelSelector",
  });
export type SubjectSpec = z.infer<typeof subject>;

const verb = z.string().refine((v) => v === "*" || VERB_SET.has(v), {
  error: (issue) => `unknown verb "${String(issue.input)}"; known: ${KNOWN_VERBS.join(", ")} or *`,
});

const exec = z
  .strictObject({
    command: z.array(pattern).min(1).optional(),
    commandRegex: z.string().min(1).optional(),
    commandMatches: z.array(pattern).min(1).optional(),
    /** What a command line whose programs cannot all be known counts as (docs/policy.md): deny = fail closed. */
    unresolved: z.enum(["deny", "allow"]).optional(),
    containers: z.array(pattern).min(1).optional(),
    tty: z.boolean().optional(),
    /** true/false match the -i flag; `inspect` checks every line piped into a shell against this rule. */
    stdin: z.union([z.boolean(), z.literal("inspect")]).optional(),
  })
  .refine((e) => Object.keys(e).length > 0, { message: "exec needs at least one matcher" });
export type ExecSpec = z.infer<typeof exec>;

const review = z.strictObject({
  approvers: z
    .strictObject({
      identities: z.array(z.string().min(1)).default([]),
      groups: z.array(z.string().min(1)).default([]),
    })
    .refine((a) => a.identities.length + a.groups.length > 0, {
      message: "name at least one approving identity or group",
    }),
  approvals: z.number().int().min(1).max(10).default(1),
  mode: z.enum(["wait", "retry"]).default("wait"),
  timeout: duration.default("10m"),
});

const rule = z
  .strictObject({
    name,
    description: z.string().optional(),
    subjects: z.array(subject).min(1).optional(),
    clusters: z.array(pattern).min(1).optional(),
    verbs: z.array(verb).min(1),
    apiGroups: z.array(pattern).min(1).optional(),
    resources: z.array(pattern.min(1)).min(1).optional(),
    nonResourceURLs: z.array(pattern.min(1)).min(1).optional(),
    namespaces: z.array(pattern).min(1).optional(),
    names: z.array(pattern).min(1).optional(),
    labelSelector: labelSelector.optional(),
    exec: exec.optional(),
    when: z.string().min(1).optional(),
    effect: z.enum(["allow", "deny", "review"], {
      error: (issue) => `unknown effect ${JSON.stringify(issue.input)}; one of allow, deny, review`,
    }),
    message: z.string().min(1).optional(),
    mask: z.string().min(1).optional(),
    review: review.optional(),
    rateLimit: z.strictObject({ requests: z.number().int().min(1).max(100_000), per: duration }).optional(),
    /** A justification the request must carry (required) and/or the form it must have (pattern, whole text). */
    justification: z
      .strictObject({ required: z.boolean().default(false), pattern: z.string().min(1).optional() })
      .optional(),
    /** Classes of the built-in `credentials` category this rule may allow, each by name (never `*`). */
    credentials: z
      .array(
        z.enum(CREDENTIAL_CLASSES, {
          error: (issue) =>
            `unknown credentials class ${JSON.stringify(issue.input)}; name each one of ${CREDENTIAL_CLASSES.join(", ")} (there is no wildcard)`,
        }),
      )
      .min(1)
      .optional(),
    /** Roles a (Cluster)RoleBinding allowed by this rule may grant: `ClusterRole/view`, `Role/web-deployer`, `view`. */
    bindableRoles: z
      .array(
        z
          .string()
          .regex(
            /^((Cluster)?Role\/)?[^*/\s]{1,253}$/,
            "must be ClusterRole/NAME, Role/NAME or NAME (exact names, no wildcard)",
          ),
      )
      .min(1)
      .optional(),
    /** Port-forward: the pod ports this rule allows (every requested port and every stream must be listed). */
    ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
  })
  .superRefine((r, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (r.effect === "review" && !r.review) bad("review", "a review rule needs review: { approvers: … }");
    if (r.effect !== "review" && r.review) bad("review", `review is only for effect review, not ${r.effect}`);
    if (r.effect === "deny" && r.mask) bad("mask", "a deny rule has nothing to mask");
    if (r.effect === "deny" && r.rateLimit) bad("rateLimit", "a deny rule cannot be rate-limited");
    if (r.effect === "deny" && r.justification)
      bad(
        "justification",
        "a deny rule refuses whatever the reason; justification is for allow and review rules",
      );
    if (r.justification && !r.justification.required && r.justification.pattern === undefined)
      bad(
        "justification",
        "say required: true, or give a pattern a justification must match when one is given",
      );
    if (r.justification?.pattern !== undefined) {
      const compiled = compileJustificationPattern(r.justification.pattern);
      if (!compiled.ok)
        bad(
          "justification",
          `pattern ${JSON.stringify(r.justification.pattern)} is refused: ${compiled.why}`,
        );
    }
    for (const field of ["credentials", "bindableRoles", "ports"] as const) {
      if (r.effect === "deny" && r[field])
        bad(field, `${field} is for allow and review rules (a deny rule needs no permission)`);
    }
    if (r.ports && !r.verbs.includes("portforward") && !r.verbs.includes("*")) {
      bad("ports", "ports applies to port-forward: add portforward to verbs");
    }
    if (r.nonResourceURLs && (r.resources || r.apiGroups || r.namespaces || r.names)) {
      bad(
        "nonResourceURLs",
        "nonResourceURLs cannot be combined with resources, apiGroups, namespaces or names",
      );
    }
    for (const [i, p] of (r.nonResourceURLs ?? []).entries()) {
      if (!p.startsWith("/") && p !== "*") {
        ctx.addIssue({
          code: "custom",
          path: ["nonResourceURLs", i],
          message: 'must start with "/" (or be *)',
        });
      }
    }
  });
export type RuleSpec = z.infer<typeof rule>;

export const policyDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Policy"),
  metadata: z.strictObject({
    name,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .strictObject({
      description: z.string().optional(),
      subjects: z.array(subject).min(1),
      rules: z.array(rule).min(1),
    })
    .superRefine((spec, ctx) => {
      const seen = new Map<string, number>();
      spec.rules.forEach((r, i) => {
        const first = seen.get(r.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["rules", i, "name"],
            message: `duplicate rule name "${r.name}" (also rules[${first}])`,
          });
        } else seen.set(r.name, i);
      });
    }),
});
export type PolicyDocument = z.infer<typeof policyDocument>;

/** Documents other engines own (MaskingProfile) are checked only for their envelope here. */
export const foreignDocument = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("MaskingProfile"),
  metadata: z.looseObject({ name }),
  spec: z.unknown(),
});
