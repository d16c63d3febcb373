// The shapes the policy engine passes around once documents are loaded: compiled rules, loaded policy sets and the
// raw documents other engines (masking) pick up. Validated input shapes are in schema.ts.
import type { Principal } from "../identity/types.ts";
import type { CompiledCel } from "./cel.ts";
import type { ReviewRequirement } from "./decision.ts";
import type { PolicyDocument } from "./schema.ts";

/** Where a document came from, for error messages and `GET /airlock/v1/policies`. */
export interface DocumentSource {
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  /** True for files in the managed directory (<dataDir>/policies), which the admin API may change. */
  managed: boolean;
}

/** Per-request facts computed at most once, whichever rules ask for them. */
export interface EvalScratch {
  labels?: Record<string, string>;
  /** Set while working out which objects to load (objectNeeds): a name only the resulting object knows matches. */
  planning?: boolean;
  /** What the exec argv runs (or, for a stdin line under `exec.stdin: inspect`, what the line runs). */
  analysis?: import("./shell.ts").CommandAnalysis;
  /** Why the last commandMatches matcher decided as it did ("runs rm", "could not be resolved…"), for messages. */
  commandNote?: string;
  /** Set while finding which `stdin: inspect` rules apply to an exec: commandMatches is not asked. */
  skipCommand?: boolean;
  /** Set while a stdin line is checked (the line is not a tty session). */
  inspectingLine?: boolean;
  /** The first allow rule whose commandMatches did not cover the command, and why (for the default-deny message). */
  commandMiss?: string;
  /** The request's classes in the built-in `credentials` category (credentials.ts). */
  credentials?: import("./credentials.ts").CredentialFinding[];
  bindings?: import("./cel.ts").CelBindings;
}

export type StaticMatcher = ((input: EvalInput, scratch: EvalScratch) => boolean) & {
  /** The rule field it checks (cluster, resource, namespace, name, label, exec…), for explanations. */
  field?: string;
};

export interface EvalInput {
  principal: Principal;
  kube: import("../kube/request.ts").KubeRequest;
  /** Milliseconds since the epoch: the evaluation's clock (rate limits, `time` in CEL). */
  now: number;
  /** Per-object decisions (list items, objects a deletecollection removes, objects.ts): the stored object's labels,
   *  which `labelSelector` then reads instead of the request's. */
  objectLabels?: Readonly<Record<string, string>>;
}

export interface CompiledRule {
  /** Position in the whole set (policies by name, rules in file order): the tie-breaker. */
  order: number;
  policy: string;
  /** Index of the policy in the set, for per-request subject caching. */
  policyIndex: number;
  name: string;
  effect: "allow" | "deny" | "review";
  message: string;
  mask?: string;
  review?: ReviewRequirement;
  rateLimit?: { requests: number; perMs: number; per: string };
  /** `justification: { required, pattern }`: every matching allow/review rule's requirement applies (evaluate.ts). */
  justification?: import("./justification.ts").JustificationRule;
  /** Verbs (or "*"), for the index. */
  verbs: readonly string[];
  /** Resource names the rule can match (undefined: any), for the index. */
  resourceKeys?: readonly string[];
  subjects?: (p: Principal) => boolean;
  /** Matchers on what every request and its audit record carry (cluster, target, exec argv). */
  matchers: readonly StaticMatcher[];
  /** Matchers on the body or on request details the audit log does not keep (labels, exec container/tty/stdin). */
  dataMatchers: readonly StaticMatcher[];
  when?: CompiledCel;
  /** What the rule reads of the objects a write is about (loaded from the cluster only when a candidate rule does). */
  reads: { object: boolean; oldObject: boolean; labels: boolean; name: boolean };
  /** `exec.stdin: inspect`: lines piped into a shell are checked against this rule (src/gateway/stdin-inspect.ts). */
  inspectStdin?: boolean;
  /** The rule's verdict depends on the body / on request data the audit log does not keep (for what-if). */
  needsBody: boolean;
  needsQuery: boolean;
  /** The verdict can differ between the objects one list or deletecollection reaches (namespaces, names, labels,
   *  CEL): such requests are decided object by object (objects.ts). */
  objectScoped: boolean;
  /** Classes of the `credentials` category this rule may allow (never implied by a wildcard). */
  credentials?: ReadonlySet<string>;
  /** Whether a binding to this role is allowed by the rule (`bindableRoles`). */
  bindable?: (ref: import("./credentials.ts").RoleRef) => boolean;
  /** Port-forward: the ports the rule allows; a rule without it never allows a port-forward. */
  ports?: readonly number[];
}

export interface CompiledPolicy {
  name: string;
  source: DocumentSource;
  subjects: (p: Principal) => boolean;
  rules: CompiledRule[];
  document: PolicyDocument;
}

/** A document of a kind another engine owns (MaskingProfile), passed through as read. */
export interface RawDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
  spec: unknown;
  source: DocumentSource;
}

/** Everything loaded from the configured files and directories, validated and compiled: all or nothing. */
export interface LoadedSet {
  policies: CompiledPolicy[];
  maskingProfiles: RawDocument[];
  files: string[];
  loadedAt: string;
}
