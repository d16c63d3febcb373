// `airlock serve --config airlock.yaml`: runs the gateway until SIGINT or SIGTERM.
import { parseArgs } from "node:util";
import { loadConfigFile } from "../gateway/config.ts";
import { installLastResortHandler } from "./last-resort.ts";
import type { Command } from "./main.ts";

const HELP = `Usage: airlock serve --config airlock.yaml

Runs the Airlock gateway: clients (kubectl, client libraries, MCP servers) connect to it with an Airlock identity;
it forwards allowed requests to the configured clusters, impersonating the caller.

Flags:
  -c, --config FILE   the configuration file (see docs/configuration.md)
  -h, --help          this help
`;

export const serveCommand: Command = {
  summary: "run the gateway",
  async run(args) {
    let values: { config?: string | undefined; help?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args,
        options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } },
      }));
    } catch (err) {
      process.stderr.write(`airlock serve: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!values.config) {
      process.stderr.write(`airlock serve: no configuration given. Pass --config airlock.yaml.\n\n${HELP}`);
      return 2;
    }
    const loaded = await loadConfigFile(values.config);
    if (!loaded.ok) {
      process.stderr.write(`airlock serve: ${values.config} is not valid:\n`);
      for (const error of loaded.errors) process.stderr.write(`  - ${error}\n`);
      process.stderr.write("Fix these and run again.\n");
      return 2;
    }
    const { startGateway } = await import("../server/index.ts");
    process.stderr.write(`airlock: starting gateway (data directory ${loaded.config.dataDir})…\n`);
    let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
    installLastResortHandler(() => gateway?.runtime.log);
    try {
      gateway = await startGateway(loaded.config, { env: process.env });
    } catch (err) {
      process.stderr.write(`airlock serve: could not start: ${(err as Error).message}\n`);
      return 1;
    }
    process.stderr.write(
      `airlock: gateway listening on ${gateway.url}\n` +
        `airlock: admin token in ${gateway.adminTokenPath} (mode 0600); CA certificate in ${loaded.config.dataDir}/tls/ca.crt\n` +
        "airlock: ready\n",
    );
    await waitForSignal();
    process.stderr.write("airlock: shutting down…\n");
    await gateway?.close();
    return 0;
  },
};

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
