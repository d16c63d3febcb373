// Command dispatch for the `airlock` CLI. Each command lives in its own module and is loaded only when used, so
// `airlock sim` never loads the gateway and vice versa.

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

type CommandLoader = () => Promise<Command>;

const commands: Record<string, CommandLoader> = {
  sim: async () => (await import("./sim.ts")).simCommand,
  identity: async () => (await import("./identity.ts")).identityCommand,
  audit: async () => (await import("./audit.ts")).auditCommand,
  policy: async () => (await import("./policy.ts")).policyCommand,
  review: async () => (await import("./review.ts")).reviewCommand,
  session: async () => (await import("./session.ts")).sessionCommand,
  kubeconfig: async () => (await import("./kubeconfig.ts")).kubeconfigCommand,
  credential: async () => (await import("./credential.ts")).credentialCommand,
  serve: async () => (await import("./serve.ts")).serveCommand,
  demo: async () => (await import("./demo.ts")).demoCommand,
  mcp: async () => (await import("./mcp.ts")).mcpCommand,
  connection: async () => (await import("./connection.ts")).connectionCommand,
  cluster: async () => (await import("./cluster.ts")).clusterCommand,
  agent: async () => (await import("./agent.ts")).agentCommand,
  "check-isolation": async () => (await import("./check-isolation.ts")).checkIsolationCommand,
};

function usage(): string {
  const lines = [
    "airlock — an access gateway between AI agents and the Kubernetes API",
    "",
    "Usage: airlock <command> [flags]",
    "",
    "Commands:",
  ];
  return `${lines.join("\n")}\n${Object.keys(commands)
    .map((name) => `  ${name}`)
    .join("\n")}\n\nRun 'airlock <command> --help' for the flags of a command.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`airlock: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}
