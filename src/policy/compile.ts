// Validated Policy documents → compiled rules: globs, selectors, exec matchers and CEL built once, so evaluation
// never parses anything. Pure.
//
// Matching semantics (docs/policy.md "Rule matching") are decided here, field by field; an absent field matches
// anything. Errors (bad CEL, bad regular expressions) are returned with the field path, never thrown.
import type { Principal } from "../identity/types.ts";
import { parseDuration } from "../shared/duration.ts";
import { compileCel } from "./cel.ts";
import { anyGlob, compileGlob, compileGlobList, type Glob } from "./glob.ts";
import { compileJustificationPattern } from "./justification.ts";
import { createdName, writtenObjectLabels } from "./objects.ts";
import type { PolicyDocument, RuleSpec, SubjectSpec } from "./schema.ts";
import { compileSelector, requestLabels } from "./selector.ts";
import { analyzeCommand, type CommandAnalysis } from "./shell.ts";
import type {
  CompiledPolicy,
  CompiledRule,
  DocumentSource,
  EvalInput,
  EvalScratch,
  StaticMatcher,
} from "./types.ts";

export interface FieldError {
  path: (string | number)[];
  message: string;
}

const ACTIONS_WITH_SUBRESOURCE = new Set(["exec", "attach", "portforward", "proxy"]);

/**
 * Non-resource paths an allow rule without `nonResourceURLs` still matches: discovery, version, OpenAPI and the
 * readiness probes kubectl and client libraries need. Anything else (`/logs`, `/debug/pprof`, `/metrics`…) must be
 * named by a rule's `nonResourceURLs` (docs/policy.md "Non-resource requests").
 */
export const DEFAULT_NON_RESOURCE_URLS = [
  "/api",
  "/api/*",
  "/apis",
  "/apis/*",
  "/version",
  "/openapi/v2",
  "/openapi/v3",
  "/openapi/v3/*",
  "/healthz",
  "/livez",
  "/readyz",
] as const;
const defaultNonResource = compileGlobList([...DEFAULT_NON_RESOURCE_URLS]);

/** A request on a Namespace object (`/api/v1/namespaces/x[/status|/finalize]`): RequestInfo gives it namespace x. */
export function isNamespaceObject(info: { apiGroup: string; resource: string; name: string }): boolean {
  return info.apiGroup === "" && info.resource === "namespaces" && info.name !== "";
}

/** Names the rule field a matcher checks, for `policy test`'s explanations (explain.ts). */
function tag(field: string, matcher: StaticMatcher): StaticMatcher {
  return Object.assign(matcher, { field });
}

export function compileSubjects(specs: readonly SubjectSpec[]): (p: Principal) => boolean {
  const compiled = specs.map((s) => {
    const identity = s.identity === undefined ? undefined : compileGlob(s.identity);
    const group = s.group === undefined ? undefined : compileGlob(s.group);
    const labels = s.labelSelector ? compileSelector(s.labelSelector) : undefined;
    return (p: Principal) =>
      (!identity || identity.test(p.name)) &&
      (!group || p.groups.some((g) => group.test(g))) &&
      (!s.kind || s.kind === p.kind) &&
      (!labels || labels(p.labels));
  });
  return (p) => compiled.some((c) => c(p));
}

interface ResourcePattern {
  resource: Glob;
  group?: Glob;
  /** undefined: the resource itself; "*": any subresource; else that subresource. */
  sub?: string;
  key: string;
}

/** `pods`, `pods/exec`, `pods/*`, `*`, `*​/scale`, `deployments.apps`, `deployments.apps/scale`. */
export function parseResourcePattern(text: string): ResourcePattern {
  const slash = text.indexOf("/");
  const main = slash < 0 ? text : text.slice(0, slash);
  const sub = slash < 0 ? undefined : text.slice(slash + 1);
  if (main === "*" && sub === undefined) return { resource: compileGlob("*"), sub: "**", key: "*" };
  const dot = main.indexOf(".");
  const resource = dot < 0 ? main : main.slice(0, dot);
  const group = dot < 0 ? undefined : main.slice(dot + 1);
  const pattern: ResourcePattern = {
    resource: compileGlob(resource),
    key: resource.includes("*") ? "*" : resource,
  };
  if (group !== undefined) pattern.group = compileGlob(group);
  if (sub !== undefined) pattern.sub = sub;
  return pattern;
}

/**
 * `pods` in an allow rule is the pod itself (plus `pods/exec` etc. when the rule's verbs name that action); in a deny
 * or review rule it is the pod and every subresource of it (fail closed: a deny on pods also stops
 * pods/ephemeralcontainers, pods/eviction, pods/exec…). `wide` selects the second reading.
 */
