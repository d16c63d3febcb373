// Evaluation: one request against a compiled set → a Decision naming its policy and rule. Pure apart from the rate
// limiter it is handed.
//
// Precedence: deny > review > allow; nothing matches → deny by policy `default`, rule `default-deny` (invariant 1).
// A CEL error counts as a match for deny and review rules and as no match for allow rules (fail closed). Rules are
// indexed by verb and resource, so a request only visits the rules that could match it; CEL runs last, on rules whose
// every other matcher passed, and never compiles anything.

import type { KubeRequest } from "../kube/request.ts";
import { type CelBindings, celTimestamp } from "./cel.ts";
import { execAnalysis } from "./compile.ts";
import { type CredentialFinding, credentialFindings, credentialsNeedResult } from "./credentials.ts";
import type { Decision } from "./decision.ts";
import { justificationGap } from "./justification.ts";
import {
  hasResultingObject,
  type ObjectNeeds,
  objectBinding,
  oldObjectBinding,
  ruleObjectNeeds,
} from "./objects.ts";
import { andThen, type Limit, type Limiter, type RateLimiter } from "./ratelimit.ts";
import type { CompiledRule, EvalInput, EvalScratch, LoadedSet } from "./types.ts";

const CACHE_LIMIT = 4096;

interface Bucket {
  specific: Map<string, CompiledRule[]>;
  generic: CompiledRule[];
}

/** Rules by verb, then by resource name; the lists a request visits are merged once and cached. */
export class RuleIndex {
  readonly set: LoadedSet;
  readonly #byVerb = new Map<string, Bucket>();
  readonly #cache = new Map<string, CompiledRule[]>();

  constructor(set: LoadedSet) {
    this.set = set;
    for (const policy of set.policies) {
      for (const rule of policy.rules) {
        for (const verb of new Set(rule.verbs)) {
          let bucket = this.#byVerb.get(verb);
          if (!bucket) {
            bucket = { specific: new Map(), generic: [] };
            this.#byVerb.set(verb, bucket);
          }
          if (!rule.resourceKeys) bucket.generic.push(rule);
          else {
            for (const key of new Set(rule.resourceKeys)) {
              const list = bucket.specific.get(key) ?? [];
              list.push(rule);
              bucket.specific.set(key, list);
            }
          }
        }
      }
    }
  }

  /** The rules that may match `action` on `resource`, in set order. */
  candidates(action: string, resource: string): readonly CompiledRule[] {
    const key = `${action}\u0000${resource}`;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const parts: CompiledRule[] = [];
    for (const verb of action === "*" ? ["*"] : [action, "*"]) {
      const bucket = this.#byVerb.get(verb);
      if (!bucket) continue;
      parts.push(...(bucket.specific.get(resource) ?? []), ...bucket.generic);
    }
    const list = [...new Set(parts)].sort((a, b) => a.order - b.order);
    // Resource names come from request paths, so the cache is bounded against clients inventing them.
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, list);
    return list;
  }
}

export interface EvalOptions {
  limiter?: RateLimiter;
  /** What-if replay from an audit record: the body and query are unknown, so rules that read them are undecidable. */
  replay?: boolean;
}

export interface Evaluation {
  decision: Decision;
  /** Every rule that matched, in set order (deny evaluation stops at the first deny). */
  matched: { policy: string; rule: string; effect: string }[];
  /** Replay only: a rule that reads the body or query could have changed the outcome. */
  undecidable?: { policy: string; rule: string };
  /** The matching allow/review rules that carry a rate limit (whether or not a limiter counted them). */
  limited: readonly CompiledRule[];
}

/** One rate-limited rule and how many effects a request counts against it (a deletecollection: its objects). */
export interface LimitCharge {
  rule: CompiledRule;
  cost: number;
}

/**
 * Admits (and counts) the charges, or returns the denial naming the exhausted rule: 429 with Retry-After, or a plain
 * deny when one request alone costs more than the rule's whole window (retrying could never help). Synchronous with
 * this process's limiter; a promise with the limiter replicas share.
 */
