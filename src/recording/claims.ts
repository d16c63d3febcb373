// Client claims against what the gateway decoded (issue 14 §3). `Kubectl-Command`, `Kubectl-Session` and the user
// agent are whatever the client chose to send: a DELETE sent with `Kubectl-Command: kubectl get` must be listed as a
// delete, with the claim flagged. Pure and table-tested (test/recording/claims.test.ts).
//
// The check is deliberately coarse: each kubectl command has the actions it can cause (its reads, plus the writes
// and streams it exists for); a decoded action outside that set is a mismatch. A command Airlock does not know, or
// no claim at all, is never a mismatch: there is nothing to contradict, and the summary shows the decoded actions
// anyway.

const READS = ["get", "list", "watch"];
const WRITES = ["create", "update", "patch", "delete", "deletecollection"];

/** kubectl subcommand → the actions it may cause besides reads. */
const MAY: Record<string, string[]> = {
  get: [],
  describe: [],
  explain: [],
  "api-resources": [],
  "api-versions": [],
  version: [],
  "cluster-info": [],
  top: [],
  events: [],
  wait: [],
  logs: [],
  auth: ["create"], // can-i and whoami create SelfSubject*Reviews
  exec: ["exec"],
  attach: ["attach"],
  cp: ["exec"],
  "port-forward": ["portforward"],
  proxy: [...WRITES],
  delete: ["delete", "deletecollection"],
  debug: [...WRITES, "attach", "exec"],
  run: [...WRITES, "attach"],
  drain: [...WRITES],
};
for (const write of [
  "apply",
  "create",
  "replace",
  "edit",
  "patch",
  "label",
  "annotate",
  "set",
  "scale",
  "autoscale",
  "rollout",
  "expose",
  "taint",
  "cordon",
  "uncordon",
  "diff",
  "certificate",
])
  MAY[write] = [...WRITES];

/** Read-only actions every command may take (discovery, the object before a write). */
const ALWAYS = new Set(READS);
/** Auth's creates are only of self-reviews. */
const SELF_REVIEWS = /^selfsubject(access|rules)?reviews$/;

/** The kubectl subcommand a `Kubectl-Command` value names ("kubectl get" → "get"), or undefined. */
export function claimedSubcommand(claim: string): string | undefined {
  const words = claim.trim().split(/\s+/);
  if (words[0] !== "kubectl" || !words[1]) return undefined;
  return words[1];
}

/**
 * Why the decoded `action` on `resource` contradicts the claimed command, or undefined when it does not (or the
 * claim names nothing Airlock knows).
 */
export function claimMismatch(
  claim: string | undefined,
  action: string,
  resource: string,
): string | undefined {
  if (!claim) return undefined;
  const sub = claimedSubcommand(claim);
  if (!sub) return undefined;
  const may = MAY[sub];
  if (!may) return undefined;
  if (ALWAYS.has(action) || may.includes(action)) {
    if (sub === "auth" && action === "create" && !SELF_REVIEWS.test(resource.split(/[/.]/)[0] ?? ""))
      return `claimed "kubectl auth" but sent create ${resource}`;
    return undefined;
  }
  return `claimed "kubectl ${sub}" but sent ${action} ${resource}`;
}
