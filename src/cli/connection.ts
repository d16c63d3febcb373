// `airlock connection test NAME`: who the gateway is on a cluster and what it may do there, through the admin API
// (POST /airlock/v1/clusters/{name}/test), so an operator can check role Y's access entry and RBAC before any agent
// depends on it. Exit 0 when the cluster answered, 1 when it did not.
import { parseArgs } from "node:util";
import type { ConnectionReport } from "../admin/clusters.ts";
import {
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatTable,
  resolveConnection,
  runCli,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock connection test NAME [--namespace NS] [--json]
      ask cluster NAME who the gateway is there (SelfSubjectReview) and what it may do in NS (default "default";
      SelfSubjectRulesReview)

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  namespace: { type: "string", short: "n" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const list = (xs: string[] | undefined) => (xs?.length ? xs.join(",") : "*");

/** The report as an operator reads it. */
export function formatReport(r: ConnectionReport): string {
  const lines = [`cluster ${r.cluster} (${r.server})`];
  if (!r.ok) return `${lines[0]}: FAILED: ${r.error ?? "unknown error"}\n`;
  const u = r.user;
  lines.push(`  connected as: ${u?.username ?? "(the cluster did not say)"}`);
  if (u?.groups.length) lines.push(`  groups:       ${u.groups.join(", ")}`);
  for (const [k, v] of Object.entries(u?.extra ?? {})) lines.push(`  ${k}: ${v.join(", ")}`);
  lines.push(
    "",
    `may do in namespace ${r.namespace}${r.incomplete ? " (incomplete: the cluster could not list every rule)" : ""}:`,
  );
  const rows = r.resourceRules.map((rule) => [
    rule.verbs.join(","),
    list(rule.apiGroups?.map((g) => g || '""')),
    list(rule.resources),
    rule.resourceNames?.length ? rule.resourceNames.join(",") : "",
  ]);
  lines.push(rows.length ? formatTable(["VERBS", "API GROUPS", "RESOURCES", "NAMES"], rows) : "  (nothing)");
  if (r.nonResourceRules.length) {
    lines.push("", "non-resource URLs:");
    lines.push(
      formatTable(
        ["VERBS", "URLS"],
        r.nonResourceRules.map((n) => [n.verbs.join(","), list(n.nonResourceURLs)]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

export const connectionCommand: Command = {
  summary: "check a cluster connection: who the gateway is there and what it may do",
  run: (args) =>
    runCli("connection", async () => {
      const { values, positionals } = parseArgs({
        args,
        options: OPTIONS,
        allowPositionals: true,
        strict: true,
      });
      if (values.help || positionals.length === 0) {
        process.stdout.write(HELP);
        return values.help ? 0 : 2;
      }
      const [verb, name, ...rest] = positionals;
      if (verb !== "test" || !name || rest.length)
        throw new CliError(`usage: airlock connection test NAME\n\n${HELP}`, 2);
      const conn = resolveConnection(values, process.env);
      const ns = values.namespace ? `?namespace=${encodeURIComponent(values.namespace)}` : "";
      const report = (await callAdminApi(
        conn,
        "POST",
        `/airlock/v1/clusters/${encodeURIComponent(name)}/test${ns}`,
        {},
      )) as ConnectionReport;
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return report.ok ? 0 : 1;
    }),
};