function resourceMatches(
  p: ResourcePattern,
  resource: string,
  group: string,
  sub: string,
  action: string,
  wide: boolean,
  namedActions: ReadonlySet<string>,
): boolean {
  if (!p.resource.test(resource)) return false;
  if (p.group && !p.group.test(group)) return false;
  if (p.sub === "**") return true;
  if (p.sub === undefined) return sub === "" || wide || (namedActions.has(action) && sub === action);
  if (p.sub === "*") return sub !== "";
  return p.sub === sub;
}

/** The exec argv's analysis, computed once per request (or preset: a stdin line under `exec.stdin: inspect`). */
export function execAnalysis(kube: EvalInput["kube"], scratch: EvalScratch): CommandAnalysis {
  scratch.analysis ??= analyzeCommand(kube.exec?.command ?? []);
  return scratch.analysis;
}

/** Why a tty session under an `exec.stdin: inspect` rule counts as unresolved. */
export const TTY_UNRESOLVED = "interactive terminal (tty): the gateway cannot know which typed line runs";

/**
 * commandMatches, fail closed (docs/policy.md "commandMatches"): for deny and review rules it matches when any
 * program is listed or, unless the rule says `unresolved: allow`, when what runs cannot be known; for allow rules it
 * matches only when every program is known and listed. `scratch.commandNote` says why, for the decision message.
 */
function commandMatcher(
  globs: Glob[],
  effect: RuleSpec["effect"],
  unresolved: "deny" | "allow",
  inspect: boolean,
  label: string,
): StaticMatcher {
  return ({ kube }, scratch) => {
    if (scratch.skipCommand) return true;
    const analysis = execAnalysis(kube, scratch);
    const reasons = [...analysis.unresolved];
    if (inspect && kube.exec?.tty && kube.exec.stdin && !scratch.inspectingLine) reasons.push(TTY_UNRESOLVED);
    if (effect === "allow") {
      const unlisted = analysis.programs.filter((p) => !anyGlob(globs, p));
      let miss: string | undefined;
      if (analysis.programs.length === 0) miss = "it runs no program the gateway can name";
      else if (unlisted.length)
        miss = `it runs ${unlisted.map((p) => `\`${p}\``).join(", ")}, which the rule does not list`;
      else if (reasons.length && unresolved === "deny")
        miss = `the command could not be resolved statically: ${reasons[0]}`;
      if (miss) scratch.commandMiss ??= `rule ${label} allows only listed programs, and ${miss}`;
      return miss === undefined;
    }
    const listed = analysis.programs.find((p) => anyGlob(globs, p));
    if (listed !== undefined) {
      scratch.commandNote = `it runs \`${listed}\``;
      return true;
    }
    if (reasons.length && unresolved === "deny") {
      scratch.commandNote = `the command could not be resolved statically: ${reasons[0]}`;
      return true;
    }
    return false;
  };
}

function execMatchers(
  spec: NonNullable<RuleSpec["exec"]>,
  effect: RuleSpec["effect"],
  label: string,
  errors: FieldError[],
): { plain: StaticMatcher[]; data: StaticMatcher[] } {
  const out: StaticMatcher[] = [(i) => i.kube.exec !== undefined];
  const data: StaticMatcher[] = [];
  if (spec.command) {
    const globs = spec.command.map(compileGlob);
    out.push(({ kube }) => {
      const argv = kube.exec?.command ?? [];
      if (argv.length < globs.length) return false;
      return globs.every((g, n) => {
        const word = argv[n] ?? "";
        return g.test(word) || (n === 0 && g.test(word.slice(word.lastIndexOf("/") + 1)));
      });
    });
  }
  if (spec.commandRegex !== undefined) {
    try {
      const re = new RegExp(spec.commandRegex);
      out.push(({ kube }) => re.test((kube.exec?.command ?? []).join(" ")));
    } catch (err) {
      errors.push({
        path: ["exec", "commandRegex"],
        message: `not a regular expression: ${(err as Error).message}`,
      });
    }
  }
  if (spec.commandMatches) {
    const globs = spec.commandMatches.map(compileGlob);
    out.push(commandMatcher(globs, effect, spec.unresolved ?? "deny", spec.stdin === "inspect", label));
  } else if (spec.unresolved !== undefined) {
    errors.push({ path: ["exec", "unresolved"], message: "unresolved needs commandMatches" });
  }
  if (spec.containers) {
    const globs = spec.containers.map(compileGlob);
    data.push(({ kube }) => anyGlob(globs, kube.exec?.container ?? ""));
  }
  if (spec.tty !== undefined) data.push(({ kube }) => kube.exec?.tty === spec.tty);
  // `inspect` does not narrow the rule: it applies to every exec, and to each line piped into its shell.
  if (typeof spec.stdin === "boolean") data.push(({ kube }) => kube.exec?.stdin === spec.stdin);
  return { plain: out, data };
}

