// `airlock agent`: the outbound agent (src/agent/run.ts, docs/agent.md). Flags, or the same keys in a YAML file
// (--config); flags win. Runs until SIGTERM/SIGINT.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { Agent, AgentError } from "../agent/run.ts";
import { connectionSchema } from "../gateway/config.ts";
import { openUpstream } from "../upstream/index.ts";
import type { ConnectionSpec } from "../upstream/types.ts";
import type { Command } from "./main.ts";

export const AGENT_VERSION = "0.19.0";
const DRAIN_MS = 25_000;

const HELP = `Usage: airlock agent --gateway URL --cluster NAME --join-token-file FILE [flags]

Runs next to a cluster and dials OUT to the gateway's agent port, so the cluster's API can stay private. The first
start exchanges a one-time join token ('airlock cluster join-token create NAME --ttl 1h') for a client certificate
bound to cluster NAME, kept in --state-dir; later starts reuse it (renewed before it expires).

Flags (each also a key of the --config file, in camelCase):
      --gateway URL            the gateway's agent port, e.g. https://airlock.example:8444        (gateway)
      --cluster NAME           the tunnel cluster this agent serves                              (cluster)
      --join-token-file FILE   the join token (read only when --state-dir holds no certificate)  (joinTokenFile)
      --gateway-ca-file FILE   the CA of the gateway's certificate, pinned (default: system CAs) (gatewayCaFile)
      --state-dir DIR          where the certificate and key are kept (default ./airlock-agent)  (stateDir)
      --kubeconfig FILE        reach the cluster with this kubeconfig ...                         (upstream.kubeconfig)
      --context NAME           ... and this context
      --in-cluster             reach the cluster with the pod's service account (the default)   (upstream.inCluster)
  -c, --config FILE            YAML with the keys above; 'upstream' may be any connection of docs/connections.md
                               (kubeconfig, server+tokenFile+caFile, inCluster, eks)
  -h, --help                   this help

Signals: SIGTERM drains: the gateway sends new requests to the cluster's other agents while open streams (watches,
exec) get up to 25 s to finish; a second SIGTERM, or SIGINT, stops at once. With no other agent connected, the
gateway answers 503 for the cluster until one is.
`;

const fileSchema = z.strictObject({
  gateway: z.string().optional(),
  cluster: z.string().optional(),
  joinTokenFile: z.string().optional(),
  gatewayCaFile: z.string().optional(),
  stateDir: z.string().optional(),
  upstream: z.unknown().optional(),
});

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function readConfig(path: string): Promise<z.infer<typeof fileSchema> & { base: string }> {
  const text = await readFile(path, "utf8");
  const parsed = fileSchema.safeParse(parseYaml(text) ?? {});
  if (!parsed.success) {
    throw new AgentError(
      `${path} is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")}`,
    );
  }
  return { ...parsed.data, base: dirname(resolve(path)) };
}

function upstreamSpec(
  cluster: string,
  flags: {
    kubeconfig?: string | undefined;
    context?: string | undefined;
    "in-cluster"?: boolean | undefined;
  },
  fromFile: unknown,
  base: string,
): ConnectionSpec {
  if (flags.kubeconfig) {
    return {
      name: cluster,
      kubeconfig: { path: resolve(flags.kubeconfig), ...(flags.context ? { context: flags.context } : {}) },
    };
  }
  if (flags["in-cluster"] || fromFile === undefined) return { name: cluster, inCluster: {} };
  const parsed = connectionSchema.safeParse({ name: cluster, ...(fromFile as object) });
  if (!parsed.success) {
    throw new AgentError(
      `upstream is not a connection of docs/connections.md: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const spec = parsed.data as ConnectionSpec;
  // Relative files in the config file are relative to it.
  if ("kubeconfig" in spec)
    return { ...spec, kubeconfig: { ...spec.kubeconfig, path: resolve(base, spec.kubeconfig.path) } };
  return spec;
}

export const agentCommand: Command = {
  summary: "run an agent next to a cluster: dial out to the gateway and carry its requests",
  async run(args) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          gateway: { type: "string" },
          cluster: { type: "string" },
          "join-token-file": { type: "string" },
          "gateway-ca-file": { type: "string" },
          "state-dir": { type: "string" },
          kubeconfig: { type: "string" },
          context: { type: "string" },
          "in-cluster": { type: "boolean" },
          config: { type: "string", short: "c" },
          help: { type: "boolean", short: "h" },
        },
      }));
    } catch (err) {
      process.stderr.write(`airlock agent: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
    const log = (event: object) =>
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    let agent: Agent;
    try {
      const file = str("config") ? await readConfig(str("config") as string) : undefined;
      const fromFile = (p: string | undefined) => (p && file ? resolve(file.base, p) : p);
      const gateway = str("gateway") ?? file?.gateway;
      const cluster = str("cluster") ?? file?.cluster;
      if (!gateway || !cluster) {
        process.stderr.write(
          `airlock agent: --gateway and --cluster are needed (flags or --config keys).\n\n${HELP}`,
        );
        return 2;
      }
      let url: URL;
      try {
        url = new URL(gateway);
      } catch {
        throw new AgentError(
          `--gateway "${gateway}" is not a URL (https://host:port of the gateway's agent port)`,
        );
      }
      if (url.protocol !== "https:")
        throw new AgentError("--gateway must be https: the tunnel is always TLS");
      if (!CLUSTER_NAME.test(cluster))
        throw new AgentError(`--cluster "${cluster}" is not a cluster name (a DNS label)`);
      const caFile = str("gateway-ca-file")
        ? resolve(str("gateway-ca-file") as string)
        : fromFile(file?.gatewayCaFile);
      const joinTokenFile = str("join-token-file")
        ? resolve(str("join-token-file") as string)
        : fromFile(file?.joinTokenFile);
      const stateDir = str("state-dir")
        ? resolve(str("state-dir") as string)
        : (fromFile(file?.stateDir) ?? resolve("airlock-agent"));
      const spec = upstreamSpec(
        cluster,
        {
          kubeconfig: str("kubeconfig"),
          context: str("context"),
          "in-cluster": values["in-cluster"] === true,
        },
        file?.upstream,
        file?.base ?? process.cwd(),
      );
      const upstream = await openUpstream(spec, { env: process.env, log, http2: false });
      agent = new Agent({
        gateway: url,
        cluster,
        ...(joinTokenFile ? { joinTokenFile } : {}),
        ...(caFile ? { gatewayCaPem: await readFile(caFile, "utf8") } : {}),
        stateDir,
        upstream,
        version: AGENT_VERSION,
        log,
      });
      await agent.start();
    } catch (err) {
      process.stderr.write(`airlock agent: ${(err as Error).message}\n`);
      return 1;
    }
    await new Promise<void>((done) => {
      // SIGTERM: drain (new requests go to the cluster's other agents, open streams get up to 25 s); a second
      // signal, or SIGINT, stops at once.
      let draining = false;
      const now = () => {
        agent.stop();
        done();
      };
      process.on("SIGTERM", () => {
        if (draining) return now();
        draining = true;
        void agent.drain(DRAIN_MS).then(done);
      });
      process.once("SIGINT", now);
    });
    return 0;
  },
};