export function admitCharges(
  limiter: RateLimiter,
  principal: EvalInput["principal"],
  charges: readonly LimitCharge[],
  now: number,
): Decision | undefined;
export function admitCharges(
  limiter: Limiter,
  principal: EvalInput["principal"],
  charges: readonly LimitCharge[],
  now: number,
): Decision | undefined | Promise<Decision | undefined>;
export function admitCharges(
  limiter: Limiter,
  principal: EvalInput["principal"],
  charges: readonly LimitCharge[],
  now: number,
): Decision | undefined | Promise<Decision | undefined> {
  if (!charges.length) return undefined;
  for (const { rule, cost } of charges) {
    const max = rule.rateLimit?.requests ?? 0;
    if (cost > max) {
      return {
        effect: "deny",
        policy: rule.policy,
        rule: rule.name,
        message: `this request counts ${cost} against a limit of ${max} per ${rule.rateLimit?.per} for ${principal.name}; split it into smaller requests`,
      };
    }
  }
  const limits: Limit[] = charges.map(({ rule, cost }) => ({
    key: `${principal.identityId}\u0000${rule.policy}\u0000${rule.name}`,
    requests: rule.rateLimit?.requests ?? 0,
    perMs: rule.rateLimit?.perMs ?? 0,
    cost,
  }));
  return andThen(limiter.admit(limits, now), (verdict): Decision | undefined => {
    if (verdict.ok) return undefined;
    const rule = charges[limits.indexOf(verdict.limit)]?.rule ?? (charges[0] as LimitCharge).rule;
    if (verdict.unavailable) {
      return {
        effect: "deny",
        policy: rule.policy,
        rule: rule.name,
        message: `the rate-limit counters the gateway replicas share cannot be read (the store is unavailable), so the request is refused rather than counted; retry in ${verdict.retryAfterSeconds}s`,
        retryAfterSeconds: verdict.retryAfterSeconds,
        unavailable: true,
      };
    }
    return {
      effect: "deny",
      policy: rule.policy,
      rule: rule.name,
      message: `at most ${rule.rateLimit?.requests} requests per ${rule.rateLimit?.per} for ${principal.name}; retry in ${verdict.retryAfterSeconds}s`,
      retryAfterSeconds: verdict.retryAfterSeconds,
    };
  });
}

/** The target of a request in words, as kube-apiserver's forbidden messages put it. */
export function describeRequestTarget(kube: KubeRequest): string {
  const { info } = kube;
  if (!info.isResourceRequest) return `path ${info.path}`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const group = info.apiGroup ? `.${info.apiGroup}` : "";
  const name = info.name ? ` "${info.name}"` : "";
  const where = info.namespace ? ` in namespace "${info.namespace}"` : "";
  return `${resource}${group}${name}${where}`;
}

function queryInt(v: string | null): number | null {
  return v !== null && /^-?[0-9]{1,15}$/.test(v) ? Number(v) : null;
}

export function celBindings(input: EvalInput, scratch: EvalScratch = {}): CelBindings {
  const { kube, principal } = input;
  const query = new Map<string, string>();
  for (const [k, v] of kube.query) if (!query.has(k)) query.set(k, v);
  const exec = kube.exec;
  const analysis = execAnalysis(kube, scratch);
  return {
    request: {
      verb: kube.action,
      apiVerb: kube.info.verb,
      cluster: kube.cluster,
      path: kube.info.path,
      isResourceRequest: kube.info.isResourceRequest,
      apiGroup: kube.info.apiGroup,
      apiVersion: kube.info.apiVersion,
      resource: kube.info.resource,
      subresource: kube.info.subresource,
      namespace: kube.info.namespace,
      name: kube.info.name,
      labelSelector: kube.info.labelSelector,
      fieldSelector: kube.info.fieldSelector,
      // What the cluster will do (classify/options.ts: DeleteOptions from the body OR the query, never both).
      dryRun: kube.options?.dryRun ?? kube.query.getAll("dryRun").includes("All"),
      gracePeriodSeconds: kube.options?.gracePeriodSeconds ?? queryInt(kube.query.get("gracePeriodSeconds")),
      propagationPolicy: kube.options?.propagationPolicy ?? kube.query.get("propagationPolicy") ?? "",
      query,
      // Always present (empty for other requests), so a condition on argv does not error on a plain GET.
      exec: {
        command: exec?.command ?? [],
        programs: analysis.programs,
        unresolved: analysis.unresolved,
        container: exec?.container ?? "",
        tty: exec?.tty ?? false,
        stdin: exec?.stdin ?? false,
      },
    },
    // JSON numbers arrive as CEL doubles; CEL's numeric equality makes `object.spec.replicas == 0` work regardless.
    // A write's `object` is the resulting object and `oldObject` the stored one (src/policy/objects.ts); a rule
    // whose object was not loaded never gets here (ruleMatches judges it as an error).
    object: (objectBinding(kube) ?? null) as CelBindings["object"],
    oldObject: (oldObjectBinding(kube) ?? null) as CelBindings["oldObject"],
    identity: {
      name: principal.name,
      kind: principal.kind,
      groups: principal.groups,
      labels: principal.labels,
    },
    time: celTimestamp(input.now),
  };
}

