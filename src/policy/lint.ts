// `airlock policy lint` warnings: rules that load fine but may not protect what their author thinks (issue 13 §6).
// Each warning has a stable id (docs/policy.md "Lint warnings" lists them), names the policy and rule, and says what
// to change. Pure: reads the validated documents only.
import type { RuleSpec } from "./schema.ts";
import type { LoadedSet } from "./types.ts";

export interface LintWarning {
  id: string;
  file: string;
  policy: string;
  rule: string;
  message: string;
}

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"];
const NAMELESS_VERBS = ["list", "watch", "create", "deletecollection"];
const POD_SUBRESOURCES = ["exec", "attach", "portforward", "ephemeralcontainers", "eviction", "proxy"];
const SCALABLE = ["deployments", "replicasets", "statefulsets", "replicationcontrollers"];

const has = (verbs: readonly string[], verb: string) => verbs.includes("*") || verbs.includes(verb);
const resourceOf = (pattern: string) => (pattern.split("/")[0] ?? "").split(".")[0] ?? "";
const subOf = (pattern: string) =>
  pattern.includes("/") ? pattern.slice(pattern.indexOf("/") + 1) : undefined;

type Check = (r: RuleSpec) => { id: string; message: string }[];

/** labelSelector on writes: matched against objects, not the request body. */
const labelSelectorOnWrites: Check = (r) => {
  const writes = WRITE_VERBS.filter((v) => has(r.verbs, v));
  if (!r.labelSelector || writes.length === 0) return [];
  return [
    {
      id: "label-selector-on-write",
      message:
        `labelSelector on ${writes.join(", ")} is matched against the objects the request touches (the stored object, ` +
        "and for allow rules also the resulting one), not the labels written in the request; to test what the body " +
        "says, use `when:` on `object` instead, and keep the selector only if both readings are what you mean",
    },
  ];
};

/** names on verbs whose path carries no name. */
const namesWithoutName: Check = (r) => {
  if (!r.names) return [];
  const nameless = NAMELESS_VERBS.filter((v) => has(r.verbs, v));
  if (nameless.length === 0) return [];
  const parts: string[] = [];
  if (nameless.includes("create")) {
    parts.push(
      "a create has no name in its path, so names never matches it: use `when: object.metadata.name in [...]`",
    );
  }
  const collection = nameless.filter((v) => v !== "create");
  if (collection.length) {
    parts.push(
      `${collection.join(", ")} name no object: names is checked on each item (lists and watches leave out items a deny names; a deletecollection is refused if it would delete one), and an allow rule with names never allows the collection request itself`,
    );
  }
  return [{ id: "names-without-name", message: `names with ${nameless.join(", ")}: ${parts.join("; ")}` }];
};

/** A namespace-limited deny on list/watch: lists across namespaces are filtered, not refused. */
const namespaceDenyOnLists: Check = (r) => {
  if (r.effect === "allow" || !r.namespaces || r.namespaces.includes("*")) return [];
  const reads = ["list", "watch"].filter((v) => has(r.verbs, v));
  if (reads.length === 0) return [];
  return [
    {
      id: "namespace-deny-on-list",
      message:
        `this ${r.effect} rule is limited to namespaces [${r.namespaces.join(", ")}]: a ${reads.join("/")} in one of them is refused, ` +
        "but one across namespaces (kubectl get -A, --watch) is allowed with their items left out, item by item; " +
        "nothing to change if that is what you mean",
    },
  ];
};

/** Rules on pods and the pod subresources that do something else than the pod itself. */
const podSubresources: Check = (r) => {
  const pods = (r.resources ?? []).filter((p) => resourceOf(p) === "pods" && subOf(p) === undefined);
  if (pods.length === 0) return [];
  const named = new Set((r.resources ?? []).filter((p) => resourceOf(p) === "pods").map(subOf));
  if (named.has("*")) return [];
  if (r.effect === "allow") {
    const missing = POD_SUBRESOURCES.filter(
      (s) =>
        !named.has(s) && !(["exec", "attach", "portforward", "proxy"].includes(s) && r.verbs.includes(s)),
    );
    if (!r.verbs.includes("*") && !WRITE_VERBS.some((v) => r.verbs.includes(v))) return [];
    return [
      {
        id: "pods-subresources",
        message:
          `resources: [pods] in an allow rule does not cover pods/${missing.join(", pods/")}: each is a separate ` +
          "power (a shell, a debug container that may be privileged, an eviction that deletes the pod); name the ones you mean",
      },
    ];
  }
  // A deny/review rule on pods covers its subresources, but only for the verbs it names.
  const gaps: string[] = [];
  if (!has(r.verbs, "patch") || !has(r.verbs, "update"))
    gaps.push("pods/ephemeralcontainers is changed with patch/update");
  if (!has(r.verbs, "create") && !has(r.verbs, "delete")) gaps.push("pods/eviction deletes a pod");
  if (!has(r.verbs, "exec") && !has(r.verbs, "attach"))
    gaps.push("pods/exec and pods/attach are the verbs exec/attach");
  if (gaps.length === 0) return [];
  return [
    {
      id: "pods-subresources",
      message: `this ${r.effect} rule on pods covers pod subresources only for its verbs [${r.verbs.join(", ")}]: ${gaps.join("; ")}; add those verbs if the rule is meant to stop them`,
    },
  ];
};

