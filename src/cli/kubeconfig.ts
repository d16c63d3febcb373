// `airlock kubeconfig`: writes a kubeconfig that points kubectl at the gateway with an identity's token.
//
// The file holds a bearer token, so it is written 0600 (and an existing file is narrowed to 0600 before the token
// goes in). Without --output the kubeconfig goes to stdout for piping. Needs no admin token: nothing is called.
import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildKubeconfig, CLUSTER_NAME } from "../admin/kubeconfig.ts";
import { CLI_ERROR_USAGE, CliError, resolveCa, resolveServer, runCli } from "./client.ts";
import type { Command } from "./main.ts";

const HELP = `Usage:
  airlock kubeconfig --identity NAME --token TOKEN [--cluster C] [--output FILE] [--server URL] [--ca FILE]
  airlock kubeconfig --exec --identity NAME [--token-file FILE] [--reason TEXT] [--on-behalf-of HUMAN] [--ttl 15m] …

With --exec the kubeconfig holds no secret: kubectl runs 'airlock credential', which trades the identity's
long-lived token (AIRLOCK_TOKEN in kubectl's environment, or --token-file) for a session credential of minutes,
carrying --reason into every audit event.

Writes a kubeconfig for the gateway: the server from --server or AIRLOCK_SERVER (with /k8s/C when --cluster is
given), the CA from --ca or AIRLOCK_CA, and the identity's token. --output writes FILE with mode 0600; without it
the kubeconfig is printed.

Example:
  airlock kubeconfig --identity mcp-agent --token "$TOKEN" --output mcp-agent.kubeconfig
  kubectl --kubeconfig mcp-agent.kubeconfig get pods
`;

const OPTIONS = {
  identity: { type: "string" },
  token: { type: "string" },
  exec: { type: "boolean" },
  "token-file": { type: "string" },
  reason: { type: "string" },
  "on-behalf-of": { type: "string" },
  ttl: { type: "string" },
  cluster: { type: "string" },
  output: { type: "string", short: "o" },
  server: { type: "string" },
  ca: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Writes a file only its owner can read, narrowing the mode of an existing file before writing into it. */
export function writePrivateFile(path: string, content: string): void {
  let fd: number;
  try {
    fd = openSync(path, "w", 0o600);
  } catch (err) {
    throw new CliError(
      `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) {
    throw new CliError(
      `kubeconfig takes no arguments (got "${positionals.join(" ")}"). Run 'airlock kubeconfig --help'.`,
      2,
    );
  }
  if (!values.identity)
    throw new CliError("kubeconfig needs --identity NAME (the identity the token belongs to).", 2);
  if (!values.token && !values.exec) {
    throw new CliError(
      "kubeconfig needs --token TOKEN: the identity's token printed by 'airlock identity create' (not the admin token).",
      CLI_ERROR_USAGE,
    );
  }
  if (values.cluster !== undefined && !CLUSTER_NAME.test(values.cluster)) {
    throw new CliError(
      `--cluster "${values.cluster}" is not a cluster name (lower-case letters, digits, '-').`,
      2,
    );
  }
  const server = resolveServer(values.server, process.env);
  const caPem = resolveCa(values.ca, process.env);
  const input: Parameters<typeof buildKubeconfig>[0] = { server, identity: values.identity };
  if (values.exec) input.exec = execPlugin(server, values);
  else input.token = values.token;
  if (caPem) input.caPem = caPem;
  if (values.cluster) input.cluster = values.cluster;
  const text = buildKubeconfig(input);
  if (!caPem) {
    process.stderr.write(
      "airlock: no CA given (--ca or AIRLOCK_CA); kubectl will check the gateway against the system roots.\n",
    );
  }
  if (values.output) {
    writePrivateFile(values.output, text);
    process.stderr.write(`kubeconfig for "${values.identity}" written to ${values.output} (mode 0600).\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

export const kubeconfigCommand: Command = {
  summary: "write a kubeconfig that points kubectl at the gateway with an identity's token",
  run: (args) => runCli("kubeconfig", () => run(args)),
};

/** The exec stanza: this Node and this airlock, so kubectl runs exactly the CLI that wrote the file. */
export function execPlugin(
  server: string,
  values: { ca?: string; "token-file"?: string; reason?: string; "on-behalf-of"?: string; ttl?: string },
): { command: string; args: string[] } {
  const bin = fileURLToPath(new URL("../../bin/airlock.ts", import.meta.url));
  const args = [bin, "credential", "--server", server];
  if (values.ca) args.push("--ca", resolve(values.ca));
  if (values["token-file"]) args.push("--token-file", resolve(values["token-file"]));
  if (values.reason) args.push("--reason", values.reason);
  if (values["on-behalf-of"]) args.push("--on-behalf-of", values["on-behalf-of"]);
  if (values.ttl) args.push("--ttl", values.ttl);
  return { command: process.execPath, args };
}