function ruleMatches(rule: CompiledRule, input: EvalInput, scratch: EvalScratch): boolean {
  for (const m of rule.dataMatchers) if (!m(input, scratch)) return false;
  if (!rule.when) return true;
  // Fail closed: an object the rule reads but nobody loaded counts as an evaluation error.
  if (
    (rule.reads.object && objectBinding(input.kube) === undefined) ||
    (rule.reads.oldObject && oldObjectBinding(input.kube) === undefined)
  )
    return rule.effect !== "allow";
  scratch.bindings ??= celBindings(input, scratch);
  const result = rule.when.evaluate(scratch.bindings);
  if (result === "error") return rule.effect !== "allow";
  return result;
}

/**
 * Which objects the rules that could match this request read (subjects and every cheap matcher already passed), so
 * the gateway fetches the stored object or runs the dry run only when one of them needs it.
 */
export function objectNeeds(index: RuleIndex, input: EvalInput): ObjectNeeds {
  const { kube, principal } = input;
  const needs: ObjectNeeds = { stored: false, result: false };
  const scratch: EvalScratch = { planning: true };
  for (const rule of index.candidates(kube.action, kube.info.resource)) {
    if (!index.set.policies[rule.policyIndex]?.subjects(principal)) continue;
    if (rule.subjects && !rule.subjects(principal)) continue;
    if (!rule.matchers.every((m) => m(input, scratch))) continue;
    const n = ruleObjectNeeds(rule, kube);
    needs.stored ||= n.stored;
    // The credentials category judges a patch (or an unreadable body) on the object it results in, when a rule
    // could allow it.
    needs.result ||= n.result || (rule.effect !== "deny" && credentialsNeedResult(kube));
    if (needs.stored && needs.result) break;
  }
  return needs;
}

