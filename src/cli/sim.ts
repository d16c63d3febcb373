// `airlock sim`: runs the Kubernetes API simulator until Ctrl-C or SIGTERM. Flags and wiring only; the simulator
// lives in packages/sim (@airlock/sim). A test and demo tool, bound to loopback.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "./main.ts";

const HELP = `Usage: airlock sim [--port 6443] [--dir DIR] [--seed demo|empty] [--host 127.0.0.1] [--unsafe-exec]

Runs a Kubernetes API simulator that real kubectl (1.32), client-go tools and @kubernetes/client-node accept.
It is a TEST AND DEMO TOOL: everything lives in memory, pods run no containers, and it is not a cluster.

It serves HTTPS with a CA it generates in DIR (kept there, so restarts reuse it) and writes DIR/sim.kubeconfig with
a cluster-admin token. See docs/simulator.md for what is simulated and what is not.

Flags:
  -p, --port PORT     port to listen on (default 6443; 0 picks a free port)
  -d, --dir DIR       state directory for the CA, the admin token and the kubeconfig (default ./.airlock-sim)
  -s, --seed SEED     demo (namespaces, deployments, pods, secrets to play with) or empty (default demo)
      --host HOST     address to bind (default 127.0.0.1; the simulator has no business on other interfaces)
      --unsafe-exec   where no exec sandbox works (bubblewrap missing, not Linux), run exec'd commands as plain
                      host processes instead of refusing exec. They can then read and write what you can.
  -h, --help          this help
`;

function fail(message: string): number {
  process.stderr.write(`airlock sim: ${message}\n\n${HELP}`);
  return 2;
}

export const simCommand: Command = {
  summary: "run the Kubernetes API simulator (a test and demo tool)",
  async run(args) {
    let values: {
      port?: string;
      dir?: string;
      seed?: string;
      host?: string;
      help?: boolean;
      "unsafe-exec"?: boolean;
    };
    try {
      ({ values } = parseArgs({
        args,
        options: {
          port: { type: "string", short: "p" },
          dir: { type: "string", short: "d" },
          seed: { type: "string", short: "s" },
          host: { type: "string" },
          "unsafe-exec": { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      }));
    } catch (err) {
      return fail((err as Error).message);
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const port = Number(values.port ?? "6443");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(`--port must be a number from 0 to 65535, not '${values.port}'.`);
    }
    const seed = values.seed ?? "demo";
    if (seed !== "demo" && seed !== "empty") return fail(`--seed must be 'demo' or 'empty', not '${seed}'.`);
    const dir = resolve(values.dir ?? ".airlock-sim");
    const { startSimulator } = await import("@airlock/sim");
    let sim: Awaited<ReturnType<typeof startSimulator>>;
    try {
      sim = await startSimulator({
        dir,
        port,
        seed,
        host: values.host ?? "127.0.0.1",
        ...(values["unsafe-exec"] ? { unsafeExec: true } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EADDRINUSE")
        return fail(`port ${port} is in use. Pick another with --port, or --port 0.`);
      process.stderr.write(`airlock sim: could not start: ${e.message}\n`);
      return 1;
    }
    process.stdout.write(
      `airlock sim: ready on ${sim.url} (a test and demo tool, not a cluster)\n\n` +
        `  export KUBECONFIG=${sim.kubeconfigPath}\n` +
        "  kubectl get pods -A\n\n" +
        `The kubeconfig holds a cluster-admin token; the CA is ${dir}/ca.crt. Ctrl-C stops the simulator.\n`,
    );
    await new Promise<void>((done) => {
      process.once("SIGINT", () => done());
      process.once("SIGTERM", () => done());
    });
    process.stderr.write("airlock sim: shutting down\n");
    await sim.close();
    return 0;
  },
};
