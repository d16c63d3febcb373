// `airlock review`: the reviewer's side of held requests, through the admin API — list, show (with the dry-run diff
// and the event trail), approve (optionally granting a time-boxed permission), deny with a reason, and grants.
import { parseArgs } from "node:util";
import type { Grant, Review, ReviewEvent } from "../review/types.ts";
import {
  argvInline,
  argvLines,
  renderBlock,
  renderInline,
  renderName,
  terminalJson,
} from "../shared/render.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatAge,
  formatTable,
  parseDuration,
  resolveConnection,
  runCli,
  shown,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock review list [--state pending|approved|denied|expired|withdrawn|executed] [--json]
  airlock review show ID [--full] [--json]
  airlock review approve ID [--reason TEXT] [--grant 30m]
  airlock review deny ID --reason TEXT
  airlock review grants [--active] [--json]
  airlock review revoke-grant GRANT_ID

Reviews hold risky requests until a human reviewer named by the policy rule decides. Reviewers use a human
identity's token; the requester can never approve their own request. --grant lets the same identity run requests
with the same verb and resource in the same namespace for that long without another review.

'show' prints the request itself (method, path, each query parameter, Content-Type, exec flags and argv one
argument per line, the body) and the dry-run diff. Text the agent or the cluster controls is shown escaped: control,
bidi and invisible characters appear as markers such as ⟨\x1b⟩ or ⟨U+202E⟩, and long values are cut with a marker;
--full shows them uncut (still escaped). --json gives the exact values.

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  state: { type: "string" },
  reason: { type: "string" },
  grant: { type: "string" },
  active: { type: "boolean" },
  json: { type: "boolean" },
  full: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function target(r: Review): string {
  const q = r.request;
  const resource = q.subresource ? `${q.resource}/${q.subresource}` : q.resource;
  const name = [q.namespace, q.name].filter(Boolean).join("/");
  return `${q.apiGroup ? `${resource}.${q.apiGroup}` : resource}${name ? ` ${name}` : ""}`;
}

/** An argv for a table cell: the first arguments, quoted, and how many more there are. */
function argvShort(argv: string[]): string {
  const head = argvInline(argv.slice(0, 6), { max: 60 });
  return argv.length > 6 ? `${head} ⟨+${argv.length - 6} more arguments: see 'review show'⟩` : head;
}

export function reviewTable(items: Review[], now: number): string {
  return formatTable(
    ["ID", "STATE", "REQUESTER", "VERB", "TARGET", "APPROVALS", "AGE", "JUSTIFICATION (CLIENT SAYS)"],
    items.map((r) => [
      r.id,
      r.state,
      shown(renderName(r.requester.name, { max: 60 })),
      r.request.action,
      r.request.execCommand
        ? shown(`${renderInline(target(r), { max: 80 })}: ${argvShort(r.request.execCommand)}`)
        : target(r),
      `${r.approvals.length}/${r.requirement.approvals}`,
      formatAge(r.createdAt, now),
      // The requester's claim, cut short here; `review show` prints all of it.
      r.justification === null
        ? "-"
        : shown(renderInline(r.justification, { max: 60, more: "see 'review show'" })),
    ]),
  );
}

/** Shown lengths in `review show`; --full lifts them. */
const BODY_MAX = 8000;
const DIFF_MAX = 20_000;
const ARG_MAX = 2000;
const FIELD_MAX = 1000;

/**
 * `review show`: what the reviewer decides on. Every value the agent or the cluster controls follows the rendering
 * rule (src/shared/render.ts): controls, bidi and invisible characters are visible markers, argv is one quoted
 * argument per line, long values are cut with a marker naming `--full`, and what the client merely claims (its
 * justification) is labelled as such. The request itself (method, path, each query parameter, Content-Type, exec
 * flags, body) comes before the dry-run diff, and a failed preview says why.
 */