export function evaluate(index: RuleIndex, input: EvalInput, opts: EvalOptions = {}): Evaluation {
  const { kube, principal } = input;
  const candidates = index.candidates(kube.action, kube.info.resource);
  const subjectCache = new Int8Array(index.set.policies.length);
  const scratch: EvalScratch = {};
  const matched: Evaluation["matched"] = [];
  let review: CompiledRule | undefined;
  let allow: CompiledRule | undefined;
  const limited: CompiledRule[] = [];
  // Like rate limits, a justification requirement is every matching allow/review rule's, not only the winner's:
  // another allow rule cannot get around it.
  const justified: CompiledRule[] = [];
  let undecidable: CompiledRule | undefined;
  let reviewNote: string | undefined;
  let withheld: { rule: CompiledRule; gap: string } | undefined;
  for (const rule of candidates) {
    let subject = subjectCache[rule.policyIndex];
    if (subject === 0) {
      subject = index.set.policies[rule.policyIndex]?.subjects(principal) ? 1 : 2;
      subjectCache[rule.policyIndex] = subject;
    }
    if (subject !== 1) continue;
    if (rule.subjects && !rule.subjects(principal)) continue;
    scratch.commandNote = undefined;
    let plain = true;
    for (const m of rule.matchers) {
      if (!m(input, scratch)) {
        plain = false;
        break;
      }
    }
    if (!plain) continue;
    if (opts.replay && (rule.needsBody || rule.needsQuery)) {
      undecidable ??= rule;
      continue;
    }
    if (!ruleMatches(rule, input, scratch)) continue;
    if (rule.effect !== "deny") {
      // Permissions no wildcard grants: the credentials category, and port-forward without named ports.
      const gap = permissionGap(rule, input, scratch);
      if (gap) {
        withheld ??= { rule, gap };
        continue;
      }
    }
    matched.push({ policy: rule.policy, rule: rule.name, effect: rule.effect });
    if (rule.effect === "deny") {
      // Deny outranks everything, so the first one decides (and later rules need not run).
      return {
        decision: { effect: "deny", policy: rule.policy, rule: rule.name, message: withNote(rule, scratch) },
        matched,
        limited: [],
      };
    }
    if (rule.rateLimit) limited.push(rule);
    if (rule.justification) justified.push(rule);
    if (rule.effect === "review" && !review) {
      review = rule;
      reviewNote = scratch.commandNote;
    }
    // Masking is the stricter obligation: a rule naming a profile wins over one naming none (the identity's default
    // applies), which wins over break-glass `none`.
    else if (!allow || maskRank(rule.mask) > maskRank(allow.mask)) allow = rule;
  }
  if (undecidable) {
    const d = defaultDeny(kube);
    return {
      decision: d,
      matched,
      undecidable: { policy: undecidable.policy, rule: undecidable.name },
      limited: [],
    };
  }
  const winner = review ?? allow;
  if (!winner) {
    if (withheld) return { decision: withheldDeny(kube, withheld), matched, limited: [] };
    if (isSelfReview(kube)) {
      // Self reviews reveal only the caller's own identity and rights (kubectl auth whoami / can-i).
      return { decision: { effect: "allow", policy: "builtin", rule: "self-reviews" }, matched, limited: [] };
    }
    // Nothing allows it; a request in the credentials category also says what a rule would need.
    scratch.credentials ??= credentialFindings(kube, resultOf(kube));
    const hint = scratch.credentials.length ? categoryGap(scratch.credentials) : undefined;
    // An allow-list that did not cover the command says why, so the agent does not guess.
    return { decision: defaultDeny(kube, scratch.commandMiss ?? hint), matched, limited: [] };
  }
  // Refused before any review opens or any budget is counted: nothing would run.
  for (const rule of justified) {
    const gap = rule.justification && justificationGap(rule.justification, principal.justification);
    if (gap) {
      // What a valid one leads to, so the caller (and `kubectl auth can-i`, `k8s_can_i`) knows what to expect.
      const then =
        winner.effect === "review"
          ? `with one, it is held for a review by policy ${winner.policy} rule ${winner.name}`
          : `with one, it is allowed by policy ${winner.policy} rule ${winner.name}`;
      return {
        decision: {
          effect: "deny",
          policy: rule.policy,
          rule: rule.name,
          message: `${gap} (${then})`,
          justification: true,
        },
        matched,
        limited: [],
      };
    }
  }
  if (limited.length && opts.limiter && !opts.replay) {
    const charges = limited.map((rule) => ({ rule, cost: 1 }));
    const refused = admitCharges(opts.limiter, principal, charges, input.now);
    if (refused) return { decision: refused, matched, limited };
  }
  // Tokens and certificates in an allowed answer are masked unless the rule says `mask: none`.
  const sensitiveMask = scratch.credentials?.length ? "default" : undefined;
  const ports = winner.ports ? { ports: winner.ports } : {};
  if (winner.effect === "review" && winner.review) {
    const mask = winner.mask ?? allow?.mask ?? sensitiveMask;
    return {
      decision: {
        effect: "review",
        policy: winner.policy,
        rule: winner.name,
        message: reviewNote ? `${winner.message} (${reviewNote})` : winner.message,
        review: winner.review,
        ...(mask ? { mask } : {}),
        ...ports,
      },
      matched,
      limited,
    };
  }
  return {
    decision: {
      effect: "allow",
      policy: winner.policy,
      rule: winner.name,
      ...((winner.mask ?? sensitiveMask) ? { mask: winner.mask ?? sensitiveMask } : {}),
      ...ports,
    },
    matched,
    limited,
  };
}

/** The resulting object of a write, when the gateway loaded it (server-side dry run). */
function resultOf(kube: KubeRequest): unknown {
  return hasResultingObject(kube) ? kube.object : undefined;
}

