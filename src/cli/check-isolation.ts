// `airlock check-isolation`: run inside an AI agent's pod (or on its host with --kubeconfig) to see whether any way
// to the cluster bypasses Airlock. Prints one verdict per path with what to change; exit 1 when any path is open.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkIsolation, DEFAULT_METADATA, DEFAULT_SA_DIR, formatVerdicts } from "./isolation.ts";
import type { Command } from "./main.ts";

const HELP = `Usage: airlock check-isolation [--airlock URL]... [--kubeconfig FILE]... [flags]

Tries every way around the gateway this process could know of and prints a verdict per path:
  - the API server: KUBERNETES_SERVICE_HOST/PORT, --api-server, and the servers of kubeconfigs found
    (TCP connect, then GET /version without and GET /api with the mounted token);
  - a mounted service-account token (and IRSA / Pod Identity token files);
  - AWS credentials (environment, ~/.aws, web identity token file, container credentials) that could call
    eks:DescribeCluster or mint an EKS token (reported, never used: nothing is sent to AWS);
  - instance-metadata endpoints (TCP connect only);
  - kubeconfigs on disk ($KUBECONFIG, ~/.kube/config, --kubeconfig, /etc/kubernetes/*.conf, kubelet's) that name
    anything but Airlock.
Exit code 0 when every path is closed, 1 when any is open, 2 on bad flags.

Flags:
      --airlock URL               Airlock's address (default $AIRLOCK_SERVER); kubeconfigs naming it are fine
      --kubeconfig FILE           also check this kubeconfig (e.g. the agent's, from its host)
      --api-server HOST:PORT      also try this API server address (e.g. the EKS endpoint)
      --service-account-dir DIR   where a token would be mounted (default ROOT${DEFAULT_SA_DIR})
      --root DIR                  read the well-known paths (token mounts, /etc/kubernetes/*.conf, kubelet's
                                  kubeconfig) under DIR: a mounted image, or a test's fixture (default /)
      --metadata-endpoint H:P     instance-metadata endpoints to try (default ${DEFAULT_METADATA.join(", ")})
      --no-metadata               do not try instance-metadata endpoints
      --timeout-ms N              per connection attempt (default 2000)
      --json                      print the verdicts as JSON
  -h, --help                      this help
`;

export const checkIsolationCommand: Command = {
  summary: "check that an agent's pod cannot reach the cluster except through Airlock",
  async run(args) {
    let values: Record<string, string | string[] | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          airlock: { type: "string", multiple: true },
          kubeconfig: { type: "string", multiple: true },
          "api-server": { type: "string", multiple: true },
          "service-account-dir": { type: "string" },
          root: { type: "string" },
          "metadata-endpoint": { type: "string", multiple: true },
          "no-metadata": { type: "boolean" },
          "timeout-ms": { type: "string" },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
      }));
    } catch (err) {
      process.stderr.write(`airlock check-isolation: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const timeoutMs = Number(values["timeout-ms"] ?? 2000);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      process.stderr.write(
        "airlock check-isolation: --timeout-ms takes a positive whole number of milliseconds.\n",
      );
      return 2;
    }
    const root = (values.root as string | undefined) ?? "/";
    const list = (k: string) => (values[k] as string[] | undefined) ?? [];
    const airlock = list("airlock");
    if (airlock.length === 0 && process.env.AIRLOCK_SERVER) airlock.push(process.env.AIRLOCK_SERVER);
    const verdicts = await checkIsolation({
      env: process.env,
      serviceAccountDir: (values["service-account-dir"] as string | undefined) ?? join(root, DEFAULT_SA_DIR),
      root,
      kubeconfigs: list("kubeconfig"),
      airlock,
      apiServers: list("api-server"),
      metadataEndpoints: values["no-metadata"]
        ? []
        : list("metadata-endpoint").length
          ? list("metadata-endpoint")
          : DEFAULT_METADATA,
      timeoutMs,
    });
    process.stdout.write(values.json ? `${JSON.stringify(verdicts, null, 2)}\n` : formatVerdicts(verdicts));
    return verdicts.some((v) => v.open) ? 1 : 0;
  },
};