export function formatReview(review: Review, events: ReviewEvent[], opts: { full?: boolean } = {}): string {
  const q = review.request;
  const more = `run 'airlock review show ${review.id} --full' to see it all`;
  const lim = (max: number) => (opts.full ? {} : { max, more });
  const one = (text: string, max = FIELD_MAX) => renderInline(text, lim(max));
  const approvers = [
    ...review.requirement.approvers.identities.map((i) => renderName(i)),
    ...review.requirement.approvers.groups.map((g) => `group ${one(g)}`),
  ].join(", ");
  const lines = [
    `Review:        ${review.id}`,
    `State:         ${review.state}`,
    `Requested by:  ${renderName(review.requester.name)} (${review.requester.kind}) at ${review.createdAt}`,
    // The rest of the chain of who asked (issue 15): none of them may approve.
    ...(review.requester.onBehalfOf ? [`On behalf of:  ${renderName(review.requester.onBehalfOf)}`] : []),
    ...(review.requester.credentialId
      ? [
          `Credential:    ${one(review.requester.credentialId, 200)}${review.requester.sessionId ? ` (session ${one(review.requester.sessionId, 200)})` : ""}`,
        ]
      : []),
    `Justification: ${review.justification === null ? "(none given)" : `client says: ${one(review.justification, 2000)}`}`,
    `Cluster:       ${one(review.cluster)}`,
    `Policy:        ${one(review.policy)} rule ${one(review.rule)} (${review.requirement.mode}, expires ${review.expiresAt})`,
    `Approvers:     ${approvers || "(none)"}; ${review.requirement.approvals} approval(s) needed`,
    "",
    "The request, as the gateway decoded it:",
    `  Action:        ${one(q.action)} ${one(target(review))}`,
    `  Method:        ${one(q.method)}`,
    `  Path:          ${one(q.path)}`,
  ];
  const params = [...new URLSearchParams(q.query).entries()];
  if (params.length === 0) lines.push("  Query:         (none)");
  else {
    lines.push("  Query:         (one parameter per line)");
    for (const [k, v] of params) lines.push(`    ${one(k, 200)} = ${one(v)}`);
  }
  lines.push(`  Content-Type:  ${q.contentType ? one(q.contentType, 200) : "(none)"}`);
  if (q.exec) {
    const yes = (b: boolean) => (b ? "yes" : "no");
    lines.push(
      `  Exec:          container ${q.exec.container ? one(q.exec.container, 200) : "(default)"}; stdin ${yes(q.exec.stdin)}; tty ${yes(q.exec.tty)}; stdout ${yes(q.exec.stdout)}; stderr ${yes(q.exec.stderr)}`,
    );
  }
  if (q.execCommand) {
    lines.push(`  Command:       (argv, one argument per line, ${q.execCommand.length} in all)`);
    for (const arg of argvLines(q.execCommand, lim(ARG_MAX))) lines.push(`    ${arg}`);
  }
  lines.push(`  Body SHA-256:  ${q.bodySha256}`);
  for (const v of review.approvals)
    lines.push(`Approved by:   ${renderName(v.by)} at ${v.at}${v.reason ? `: ${one(v.reason)}` : ""}`);
  if (review.denial)
    lines.push(
      `Denied by:     ${renderName(review.denial.by)} at ${review.denial.at}: ${one(review.denial.reason)}`,
    );
  if (review.endedReason) lines.push(`Ended:         ${one(review.endedReason)}`);
  if (review.approvedUntil)
    lines.push(`Usable until:  ${review.approvedUntil} (${review.usesLeft} use(s) left)`);
  if (q.body)
    lines.push(
      "",
      `Body (Secret values masked, ${q.body.length} characters):`,
      renderBlock(q.body, lim(BODY_MAX)),
    );
  else lines.push("", "Body: (none)");
  lines.push("", "What it would change:");
  const p = review.preview;
  if (!p) lines.push("  (the dry run is still running)");
  else {
    lines.push(`  ${one(p.summary)}`);
    if (p.error)
      lines.push(
        `  The preview failed: ${one(p.error, 2000)}`,
        "  (nothing below shows the effect: judge the request and its body above)",
      );
    if (p.diff) lines.push("", renderBlock(p.diff.trimEnd(), lim(DIFF_MAX)));
    if (p.dependents.length) {
      lines.push("", "Deleted with it:");
      for (const d of p.dependents) lines.push(`  ${one(d.kind)} ${one(d.namespace)}/${one(d.name)}`);
    }
  }
  lines.push("", "Events:");
  for (const e of events)
    lines.push(`  ${e.time}  ${e.type.padEnd(9)}  ${renderName(e.actor)}: ${one(e.detail)}`);
  return `${lines.join("\n")}\n`;
}