const SELF_REVIEWS = new Set([
  "authentication.k8s.io/selfsubjectreviews",
  "authorization.k8s.io/selfsubjectaccessreviews",
  "authorization.k8s.io/selfsubjectrulesreviews",
]);

export function isSelfReview(kube: KubeRequest): boolean {
  const { info } = kube;
  return (
    info.isResourceRequest &&
    kube.action === "create" &&
    info.subresource === "" &&
    info.name === "" &&
    SELF_REVIEWS.has(`${info.apiGroup}/${info.resource}`)
  );
}

/** The ports a port-forward asks for in its query (`ports=80,443` or repeated); undefined when one is not a port. */
export function requestedPorts(kube: KubeRequest): number[] | undefined {
  const out: number[] = [];
  for (const value of kube.query.getAll("ports")) {
    for (const part of value.split(",")) {
      const text = part.trim();
      // kubectl's LOCAL:REMOTE form never reaches the server; a bare decimal port does.
      if (!/^[0-9]{1,5}$/.test(text)) return undefined;
      const port = Number(text);
      if (port < 1 || port > 65535) return undefined;
      out.push(port);
    }
  }
  return out;
}

/** Why a matching allow/review rule may not decide this request; undefined when it may. */
function permissionGap(rule: CompiledRule, input: EvalInput, scratch: EvalScratch): string | undefined {
  const { kube } = input;
  if (kube.action === "portforward") {
    if (!rule.ports) {
      return `port-forward carries bytes Airlock cannot read, so only a rule that names its ports allows it (ports: [80]); rule ${rule.policy}/${rule.name} names none`;
    }
    const asked = requestedPorts(kube);
    if (!asked) return "the ports query parameter is not a list of port numbers";
    const outside = asked.filter((p) => !rule.ports?.includes(p));
    if (outside.length) {
      return `port ${outside.join(", ")} is not among the ports rule ${rule.policy}/${rule.name} allows (${rule.ports.join(", ")})`;
    }
  }
  scratch.credentials ??= credentialFindings(kube, resultOf(kube));
  const findings = scratch.credentials;
  const missing = findings.filter(
    (f) =>
      !rule.credentials?.has(f.class) && !(f.class === "bindings" && f.roleRef && rule.bindable?.(f.roleRef)),
  );
  if (!missing.length) return undefined;
  return `${categoryGap(missing)} (rule ${rule.policy}/${rule.name} would allow it otherwise)`;
}

function categoryGap(findings: CredentialFinding[]): string {
  const classes = [...new Set(findings.map((f) => f.class))];
  const binding = findings.find((f) => f.class === "bindings" && f.roleRef);
  const orBind = binding?.roleRef
    ? ` or list the role in bindableRoles: [${binding.roleRef.kind}/${binding.roleRef.name}]`
    : "";
  return (
    `it is in Airlock's built-in category "credentials" (${findings.map((f) => `${f.class}: ${f.reason}`).join("; ")}), ` +
    `which "*" never covers: allow it with a rule that names it, credentials: [${classes.join(", ")}]${orBind}`
  );
}

function withheldDeny(kube: KubeRequest, withheld: { rule?: CompiledRule; gap: string }): Decision {
  return {
    effect: "deny",
    policy: "builtin",
    rule: kube.action === "portforward" ? "portforward-ports" : "credentials",
    message: `${kube.action} ${describeRequestTarget(kube)} is not allowed: ${withheld.gap}`,
  };
}

/** How strict a rule's masking is: a named profile (2), the identity's default (1), break-glass `none` (0). */
function maskRank(mask: string | undefined): number {
  return mask === undefined ? 1 : mask === "none" ? 0 : 2;
}

export function defaultDeny(kube: KubeRequest, why?: string): Decision {
  return {
    effect: "deny",
    policy: "default",
    rule: "default-deny",
    message: `no policy allows ${kube.action} ${describeRequestTarget(kube)}${why ? `: ${why}` : ""}`,
  };
}

/** A deny rule's message, with why its commandMatches matched ("it runs `rm`", "could not be resolved…"). */
function withNote(rule: CompiledRule, scratch: EvalScratch): string {
  return scratch.commandNote ? `${rule.message} (${scratch.commandNote})` : rule.message;
}
