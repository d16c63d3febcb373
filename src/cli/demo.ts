// `airlock demo`: the simulated cluster behind the gateway, with two identities and the exact commands to try.
//
// Everything runs in this one process; Ctrl-C stops it. The directory is the demo's own: on a re-run it is replaced
// (only if it carries our marker file, so a mistyped --dir never wipes someone's folder).
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildKubeconfig } from "../admin/index.ts";
import { execPlugin } from "./kubeconfig.ts";
import { installLastResortHandler } from "./last-resort.ts";
import type { Command } from "./main.ts";
import { waitForSignal } from "./serve.ts";

const MARKER = ".airlock-demo";

const HELP = `Usage: airlock demo [--dir .airlock-demo] [--port 8443] [--sim-port 6443] [--unsafe-exec]

Starts a simulated Kubernetes cluster (a test and demo tool, not a real cluster) and the Airlock gateway in front of
it, creates the identities demo-agent (agent) and alice (human), writes kubeconfigs and environment files into the
directory, and prints commands to try. Ctrl-C stops everything.

Exec'd commands run sandboxed in bubblewrap (bwrap); where it is missing, exec is refused unless --unsafe-exec
runs them as plain host processes (which can then read this folder's tokens).
`;

async function prepareDirectory(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length && !entries.includes(MARKER)) {
      throw new Error(`${dir} exists and is not a demo directory; pass --dir with a new or empty folder`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, MARKER), "This folder is written by `airlock demo` and replaced on each run.\n");
}