function oneId(positionals: string[], sub: string): string {
  const [id, ...extra] = positionals;
  if (!id || extra.length)
    throw new CliError(`review ${sub} takes one review id. Run 'airlock review --help'.`, CLI_ERROR_USAGE);
  return encodeURIComponent(id);
}

async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (!sub || sub === "--help" || sub === "-h" || values.help) {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  const conn = () => resolveConnection(values, process.env);
  const out = (text: string) => process.stdout.write(text);
  switch (sub) {
    case "list": {
      const query = new URLSearchParams();
      if (values.state) query.set("state", values.state);
      const qs = query.size ? `?${query}` : "";
      const { items } = (await callAdminApi(conn(), "GET", `/airlock/v1/reviews${qs}`)) as {
        items: Review[];
      };
      if (values.json) out(`${terminalJson(items)}\n`);
      else if (items.length === 0) process.stderr.write("No reviews match.\n");
      else out(reviewTable(items, Date.now()));
      return 0;
    }
    case "show": {
      const id = oneId(positionals, sub);
      const reply = (await callAdminApi(conn(), "GET", `/airlock/v1/reviews/${id}`)) as {
        review: Review;
        events: ReviewEvent[];
      };
      out(
        values.json
          ? `${terminalJson(reply)}\n`
          : formatReview(reply.review, reply.events, { full: values.full === true }),
      );
      return 0;
    }
    case "approve": {
      const id = oneId(positionals, sub);
      if (values.grant !== undefined && parseDuration(values.grant) === undefined) {
        throw new CliError(`--grant "${values.grant}" is not a duration (30m, 1h, 1h30m).`, CLI_ERROR_USAGE);
      }
      const body = {
        ...(values.reason ? { reason: values.reason } : {}),
        ...(values.grant ? { grant: values.grant } : {}),
      };
      const { review, grant } = (await callAdminApi(
        conn(),
        "POST",
        `/airlock/v1/reviews/${id}/approve`,
        body,
      )) as {
        review: Review;
        grant?: Grant;
      };
      out(
        review.state === "approved"
          ? `review ${review.id} approved; the request may run once until ${review.approvedUntil}\n`
          : `review ${review.id}: approval ${review.approvals.length}/${review.requirement.approvals} recorded; more approvals needed\n`,
      );
      if (grant)
        out(
          `grant ${grant.id}: ${grant.identityName} may ${grant.verb} ${grant.resource} in ${grant.namespace || "(cluster)"} until ${grant.expiresAt}\n`,
        );
      return 0;
    }
    case "deny": {
      const id = oneId(positionals, sub);
      if (!values.reason)
        throw new CliError("review deny needs --reason (the requester sees it).", CLI_ERROR_USAGE);
      const { review } = (await callAdminApi(conn(), "POST", `/airlock/v1/reviews/${id}/deny`, {
        reason: values.reason,
      })) as { review: Review };
      out(`review ${review.id} denied\n`);
      return 0;
    }
    case "grants": {
      const qs = values.active ? "?active=true" : "";
      const { items } = (await callAdminApi(conn(), "GET", `/airlock/v1/grants${qs}`)) as { items: Grant[] };
      if (values.json) out(`${terminalJson(items)}\n`);
      else if (items.length === 0) process.stderr.write("No grants.\n");
      else
        out(
          formatTable(
            ["ID", "IDENTITY", "VERB", "RESOURCE", "NAMESPACE", "BY", "EXPIRES", "ENDED"],
            items.map((g) => [
              g.id,
              g.identityName,
              g.verb,
              g.resource,
              g.namespace || "-",
              g.createdBy,
              g.expiresAt,
              // Why it ended early: revoked by a reviewer, or its approver or requester is gone (issue 15).
              g.revokedAt
                ? `${g.revokedAt} ${g.endedReason ? `(${g.endedReason})` : `(revoked by ${g.revokedBy ?? "?"})`}`
                : "-",
            ]),
          ),
        );
      return 0;
    }
    case "revoke-grant": {
      const id = oneId(positionals, sub);
      const grant = (await callAdminApi(conn(), "POST", `/airlock/v1/grants/${id}/revoke`)) as Grant;
      out(`grant ${grant.id} revoked\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown subcommand "review ${sub}". Run 'airlock review --help'.`, CLI_ERROR_USAGE);
  }
}

export const reviewCommand: Command = {
  summary: "list, show, approve and deny held requests",
  run: (args) => runCli("review", () => run(args)),
};
