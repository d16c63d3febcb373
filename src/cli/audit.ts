// `airlock audit list | verify | export | pubkey`: read, check and export the tamper-evident audit log. `list` goes
// through the admin API; verify, export and pubkey also work offline on the SQLite file (audit-chain.ts).

import { parseArgs } from "node:util";
import type { AuditEvent } from "../audit/types.ts";
import { claimMismatch } from "../recording/claims.ts";
import { renderInline, renderName, terminalJson } from "../shared/render.ts";
import { auditExport, auditPubkey, auditVerify } from "./audit-chain.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatTable,
  resolveConnection,
  runCli,
  shown,
  sinceToIso,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock audit list [--identity NAME] [--verb V] [--resource R] [--namespace NS] [--decision allow|deny|error]
                     [--since 1h|30m|2d|RFC3339] [--until RFC3339] [--limit N] [--json]
  airlock audit verify [--from SEQ] [--to SEQ] [--json]          through the gateway
  airlock audit verify --db FILE --pubkey FILE [--from SEQ] [--to SEQ] [--json]   offline, on a copy of airlock.db
  airlock audit export --format k8s|jsonl [--since 1h|RFC3339] [--db FILE]
  airlock audit pubkey [--data-dir DIR]

list     audit events, newest first (default limit 100, at most 1000).
verify   checks the hash chain, every signed checkpoint and every event row; names the first event that was
         altered, inserted or removed. Exit 0 when the log verifies, 1 when it does not.
export   NDJSON on stdout: audit.k8s.io/v1 Events (k8s) or Airlock's own schema with chain positions (jsonl).
pubkey   the Ed25519 public key (PEM) that verifies checkpoints; keep a copy away from the gateway.

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  identity: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  verb: { type: "string" },
  resource: { type: "string" },
  namespace: { type: "string" },
  decision: { type: "string" },
  until: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  db: { type: "string" },
  pubkey: { type: "string" },
  format: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function resourceOf(e: AuditEvent): string {
  const resource = e.subresource ? `${e.resource}/${e.subresource}` : e.resource;
  return (e.apiGroup ? `${resource}.${e.apiGroup}` : resource) || e.path;
}

/**
 * Audit events as a table. Every cell follows the rendering rule (formatTable); CLIENT SAYS is the event's
 * Kubectl-Command header, a claim, flagged when the decoded verb contradicts it.
 */
export function auditTable(items: AuditEvent[]): string {
  return formatTable(
    ["TIME", "IDENTITY", "VERB", "RESOURCE", "NAMESPACE/NAME", "DECISION", "CODE", "CLIENT SAYS"],
    items.map((e) => {
      const claim = e.kubectlCommand ?? "";
      const contradicted = claimMismatch(claim, e.verb, resourceOf(e)) !== undefined;
      return [
        e.time.replace(/\.\d+Z$/, "Z"),
        e.identityName === null ? "<anonymous>" : shown(renderName(e.identityName, { max: 60 })),
        e.verb || e.method,
        resourceOf(e),
        [e.namespace, e.name].filter(Boolean).join("/") || "-",
        e.decision,
        e.status === null ? "-" : String(e.status),
        shown(
          claim ? `${renderInline(claim, { max: 80 })}${contradicted ? " ⟨CLAIM CONTRADICTED⟩" : ""}` : "-",
        ),
      ];
    }),
  );
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
  if (positionals.length)
    throw new CliError(`audit ${sub} takes no arguments (got "${positionals.join(" ")}").`, 2);
  if (sub === "verify") return auditVerify(values, process.env);
  if (sub === "export") return auditExport(values, process.env, process.stdout);
  if (sub === "pubkey") return auditPubkey(values, process.env);
  if (sub !== "list") throw new CliError(`unknown subcommand "audit ${sub}". Run 'airlock audit --help'.`, 2);
  const query = new URLSearchParams();
  if (values.identity) query.set("identity", values.identity);
  for (const field of ["verb", "resource", "namespace", "decision"] as const) {
    const value = values[field];
    if (value) query.set(field, value);
  }
  if (values.until) query.set("until", sinceToIso(values.until, Date.now()));
  if (values.since) query.set("since", sinceToIso(values.since, Date.now()));
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new CliError(
        `--limit must be a whole number from 1 to 1000 (got "${values.limit}").`,
        CLI_ERROR_USAGE,
      );
    }
    query.set("limit", String(limit));
  }
  const conn = resolveConnection(values, process.env);
  const qs = query.size ? `?${query}` : "";
  const { items } = (await callAdminApi(conn, "GET", `/airlock/v1/audit${qs}`)) as { items: AuditEvent[] };
  if (values.json) process.stdout.write(`${terminalJson(items)}\n`);
  else if (items.length === 0) process.stderr.write("No audit events match.\n");
  else process.stdout.write(auditTable(items));
  return 0;
}

export const auditCommand: Command = {
  summary: "search, verify and export the audit log",
  run: (args) => runCli("audit", () => run(args)),
};