function parsePort(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${flag} must be a port number, not "${value}"`);
  return port;
}

export const demoCommand: Command = {
  summary: "run the simulated cluster behind the gateway, with identities and instructions",
  async run(args) {
    let dir: string;
    let port: number;
    let simPort: number;
    let unsafeExec = false;
    try {
      const { values } = parseArgs({
        args,
        options: {
          dir: { type: "string" },
          port: { type: "string" },
          "sim-port": { type: "string" },
          "unsafe-exec": { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      dir = resolve(values.dir ?? ".airlock-demo");
      port = parsePort(values.port, 8443, "--port");
      simPort = parsePort(values["sim-port"], 6443, "--sim-port");
      unsafeExec = values["unsafe-exec"] === true;
    } catch (err) {
      process.stderr.write(`airlock demo: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }

    const { startSimulator } = await import("@airlock/sim");
    const { startGateway } = await import("../server/index.ts");
    const { validateConfig } = await import("../gateway/config.ts");
    const say = (line: string) => process.stdout.write(`${line}\n`);

    try {
      await prepareDirectory(dir);
      say(`airlock demo: starting the simulated cluster on 127.0.0.1:${simPort}…`);
      const sim = await startSimulator({
        dir: join(dir, "sim"),
        port: simPort,
        seed: "demo",
        unsafeExec,
        // The simulator's warnings (no exec sandbox) are shown; its other log lines are not.
        log: (line) => {
          if (line.startsWith("WARNING")) process.stderr.write(`airlock demo: ${line}\n`);
        },
      });
      // The demo policy is copied into the folder so it can be read and edited live: the gateway reloads it.
      const policyDir = join(dir, "policies");
      await mkdir(policyDir, { recursive: true });
      await copyFile(
        new URL("../../examples/policies/demo.yaml", import.meta.url),
        join(policyDir, "demo.yaml"),
      );
      say(
        `airlock demo: starting the gateway on 127.0.0.1:${port} with the policy in ${join(policyDir, "demo.yaml")}…`,
      );
      const validated = validateConfig(
        {
          listen: { address: "127.0.0.1", port },
          dataDir: join(dir, "gateway"),
          clusters: [{ name: "demo", kubeconfig: { path: sim.kubeconfigPath } }],
          policy: { files: [policyDir] },
          log: { level: "info" },
        },
        dir,
      );
      if (!validated.ok) throw new Error(validated.errors.join("; "));
      const { createWriteStream } = await import("node:fs");
      const logFile = createWriteStream(join(dir, "gateway.log"), { flags: "a" });
      const gateway = await startGateway(validated.config, { logDestination: logFile });
      installLastResortHandler(() => gateway.runtime.log);

      say(
        "airlock demo: creating identities demo-agent (agent, group agents) and alice (human, groups sre and airlock:admins)…",
      );
      const agent = await gateway.store.identities.create({
        name: "demo-agent",
        kind: "agent",
        groups: ["agents"],
        defaultNamespace: "prod",
      });
      const alice = await gateway.store.identities.create({
        name: "alice",
        kind: "human",
        groups: ["sre", "airlock:admins"],
      });
      const caPath = join(dir, "gateway-ca.crt");
      await writeFile(caPath, gateway.caPem);
      const agentToken = join(dir, "agent.token");
      await writeFile(agentToken, `${agent.token}\n`, { mode: 0o600 });
      await writeFile(
        join(dir, "agent.kubeconfig"),
        demoAgentKubeconfig({
          server: gateway.url,
          caPem: gateway.caPem,
          caPath,
          tokenFile: agentToken,
          cacheDir: join(dir, "credential-cache"),
        }),
        { mode: 0o600 },
      );
      const env = (token: string) =>
        `export AIRLOCK_SERVER=${gateway.url}\nexport AIRLOCK_TOKEN=${token}\nexport AIRLOCK_CA=${caPath}\n`;
      const { readFile } = await import("node:fs/promises");
      const adminToken = (await readFile(gateway.adminTokenPath, "utf8")).trim();
      await writeFile(join(dir, "alice.env"), env(alice.token), { mode: 0o600 });
      await writeFile(join(dir, "admin.env"), env(adminToken), { mode: 0o600 });
      await copyFile(sim.kubeconfigPath, join(dir, "cluster-admin.kubeconfig"));
      const adminKubeconfig = await readFile(sim.kubeconfigPath, "utf8");
      await writeFile(
        join(dir, "cluster-admin.kubeconfig"),
        `# BYPASSES AIRLOCK: cluster-admin straight to the simulated cluster, for comparison only.\n${adminKubeconfig}`,
        { mode: 0o600 },
      );

      const rel = (name: string) => join(dir, name).replace(`${process.cwd()}/`, "");
      say("");
      say("airlock demo ready");
      say("");
      say(`  gateway:   ${gateway.url}   (log: ${rel("gateway.log")})`);
      say(`  simulated cluster: ${sim.url}   (a test and demo tool, not a real cluster)`);
      say("");
      const lines = demoTryLines(rel, gateway.url);
      for (const line of lines) say(line);
      say("Ctrl-C stops the demo.");

      await waitForSignal();
      say("airlock demo: stopping…");
      await gateway.close();
      await sim.close();
      logFile.end();
      return 0;
    } catch (err) {
      const message = (err as Error).message;
      const hint = /EADDRINUSE/.test(message)
        ? " (a port is in use: pass --port and --sim-port with free ports)"
        : "";
      process.stderr.write(`airlock demo: ${message}${hint}\n`);
      return 1;
    }
  },
};

/**
 * demo-agent's kubeconfig: kubectl runs `airlock credential` (the exec plugin) with the agent's token file, so each
 * command gets a short-lived session credential — bound to AIRLOCK_REASON when the command sets it (issue 21).
 * No secret is in the file itself; the cache stays inside the demo folder.
 */
export function demoAgentKubeconfig(input: {
  server: string;
  caPem: string;
  caPath: string;
  tokenFile: string;
  cacheDir: string;
}): string {
  const exec = execPlugin(input.server, { ca: input.caPath, "token-file": input.tokenFile });
  exec.args.push("--cache-dir", input.cacheDir);
  return buildKubeconfig({
    server: input.server,
    caPem: input.caPem,
    identity: "demo-agent",
    exec,
    namespace: "prod",
    comment:
      "demo-agent at the Airlock gateway: kubectl runs `airlock credential` with the agent's token file (agent.token); no cluster credential in it.",
  });
}

