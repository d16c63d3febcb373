// `airlock identity create|list|get|revoke`: manage identities through the admin API.
//
// A new token is printed once: alone on stdout (so `TOKEN=$(airlock identity create …)` works) with the warning on
// stderr. It is never written anywhere else unless --kubeconfig asks for a file, which is created 0600.

import { parseArgs } from "node:util";
import type { Delegation, Identity } from "../identity/types.ts";
import { renderName, terminalJson } from "../shared/render.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  callAdminApi,
  formatAge,
  formatTable,
  resolveConnection,
  runCli,
  shown,
} from "./client.ts";
import { expiryOf, parseLabels, runLifecycle, tokenBody } from "./identity-lifecycle.ts";
import { writePrivateFile } from "./kubeconfig.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock identity create NAME --kind agent|human [--group G]… [--label k=v]… [--owner HUMAN] [--description D]
                               [--default-namespace NS] [--expires 90d] [--read-only] [--cluster C]… [--kubeconfig FILE] [--json]
  airlock identity list [--json]
  airlock identity get NAME [--json]
  airlock identity update NAME [--group G]… [--label k=v]… [--owner HUMAN] [--description D] [--expires T|never]
                               [--default-namespace NS|""]
  airlock identity disable|enable NAME
  airlock identity revoke NAME
  airlock identity credentials NAME [--json]
  airlock identity token create NAME [--expires 30d] [--read-only] [--cluster C]… [--name N]
  airlock identity token rotate NAME [--overlap 1h] [--credential ID]
  airlock identity credential revoke NAME ID
  airlock identity oauth-client create NAME [--expires 30d] [--read-only] [--cluster C]…
  airlock identity cert NAME --out DIR [--days 30]
  airlock identity delegate HUMAN --to IDENTITY [--for 8h]
  airlock identity delegations [--human HUMAN] [--agent IDENTITY] [--active] [--json]
  airlock identity undelegate DELEGATION-ID

create prints the new token once; store it at once, it cannot be shown again.
oauth-client create prints an OAuth client_id and client_secret (once) for an agent's MCP client (docs/mcp.md).
revoke stops the identity's tokens on the next request and closes its live streams.
delegate records HUMAN's consent that IDENTITY acts on their behalf (airlock credential --on-behalf-of HUMAN) until
it expires; only HUMAN or an admin may give it. undelegate ends it: sessions minted under it stop working at once.

${CONNECTION_HELP}
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  kind: { type: "string" },
  group: { type: "string", multiple: true },
  label: { type: "string", multiple: true },
  kubeconfig: { type: "string" },
  owner: { type: "string" },
  description: { type: "string" },
  "default-namespace": { type: "string" },
  expires: { type: "string" },
  "read-only": { type: "boolean" },
  cluster: { type: "string", multiple: true },
  overlap: { type: "string" },
  credential: { type: "string" },
  out: { type: "string" },
  days: { type: "string" },
  name: { type: "string" },
  to: { type: "string" },
  for: { type: "string" },
  human: { type: "string" },
  agent: { type: "string" },
  active: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function oneName(positionals: string[], sub: string): string {
  const [name, ...extra] = positionals;
  if (!name || extra.length) {
    throw new CliError(
      `identity ${sub} takes exactly one NAME. Run 'airlock identity --help'.`,
      CLI_ERROR_USAGE,
    );
  }
  return encodeURIComponent(name);
}

function printJson(value: unknown): void {
  process.stdout.write(`${terminalJson(value)}\n`);
}

