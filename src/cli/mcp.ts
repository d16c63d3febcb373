// `airlock mcp stdio`: a local stdio MCP server for clients that only launch stdio servers. It bridges to the
// gateway's /mcp endpoint, so it serves exactly the gateway's tools under the gateway's policy; the token comes from
// AIRLOCK_TOKEN (or --token), never from the MCP client's messages.
import { parseArgs } from "node:util";
import { runStdioBridge } from "../mcp/bridge.ts";
import {
  CLI_ERROR_USAGE,
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  resolveConnection,
  runCli,
} from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock mcp stdio [--server URL] [--token TOKEN] [--ca FILE]

Serves Airlock's MCP tools over stdin/stdout by relaying every message to the gateway's /mcp endpoint as the
identity whose token is given (AIRLOCK_TOKEN). Configure your MCP client to launch it, e.g.
  { "command": "airlock", "args": ["mcp", "stdio"], "env": { "AIRLOCK_SERVER": "https://…", "AIRLOCK_TOKEN": "…" } }
Logs go to stderr; stdout carries only MCP messages.

${CONNECTION_HELP}
`;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONNECTION_OPTIONS, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals[0] !== "stdio" || positionals.length !== 1) throw new CliError(HELP, CLI_ERROR_USAGE);
  const conn = resolveConnection(values, process.env);
  const ended = new Promise<void>((resolve) => process.stdin.once("end", () => resolve()));
  await Promise.race([
    runStdioBridge({
      server: conn.server,
      token: conn.token,
      ...(conn.caPem ? { caPem: conn.caPem } : {}),
      onError: (err) => process.stderr.write(`airlock mcp: ${err.message}\n`),
    }),
    ended,
  ]);
  return 0;
}

export const mcpCommand: Command = {
  summary: "serve Airlock's MCP tools over stdio (a bridge to the gateway's /mcp endpoint)",
  run: (args) => runCli("mcp", () => run(args)),
};