/** The commands `airlock demo` prints to try; each comment says what happens (test/cli/demo-commands.test.ts runs them). */
export function demoTryLines(rel: (name: string) => string, gatewayUrl: string): string[] {
  return [
    "Try, in another terminal, from this folder:",
    "",
    `  export KUBECONFIG=${rel("agent.kubeconfig")}   # demo-agent via the airlock credential exec plugin; no cluster credential`,
    "  kubectl auth whoami                        # the cluster sees airlock:demo-agent",
    "  kubectl get pods                           # namespace prod; reads are allowed",
    "  kubectl get deployments -A",
    "  kubectl logs deployment/web",
    "",
    "Masking — the agent sees the shape of secrets, never their values:",
    "  kubectl get secret db-credentials -o yaml  # data values are ‹masked:…› markers (base64, as Secret data is)",
    "  kubectl exec deploy/web -- env             # DB_PASSWORD is masked in exec output too",
    `  KUBECONFIG=${rel("cluster-admin.kubeconfig")} kubectl get secret db-credentials -n prod -o yaml   # bypasses Airlock`,
    "",
    "Blocking — refused with the policy and rule that said no:",
    "  kubectl exec deploy/web -- rm -rf /tmp     # destructive commands are denied",
    "  kubectl delete namespace staging           # agents never delete namespaces",
    "  kubectl scale deployment web --replicas=0  # a CEL rule on the request body",
    "  kubectl get pods --as=system:admin         # clients cannot impersonate",
    "",
    "Credentials — nothing that mints a cluster credential or widens rights, whatever the wildcard:",
    "  kubectl -n staging create token default    # refused: the built-in credentials category",
    "  kubectl -n staging create rolebinding me --clusterrole=cluster-admin --user=me   # refused: not bindable",
    "  kubectl -n staging create rolebinding readers --clusterrole=view --user=me       # allowed: view is bindable",
    "  kubectl auth can-i delete namespaces       # no: policy's answer and RBAC's, together",
    "",
    "Port-forward — opaque bytes, so only to the ports a rule names (recorded, not masked):",
    "  kubectl port-forward deploy/web 8080:80    # allowed: the rule names port 80",
    "  kubectl port-forward deploy/web 8022:22    # refused when a connection opens: port 22 is not named",
    "",
    "Review — writes in prod need a justification (INC-<n> or CHG-<n>: why) and wait for a human in group sre:",
    "  kubectl delete deployment web              # refused: the message says how to give a justification",
    '  AIRLOCK_REASON="INC-42: web is crash-looping after the release" kubectl delete deployment web   # waits…',
    `  # …meanwhile, in a third terminal, as alice:  source ${rel("alice.env")}`,
    "  npm run -s airlock -- review list",
    "  npm run -s airlock -- review show <id>     # who, why (the justification), what, and the dry-run diff",
    "  npm run -s airlock -- review approve <id>  # the waiting kubectl finishes",
    "  # Three ways to give a justification: AIRLOCK_REASON per kubectl command (read by the exec plugin);",
    '  #   per credential: airlock kubeconfig --exec --identity demo-agent --reason "CHG-7: …" (airlock credential --reason);',
    "  #   per request: the Airlock-Justification header (percent-encoded), or the MCP tools' justification argument.",
    "",
    "Audit and revocation, as the gateway's admin:",
    `  source ${rel("admin.env")}`,
    "  npm run -s airlock -- audit list           # every request, with identity, decision and policy rule",
    "  npm run -s airlock -- audit verify         # the hash chain is intact",
    "  npm run -s airlock -- identity revoke demo-agent   # its next kubectl command gets 401",
    "",
    "The web console, for reviewers and auditors:",
    `  ${gatewayUrl}/ui   — sign in with alice's token (AIRLOCK_TOKEN in ${rel("alice.env")});`,
    `  the browser does not know the demo CA: trust ${rel("gateway-ca.crt")} or accept the warning.`,
    "",
    `Edit ${rel("policies/demo.yaml")} and the gateway reloads it (an invalid edit is refused, the last good policy stays).`,
    "",
  ];
}