/** A rule about scaling that misses other kinds' scale subresources. */
const scaleWithoutWildcard: Check = (r) => {
  const resources = r.resources ?? [];
  const aboutScale = resources.some((p) => subOf(p) === "scale") || (r.when ?? "").includes("replicas");
  if (!aboutScale) return [];
  if (resources.length === 0 || resources.some((p) => p === "*" || p === "*/scale" || p === "*/*")) return [];
  const covered = new Set(resources.filter((p) => subOf(p) === "scale").map(resourceOf));
  const missing = SCALABLE.filter((k) => !covered.has(k));
  return [
    {
      id: "scale-without-wildcard",
      message:
        `this rule is about scaling but does not list "*/scale": ${missing.map((k) => `${k}/scale`).join(", ")}` +
        ' and custom resources\' scale subresources are not covered; add "*/scale" to resources',
    },
  ];
};

/** namespaces: ["*"] on writes no longer includes Namespace objects. */
const wildcardNamespacesOnWrites: Check = (r) => {
  if (r.effect !== "allow" || !r.namespaces?.includes("*")) return [];
  const writes = WRITE_VERBS.filter((v) => has(r.verbs, v));
  if (writes.length === 0) return [];
  const resources = r.resources ?? ["*"];
  if (!resources.some((p) => p === "*" || resourceOf(p) === "namespaces" || p.startsWith("*"))) return [];
  return [
    {
      id: "wildcard-namespaces-on-write",
      message:
        'namespaces: ["*"] means objects inside any namespace: it does not allow writing Namespace objects ' +
        "themselves (labelling namespace default with pod-security enforce=privileged, for one); if that is " +
        "meant, write a separate rule with resources: [namespaces] and names",
    },
  ];
};

/** Rules that name neither resources nor nonResourceURLs. */
const noTarget: Check = (r) => {
  if (r.resources || r.nonResourceURLs || r.exec) return [];
  const writes = WRITE_VERBS.filter((v) => has(r.verbs, v));
  const allowWrites =
    r.effect === "allow" && writes.length > 0
      ? " — with every subresource: pods/ephemeralcontainers (debug containers), pods/eviction, serviceaccounts/token…"
      : "";
  return [
    {
      id: "no-resources",
      message:
        r.effect === "allow"
          ? `names neither resources nor nonResourceURLs: it matches every resource${allowWrites} (and, of the ` +
            "non-resource URLs, only discovery: /api, /apis, /version, /openapi, /healthz, /livez, /readyz); list the resources you mean"
          : `names neither resources nor nonResourceURLs: this ${r.effect} rule matches every resource and every non-resource URL; list the resources you mean`,
    },
  ];
};

/** Secrets readable without masking. */
const unmaskedSecretReads: Check = (r) => {
  if (r.effect !== "allow" || r.mask) return [];
  if (!["get", "list", "watch"].some((v) => has(r.verbs, v))) return [];
  const resources = r.resources;
  const secrets = !resources || resources.some((p) => p === "*" || resourceOf(p) === "secrets");
  if (!secrets || r.nonResourceURLs) return [];
  return [
    {
      id: "unmasked-secret-reads",
      message:
        "allows reading Secrets without a masking profile: their values reach the caller; add `mask: default`",
    },
  ];
};

/** An argv deny that an interactive shell walks around. */
const execDenyWithoutStdin: Check = (r) => {
  if (r.effect === "allow" || !r.exec || r.exec.stdin !== undefined) return [];
  if (!r.exec.command && !r.exec.commandMatches && !r.exec.commandRegex) return [];
  return [
    {
      id: "exec-argv-only",
      message:
        "denies commands by argv, which cannot see what is typed into an interactive shell (kubectl exec -it … sh); " +
        "add a rule with `exec: { stdin: true }` if interactive shells must be ruled out too",
    },
  ];
};

/** A deny or review on list/watch but not get: `kubectl get NAME` still reads the object. */
const readVerbsSplit: Check = (r) => {
  if (r.effect === "allow" || r.verbs.includes("*") || r.nonResourceURLs) return [];
  const reads = ["get", "list", "watch"];
  const named = reads.filter((v) => r.verbs.includes(v));
  // A deny on get also hides the object from lists and watches (each item is read as a get of it).
  if (named.length === 0 || named.includes("get")) return [];
  const missing = reads.filter((v) => !named.includes(v));
  return [
    {
      id: "read-verbs-split",
      message: `this ${r.effect} rule names ${named.join(", ")} but not ${missing.join(", ")}: the same objects can be read with ${missing.join(" or ")} (kubectl get NAME is get, get without a name is list, -w is watch); add ${missing.join(", ")} to verbs`,
    },
  ];
};

const CHECKS: Check[] = [
  readVerbsSplit,
  labelSelectorOnWrites,
  namesWithoutName,
  namespaceDenyOnLists,
  podSubresources,
  scaleWithoutWildcard,
  wildcardNamespacesOnWrites,
  noTarget,
  unmaskedSecretReads,
  execDenyWithoutStdin,
];

export const LINT_IDS = [
  "read-verbs-split",
  "label-selector-on-write",
  "names-without-name",
  "namespace-deny-on-list",
  "pods-subresources",
  "scale-without-wildcard",
  "wildcard-namespaces-on-write",
  "no-resources",
  "unmasked-secret-reads",
  "exec-argv-only",
] as const;

export function lintSet(set: LoadedSet): LintWarning[] {
  const out: LintWarning[] = [];
  for (const policy of set.policies) {
    // Unmasked reads are a choice for policies about humans only (an on-call team); agents get the warning.
    const humansOnly = policy.document.spec.subjects.every((s) => s.kind === "human");
    for (const rule of policy.document.spec.rules) {
      const ruleHumans = rule.subjects?.every((s) => s.kind === "human") ?? false;
      for (const check of CHECKS) {
        if (check === unmaskedSecretReads && (humansOnly || ruleHumans)) continue;
        for (const w of check(rule)) {
          out.push({ ...w, file: policy.source.file, policy: policy.name, rule: rule.name });
        }
      }
    }
  }
  return out;
}