function compileRule(
  spec: RuleSpec,
  policy: string,
  policyIndex: number,
  order: number,
  errors: FieldError[],
): CompiledRule {
  const ruleErrors: FieldError[] = [];
  const matchers: StaticMatcher[] = [];
  if (spec.clusters) {
    const globs = spec.clusters.map(compileGlob);
    matchers.push(tag("cluster", ({ kube }) => anyGlob(globs, kube.cluster)));
  }
  const resourceScoped = spec.resources || spec.apiGroups || spec.namespaces || spec.names;
  const wide = spec.effect !== "allow";
  if (resourceScoped) matchers.push(tag("resource", ({ kube }) => kube.info.isResourceRequest));
  else if (!spec.nonResourceURLs && !wide) {
    // An allow rule that names no resources matches resource requests and, of the non-resource ones, only
    // discovery: /logs, /debug/pprof, /metrics must be named by nonResourceURLs.
    matchers.push(
      tag(
        "nonResourceURL",
        ({ kube }) => kube.info.isResourceRequest || defaultNonResource.test(kube.info.path),
      ),
    );
  }
  if (spec.nonResourceURLs) {
    const globs = spec.nonResourceURLs.map(compileGlob);
    matchers.push(
      tag("nonResourceURL", ({ kube }) => !kube.info.isResourceRequest && anyGlob(globs, kube.info.path)),
    );
  }
  if (spec.apiGroups) {
    const globs = spec.apiGroups.map(compileGlob);
    matchers.push(tag("apiGroup", ({ kube }) => anyGlob(globs, kube.info.apiGroup)));
  }
  let resourceKeys: string[] | undefined;
  if (spec.resources) {
    const patterns = spec.resources.map(parseResourcePattern);
    resourceKeys = patterns.some((p) => p.key === "*") ? undefined : patterns.map((p) => p.key);
    const namedActions = new Set(spec.verbs.filter((v) => ACTIONS_WITH_SUBRESOURCE.has(v)));
    matchers.push(
      tag("resource", ({ kube }) => {
        const { resource, apiGroup, subresource } = kube.info;
        return patterns.some((p) =>
          resourceMatches(p, resource, apiGroup, subresource, kube.action, wide, namedActions),
        );
      }),
    );
  }
  if (spec.namespaces) {
    const list = compileGlobList(spec.namespaces.filter((n) => n !== "*"));
    // `*` means "any namespace", not "cluster-scoped too": only "" names cluster-scoped requests.
    const any = spec.namespaces.includes("*");
    // A Namespace object is cluster-scoped for an allow rule unless the rule names `namespaces` itself, so
    // `namespaces: ["*"]` does not let an agent relabel namespace default; deny and review rules keep the
    // apiserver's reading (namespace prod's object is in prod) and so still cover it.
    const namesNamespaces = (spec.resources ?? []).some((r) => /^namespaces(?:$|\/|\.)/.test(r));
    const objectIsScoped = wide || namesNamespaces;
    matchers.push(
      tag("namespace", ({ kube }) => {
        const ns = !objectIsScoped && isNamespaceObject(kube.info) ? "" : kube.info.namespace;
        return (any && ns !== "") || list.test(ns);
      }),
    );
  }
  if (spec.names) {
    const any = spec.names.includes("*");
    const list = compileGlobList(spec.names);
    matchers.push(
      tag("name", ({ kube }, scratch) => {
        // A create names its object in the body (or, for a body the gateway cannot read, the resulting object).
        const name = createdName(kube) ?? kube.info.name;
        if (name === undefined) return scratch.planning === true || spec.effect !== "allow";
        return any ? name !== "" : list.test(name);
      }),
    );
  }
  // Matchers that read the body or request details the audit log lacks are kept apart (what-if stops before them).
  const dataMatchers: StaticMatcher[] = [];
  if (spec.labelSelector) {
    const selector = compileSelector(spec.labelSelector);
    dataMatchers.push(
      tag("label", (input, scratch) => {
        const { kube } = input;
        // Per-object decisions (list items, objects a deletecollection removes: collections.ts) read that object.
        if (input.objectLabels) return selector(input.objectLabels);
        const written = writtenObjectLabels(kube);
        if (!written) {
          scratch.labels ??= requestLabels(kube.body, kube.info.labelSelector);
          return selector(scratch.labels);
        }
        // A write is judged on the objects, never on the body (a DeleteOptions or a patch carrying labels proves
        // nothing): an allow needs the stored object AND the resulting one to match, a deny or review either.
        if (written === "unknown") return spec.effect !== "allow";
        return spec.effect === "allow"
          ? written.length > 0 && written.every((l) => selector(l))
          : written.some((l) => selector(l));
      }),
    );
  }
  if (spec.exec) {
    const exec = execMatchers(spec.exec, spec.effect, `${policy}/${spec.name}`, ruleErrors);
    matchers.push(...exec.plain.map((m) => tag("exec", m)));
    dataMatchers.push(...exec.data.map((m) => tag("exec", m)));
  }
  let when: CompiledRule["when"];
  if (spec.when !== undefined) {
    const cel = compileCel(spec.when);
    if (cel.ok) when = cel.cel;
    else ruleErrors.push({ path: ["when"], message: cel.error });
  }
  errors.push(...ruleErrors);
  const rule: CompiledRule = {
    reads: {
      object: Boolean(when?.readsObject),
      oldObject: Boolean(when?.readsOldObject),
      labels: Boolean(spec.labelSelector),
      name: Boolean(spec.names),
    },
    order,
    policy,
    policyIndex,
    name: spec.name,
    effect: spec.effect,
    message: spec.message ?? defaultMessage(spec),
    verbs: spec.verbs,
    matchers,
    dataMatchers,
    needsBody: Boolean(spec.labelSelector) || Boolean(when?.readsObject) || Boolean(when?.readsOldObject),
    needsQuery: dataMatchers.length > 0 || Boolean(when?.readsQuery),
    objectScoped: Boolean(spec.namespaces || spec.names || spec.labelSelector || when),
  };
  if (resourceKeys) rule.resourceKeys = resourceKeys;
  if (spec.exec?.stdin === "inspect") rule.inspectStdin = true;
  if (spec.subjects) rule.subjects = compileSubjects(spec.subjects);
  if (spec.mask) rule.mask = spec.mask;
  if (when) rule.when = when;
  if (spec.review) {
    rule.review = {
      approvers: { identities: spec.review.approvers.identities, groups: spec.review.approvers.groups },
      approvals: spec.review.approvals,
      mode: spec.review.mode,
      timeoutSeconds: Math.ceil((parseDuration(spec.review.timeout) ?? 600_000) / 1000),
    };
  }
  if (spec.credentials) rule.credentials = new Set(spec.credentials);
  if (spec.bindableRoles) {
    const roles = spec.bindableRoles.map((r) => {
      const slash = r.indexOf("/");
      return slash < 0 ? { kind: undefined, name: r } : { kind: r.slice(0, slash), name: r.slice(slash + 1) };
    });
    // A bare name is a ClusterRole: a namespaced Role of that name may be one an agent wrote itself, so a Role must
    // be named with its kind (`Role/web-reader`).
    rule.bindable = (ref) => roles.some((r) => r.name === ref.name && (r.kind ?? "ClusterRole") === ref.kind);
  }
  if (spec.ports) rule.ports = [...new Set(spec.ports)];
  if (spec.justification) {
    const { required, pattern } = spec.justification;
    // The schema refused a pattern that does not compile or whose cost is unbounded (justification.ts).
    const compiled = pattern === undefined ? undefined : compileJustificationPattern(pattern);
    rule.justification = compiled?.ok
      ? { required, pattern: { source: pattern as string, regex: compiled.regex } }
      : { required };
  }
  if (spec.rateLimit) {
    rule.rateLimit = {
      requests: spec.rateLimit.requests,
      perMs: parseDuration(spec.rateLimit.per) ?? 3_600_000,
      per: spec.rateLimit.per,
    };
  }
  return rule;
}

function defaultMessage(spec: RuleSpec): string {
  if (spec.effect === "deny") return `rule ${spec.name} forbids it`;
  if (spec.effect === "review") return `rule ${spec.name} requires a review`;
  return `allowed by rule ${spec.name}`;
}

/** Compiles one validated document; `order` is the position of its first rule in the whole set. */
export function compilePolicy(
  doc: PolicyDocument,
  source: DocumentSource,
  policyIndex: number,
  order: number,
): { ok: true; policy: CompiledPolicy } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const rules = doc.spec.rules.map((spec, i) => {
    const ruleErrors: FieldError[] = [];
    const rule = compileRule(spec, doc.metadata.name, policyIndex, order + i, ruleErrors);
    for (const e of ruleErrors) errors.push({ path: ["spec", "rules", i, ...e.path], message: e.message });
    return rule;
  });
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      name: doc.metadata.name,
      source,
      subjects: compileSubjects(doc.spec.subjects),
      rules,
      document: doc,
    },
  };
}
