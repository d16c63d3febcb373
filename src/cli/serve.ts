// `airlock serve --config airlock.yaml`: runs the gateway until SIGINT or SIGTERM.
import { parseArgs } from "node:util";
import { type GatewayConfig, loadConfigFile } from "../gateway/config.ts";
import type { Gateway } from "../server/index.ts";
import { runPrimary, runWorker, workerNumber } from "../server/workers.ts";
import { installLastResortHandler } from "./last-resort.ts";
import type { Command } from "./main.ts";

const HELP = `Usage: airlock serve --config airlock.yaml [--workers N]

Runs the Airlock gateway: clients (kubectl, client libraries, MCP servers) connect to it with an Airlock identity;
it forwards allowed requests to the configured clusters, impersonating the caller.

Flags:
  -c, --config FILE   the configuration file (see docs/configuration.md)
  -w, --workers N     worker processes sharing the listening port (default: \`workers\` in the file, else 1);
                      one more process, the primary, writes the audit chain and restarts a worker that dies
                      (docs/operations.md#workers)
  -h, --help          this help

Signals:
  SIGTERM, SIGINT     graceful shutdown: stop accepting, end streams with a Status, let requests finish
                      (shutdown.gracePeriodSeconds), flush recordings and audit, exit 0
  SIGHUP              read the configuration file again: limits, shutdown and log.level apply at once, TLS files
                      are re-read; other changes are named as needing a restart (docs/operations.md)
`;

export const serveCommand: Command = {
  summary: "run the gateway",
  async run(args) {
    let values: { config?: string | undefined; workers?: string | undefined; help?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args,
        options: {
          config: { type: "string", short: "c" },
          workers: { type: "string", short: "w" },
          help: { type: "boolean", short: "h" },
        },
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
    const workers = values.workers === undefined ? undefined : Number(values.workers);
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
      process.stderr.write(
        `airlock serve: --workers takes a whole number from 1 to 64 (got "${values.workers}"), e.g. --workers 2 for two cores.\n`,
      );
      return 2;
    }
    const loaded = await loadConfigFile(values.config);
    if (!loaded.ok) {
      process.stderr.write(`airlock serve: ${values.config} is not valid:\n`);
      for (const error of loaded.errors) process.stderr.write(`  - ${error}\n`);
      process.stderr.write("Fix these and run again.\n");
      return 2;
    }
    const config = withWorkers(loaded.config, workers);
    if (config.workers > 1 && config.agents) {
      // An agent's tunnel ends in the one worker it dialled; the others could not reach its cluster.
      process.stderr.write(
        "airlock serve: agent tunnels (the agents section) work with one worker only for now; remove --workers / workers: or set it to 1.\n",
      );
      return 2;
    }
    const configPath = values.config;
    if (workerNumber() !== undefined) {
      installLastResortHandler(() => undefined);
      return runWorker(config, (gateway) => reloadFrom(configPath, gateway, workers));
    }
    if (config.workers > 1) {
      return runPrimary(config, config.workers, {
        stderr: process.stderr,
        waitForSignal,
        onHangUp: (listener) => {
          process.on("SIGHUP", listener);
          return () => process.off("SIGHUP", listener);
        },
      });
    }
    const { startGateway } = await import("../server/index.ts");
    process.stderr.write(`airlock: starting gateway (data directory ${loaded.config.dataDir})…\n`);
    let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
    installLastResortHandler(() => gateway?.runtime.log);
    try {
      gateway = await startGateway(config, { env: process.env });
    } catch (err) {
      process.stderr.write(`airlock serve: could not start: ${(err as Error).message}\n`);
      return 1;
    }
    process.stderr.write(
      `airlock: gateway listening on ${gateway.url}\n` +
        `airlock: admin token in ${gateway.adminTokenPath} (mode 0600); CA certificate in ${loaded.config.dataDir}/tls/ca.crt\n` +
        "airlock: ready\n",
    );
    // SIGHUP: read the configuration file again; reloadable settings apply, the rest is named as needing a restart.
    const onHangUp = () => {
      void reloadFrom(values.config as string, gateway, workers);
    };
    process.on("SIGHUP", onHangUp);
    await waitForSignal();
    process.off("SIGHUP", onHangUp);
    process.stderr.write("airlock: shutting down…\n");
    await gateway?.close();
    return 0;
  },
};

/** The configuration with `--workers` applied (the flag wins over the file's `workers`). */
function withWorkers(config: GatewayConfig, workers: number | undefined): GatewayConfig {
  return workers === undefined ? config : { ...config, workers };
}

async function reloadFrom(
  path: string,
  gateway: { reload: Gateway["reload"] } | undefined,
  workers: number | undefined,
): Promise<void> {
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) {
    process.stderr.write(`airlock: SIGHUP: ${path} is not valid; nothing was reloaded:\n`);
    for (const error of loaded.errors) process.stderr.write(`  - ${error}\n`);
    return;
  }
  try {
    const { applied, needRestart } = (await gateway?.reload(withWorkers(loaded.config, workers))) ?? {
      applied: [],
      needRestart: [],
    };
    process.stderr.write(
      `airlock: configuration reloaded (${applied.length ? `applied: ${applied.join(", ")}` : "no reloadable change"})\n` +
        (needRestart.length ? `airlock: changed but needing a restart: ${needRestart.join(", ")}\n` : ""),
    );
  } catch (err) {
    process.stderr.write(`airlock: SIGHUP: reload failed: ${(err as Error).message}\n`);
  }
}

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
