// `airlock cluster …`: the gateway's clusters and, for tunnel clusters, their agents (docs/agent.md), through the
// admin API: list, join-token create, agent revoke.
import { parseArgs } from "node:util";
import type { ClusterListing } from "../admin/agents.ts";
import {
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatAge,
  formatTable,
  parseDuration,
  resolveConnection,
  runCli,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock cluster list [--json]
      the gateway's clusters; for tunnel clusters each connected agent (id, version, connected since, address,
      requests and streams in flight)
  airlock cluster join-token create NAME [--ttl 1h]
      a one-time join token for an agent of tunnel cluster NAME (shown once; from 1m to 24h; default 1h). Give it to
      'airlock agent --cluster NAME --join-token-file FILE'.
  airlock cluster agent revoke ID
      closes agent ID's tunnel at once (its live streams end) and refuses its certificate from then on

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  ttl: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function formatClusters(items: ClusterListing[], now: number): string {
  const lines: string[] = [];
  for (const c of items) {
    if (c.kind === "direct") {
      lines.push(`${c.name}: direct (${c.server ?? ""})`);
      continue;
    }
    lines.push(`${c.name}: tunnel, ${c.agents.length} agent${c.agents.length === 1 ? "" : "s"} connected`);
    if (c.agents.length) {
      lines.push(
        formatTable(
          ["AGENT", "VERSION", "CONNECTED", "SINCE", "ADDRESS", "IN-FLIGHT"],
          c.agents.map((a) => [
            a.id,
            a.version,
            formatAge(a.connectedSince, now),
            a.connectedSince,
            a.address,
            String(a.inFlight),
          ]),
        ).trimEnd(),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export const clusterCommand: Command = {
  summary: "list clusters and their agents; create agent join tokens; revoke an agent",
  run: (args) =>
    runCli("cluster", async () => {
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
      const conn = resolveConnection(values, process.env);
      const [verb, ...rest] = positionals;
      if (verb === "list" && rest.length === 0) {
        const { items } = (await callAdminApi(conn, "GET", "/airlock/v1/clusters")) as {
          items: ClusterListing[];
        };
        process.stdout.write(
          values.json ? `${JSON.stringify(items, null, 2)}\n` : formatClusters(items, Date.now()),
        );
        return 0;
      }
      if (verb === "join-token" && rest[0] === "create" && rest[1] && rest.length === 2) {
        const name = rest[1];
        const ms = parseDuration(values.ttl ?? "1h");
        if (ms === undefined) throw new CliError(`--ttl "${values.ttl}" is not a duration (30m, 1h)`, 2);
        const answer = (await callAdminApi(
          conn,
          "POST",
          `/airlock/v1/clusters/${encodeURIComponent(name)}/join-tokens`,
          {
            ttlSeconds: Math.round(ms / 1000),
          },
        )) as { token: string; expiresAt: string };
        if (values.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
        else process.stdout.write(`${answer.token}\n`);
        process.stderr.write(
          `join token for cluster ${name}, valid until ${answer.expiresAt}, usable once. It is not shown again:\n` +
            `store it in a file (or a Secret) and run: airlock agent --gateway URL --cluster ${name} --join-token-file FILE\n`,
        );
        return 0;
      }
      if (verb === "agent" && rest[0] === "revoke" && rest[1] && rest.length === 2) {
        const answer = (await callAdminApi(
          conn,
          "POST",
          `/airlock/v1/agents/${encodeURIComponent(rest[1])}/revoke`,
          {},
        )) as {
          agent: string;
          cluster: string;
          closedTunnels: number;
        };
        process.stdout.write(
          `agent ${answer.agent} of cluster ${answer.cluster} revoked: ${answer.closedTunnels} tunnel(s) closed; ` +
            "its certificate is refused from now on.\n",
        );
        return 0;
      }
      throw new CliError(
        `unknown or incomplete command: airlock cluster ${positionals.join(" ")}\n\n${HELP}`,
        2,
      );
    }),
};