export function identityTable(items: Identity[], now: number): string {
  return formatTable(
    ["NAME", "KIND", "GROUPS", "CREATED", "LAST-USED", "STATE"],
    items.map((i) => [
      shown(renderName(i.name, { max: 80 })),
      i.kind,
      i.groups.join(",") || "<none>",
      formatAge(i.createdAt, now),
      i.lastUsedAt ? `${formatAge(i.lastUsedAt, now)} ago` : "never",
      i.state ?? (i.revokedAt ? "revoked" : "active"),
    ]),
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
  const conn = () => resolveConnection(values, process.env);
  switch (sub) {
    case "create": {
      const name = oneName(positionals, "create");
      if (values.kind !== "agent" && values.kind !== "human") {
        throw new CliError("identity create needs --kind agent or --kind human.", CLI_ERROR_USAGE);
      }
      const body = {
        name: decodeURIComponent(name),
        kind: values.kind,
        groups: values.group ?? [],
        labels: parseLabels(values.label ?? []),
        ...(values.owner ? { owner: values.owner } : {}),
        ...(values.description ? { description: values.description } : {}),
        ...(values["default-namespace"] ? { defaultNamespace: values["default-namespace"] } : {}),
        ...(values.expires ? { expiresAt: expiryOf(values.expires, Date.now()) ?? undefined } : {}),
        // The first token's scopes (--read-only, --cluster) and expiry (the identity's, when given).
        token: tokenBody({ ...values, expires: undefined }, Date.now()),
      };
      const created = (await callAdminApi(conn(), "POST", "/airlock/v1/identities", body)) as {
        identity: Identity;
        token: string;
        kubeconfig: string;
      };
      if (values.kubeconfig) writePrivateFile(values.kubeconfig, created.kubeconfig);
      if (values.json) {
        printJson(created);
      } else {
        process.stderr.write(
          `identity "${created.identity.name}" created (${created.identity.kind}).\n` +
            "Its token follows. It is shown only once: store it now, it cannot be retrieved again.\n",
        );
        process.stdout.write(`${created.token}\n`);
      }
      if (values.kubeconfig)
        process.stderr.write(`kubeconfig written to ${values.kubeconfig} (mode 0600).\n`);
      return 0;
    }
    case "list": {
      const { items } = (await callAdminApi(conn(), "GET", "/airlock/v1/identities")) as {
        items: Identity[];
      };
      if (values.json) printJson(items);
      else if (items.length === 0)
        process.stderr.write("No identities yet. Create one: airlock identity create NAME --kind agent\n");
      else process.stdout.write(identityTable(items, Date.now()));
      return 0;
    }
    case "get": {
      const identity = (await callAdminApi(
        conn(),
        "GET",
        `/airlock/v1/identities/${oneName(positionals, "get")}`,
      )) as Identity;
      if (values.json) printJson(identity);
      else process.stdout.write(identityTable([identity], Date.now()));
      return 0;
    }
    case "revoke": {
      const name = oneName(positionals, "revoke");
      const identity = (await callAdminApi(
        conn(),
        "POST",
        `/airlock/v1/identities/${name}/revoke`,
      )) as Identity;
      process.stdout.write(
        `identity "${identity.name}" revoked: its tokens stop working on the next request and its live streams are closed.\n`,
      );
      return 0;
    }
    case "delegate": {
      const human = oneName(positionals, "delegate");
      if (!values.to)
        throw new CliError(
          "identity delegate needs --to IDENTITY (who may act for the human).",
          CLI_ERROR_USAGE,
        );
      const d = (await callAdminApi(conn(), "POST", `/airlock/v1/identities/${human}/delegations`, {
        to: values.to,
        ...(values.for ? { for: values.for } : {}),
      })) as Delegation;
      if (values.json) printJson(d);
      else
        process.stdout.write(
          `delegation ${d.id}: ${d.agent} may act on behalf of ${d.human} until ${d.expiresAt}.\n` +
            `End it with: airlock identity undelegate ${d.id}\n`,
        );
      return 0;
    }
    case "delegations": {
      const query = new URLSearchParams();
      if (values.human) query.set("human", values.human);
      if (values.agent) query.set("agent", values.agent);
      if (values.active) query.set("active", "true");
      const q = query.toString();
      const { items } = (await callAdminApi(conn(), "GET", `/airlock/v1/delegations${q ? `?${q}` : ""}`)) as {
        items: Delegation[];
      };
      if (values.json) printJson(items);
      else if (items.length === 0) process.stderr.write("No delegations.\n");
      else {
        const now = Date.now();
        process.stdout.write(
          formatTable(
            ["ID", "HUMAN", "AGENT", "BY", "EXPIRES", "STATE"],
            items.map((d) => [
              d.id,
              d.human,
              d.agent,
              d.createdBy,
              d.expiresAt,
              d.revokedAt
                ? `revoked by ${d.revokedBy}`
                : Date.parse(d.expiresAt) <= now
                  ? "expired"
                  : "active",
            ]),
          ),
        );
      }
      return 0;
    }
    case "undelegate": {
      const id = oneName(positionals, "undelegate");
      const d = (await callAdminApi(conn(), "POST", `/airlock/v1/delegations/${id}/revoke`)) as Delegation;
      process.stdout.write(
        `delegation ${d.id} ended: ${d.agent} no longer acts on behalf of ${d.human}; its sessions doing so stop working and their streams close.\n`,
      );
      return 0;
    }
    default: {
      const code = await runLifecycle(sub, positionals, values, conn);
      if (code !== undefined) return code;
      throw new CliError(
        `unknown subcommand "identity ${sub}". Run 'airlock identity --help'.`,
        CLI_ERROR_USAGE,
      );
    }
  }
}

export const identityCommand: Command = {
  summary: "create, list and revoke Airlock identities",
  run: (args) => runCli("identity", () => run(args)),
};
