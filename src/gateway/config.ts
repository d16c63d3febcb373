// airlock.yaml: the gateway's configuration, validated once at start-up and then frozen.
//
// Every problem is reported at once, each with its path in the file ("clusters[0].kubeconfig.path: …"), so an
// operator fixes the file in one pass. Unknown keys are errors: a misspelt security setting must not be ignored.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { auditConfigSchema, resolveAuditPaths } from "../audit/config.ts";
import { mcpConfigSchema, resolveOAuthPaths } from "../identity/oauth-config.ts";
import {
  checkIdentityConfig,
  identityConfigSchema,
  resolveIdentityPaths,
} from "../identity/workload/config.ts";
import { recordingConfigSchema } from "../recording/config.ts";
import { checkStoreConfig, resolveStorePaths, storeConfigSchema } from "../store/pg/config.ts";

const clusterBase = {
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a DNS label"),
  impersonate: z.boolean().optional(),
};

/** How the gateway reaches a cluster: one of the connection kinds of docs/connections.md. */
export const connectionSchema = z.union([
  z.strictObject({
    ...clusterBase,
    kubeconfig: z.strictObject({ path: z.string().min(1), context: z.string().optional() }),
  }),
  z.strictObject({
    ...clusterBase,
    server: z.url(),
    token: z.string().optional(),
    tokenFile: z.string().optional(),
    clientCertFile: z.string().optional(),
    clientKeyFile: z.string().optional(),
    caFile: z.string().optional(),
    caData: z.string().optional(),
  }),
  z.strictObject({
    ...clusterBase,
    inCluster: z.strictObject({
      tokenFile: z.string().optional(),
      caFile: z.string().optional(),
      host: z.string().optional(),
      port: z.string().optional(),
    }),
  }),
  // An EKS cluster reached as IAM role Y, assumed from the gateway's own AWS credentials (src/upstream/eks.ts).
  z.strictObject({
    ...clusterBase,
    eks: z.strictObject({
      cluster: z.string().min(1),
      region: z.string().min(1),
      server: z.url(),
      caFile: z.string().optional(),
      caData: z.string().optional(),
      roleArn: z.string().min(1),
      externalId: z.string().min(2).optional(),
      sessionTags: z.record(z.string(), z.string()).optional(),
      stsEndpoint: z.url().optional(),
      sessionSeconds: z.number().int().min(900).max(43_200).optional(),
    }),
  }),
]);

// A tunnel cluster (docs/agent.md): reached only through its connected agents, which hold its address and
// credential; the gateway has neither.
const clusterSchema = z.union([
  connectionSchema,
  z.strictObject({ ...clusterBase, tunnel: z.strictObject({}) }),
]);

export const configSchema = z.strictObject({
  listen: z
    .strictObject({
      address: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8443),
    })
    .prefault({}),
  dataDir: z.string().default("./airlock-data"),
  tls: z
    .strictObject({ certFile: z.string(), keyFile: z.string(), caFile: z.string().optional() })
    .optional(),
  clusters: z.array(clusterSchema).min(1, "at least one cluster is needed"),
  // The port agents dial out to, for tunnel clusters (src/agent, docs/agent.md).
  agents: z
    .strictObject({
      listen: z
        .strictObject({
          address: z.string().default("0.0.0.0"),
          port: z.number().int().min(0).max(65535).default(8444),
        })
        .prefault({}),
      /** Lifetime of agent client certificates; agents renew at two thirds of it. */
      certificateHours: z.number().positive().max(720).default(24),
    })
    .optional(),
  defaultCluster: z.string().optional(),
  // Workload identity: trusted token issuers and the rules mapping their subjects to identities (docs/identities.md).
  identity: identityConfigSchema.prefault({}),
  // Either a built-in policy or policy files (files and directories of YAML; [] = only the managed directory
  // <dataDir>/policies written through the admin API). Neither: builtin deny-all (invariant 1).
  policy: z
    .strictObject({
      builtin: z.enum(["deny-all", "allow-authenticated"]).optional(),
      files: z.array(z.string().min(1)).optional(),
    })
    .prefault({}),
  reviews: z
    .strictObject({
      /** Where review notifications go: a generic JSON webhook or a Slack-compatible incoming webhook. */
      webhooks: z
        .array(z.strictObject({ url: z.url(), format: z.enum(["json", "slack"]).default("json") }))
        .default([]),
      /** How long an approval may be used: 90s, 30m, 1h, 1d (default 1h). */
      approvalTtl: z
        .string()
        .regex(/^(?:\d+[smhd])+$/, "a duration such as 30m, 1h or 1h30m")
        .default("1h"),
      /** The base URL reviewers reach the gateway at, for links in notifications; defaults to the listen address. */
      publicUrl: z.url().optional(),
    })
    .prefault({}),
  // Checkpoints, retention and sinks of the tamper-evident audit log (src/audit/config.ts, docs/audit.md).
  audit: auditConfigSchema.prefault({}),
  // Sessions and exec/attach/cp/port-forward recordings (src/recording/config.ts, docs/recordings.md).
  recording: recordingConfigSchema.prefault({}),
  // The store engine: sqlite (default, one replica) or postgres (several replicas; docs/storage.md).
  store: storeConfigSchema.default({ kind: "sqlite" }),
  log: z
    .strictObject({ level: z.enum(["debug", "info", "warn", "error", "silent"]).default("info") })
    .prefault({}),
  // Masking when the deciding rule names no profile (docs/masking.md). Agents are always masked: `default` unless
  // set here; humans (and admins) keep opt-in unless a profile is set for them. `none` is never a default: break-glass
  // is only ever what a rule says.
  masking: z
    .strictObject({
      defaults: z
        .strictObject({
          agents: z
            .string()
            .min(1)
            .refine(
              (v) => v !== "none",
              "agents are masked by default; `none` is only allowed in a rule (break-glass)",
            )
            .default("default"),
          humans: z
            .string()
            .min(1)
            .refine(
              (v) => v !== "none",
              "leave humans unset for opt-in masking; `none` is only allowed in a rule",
            )
            .optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxRequestBodyBytes: z
        .number()
        .int()
        .positive()
        .default(3 * 1024 * 1024),
      upstreamTimeoutSeconds: z.number().int().positive().default(60),
      /** Long-running streams (watch, log follow, exec, attach, port-forward) one identity may hold open at once. */
      maxStreamsPerIdentity: z.number().int().positive().default(100),
      // The listener's limits (src/server/limits.ts, docs/configuration.md#limits); all reloadable but maxHeaderBytes.
      /** Ordinary (not long-running) requests in flight, all identities together / one identity. */
      maxInFlightRequests: z.number().int().positive().default(1024),
      maxInFlightPerIdentity: z.number().int().positive().default(64),
      /** Open client connections, all clients together / from one client address. */
      maxConnections: z.number().int().positive().default(4096),
      maxConnectionsPerClient: z.number().int().positive().default(256),
      /** A request's header block (HTTP/1.1 request line + headers; HTTP/2 header list). */
      maxHeaderBytes: z
        .number()
        .int()
        .min(1024)
        .default(32 * 1024),
      /** From connection (or the end of the previous request) to a complete request head; also the TLS handshake. */
      requestHeaderTimeoutSeconds: z.number().positive().default(20),
      /** A request's body must arrive within this long after its head. */
      requestTimeoutSeconds: z.number().positive().default(60),
      /** A connection with no request in progress (keep-alive, an HTTP/2 session without streams) is closed. */
      idleTimeoutSeconds: z.number().positive().default(90),
    })
    .prefault({}),
  // Worker processes sharing the listener (`airlock serve --workers N` wins over it; docs/operations.md#workers).
  workers: z.number().int().min(1).max(64).default(1),
  // SIGTERM / SIGINT: how long in-flight requests may take to finish before they are ended (docs/operations.md).
  shutdown: z.strictObject({ gracePeriodSeconds: z.number().min(0).default(25) }).prefault({}),
  // The MCP endpoint's OAuth 2.1 authorization server (src/mcp/oauth/config.ts, docs/mcp.md "Authorization").
  mcp: mcpConfigSchema.prefault({}),
});

export type GatewayConfig = Readonly<z.infer<typeof configSchema>>;
export type ClusterConfig = z.infer<typeof clusterSchema>;

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; errors: string[] };

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

/** Validates a parsed configuration object; relative paths resolve against `baseDir` (the file's folder). */
export function validateConfig(raw: unknown, baseDir: string): ConfigResult {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map(
        (issue) => `${formatPath(issue.path) || "(top level)"}: ${issue.message}`,
      ),
    };
  }
  const config = parsed.data;
  const errors: string[] = [];
  const names = config.clusters.map((c) => c.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) errors.push(`clusters[${i}].name: duplicate cluster name "${name}"`);
  });
  const defaultCluster = config.defaultCluster ?? names[0];
  if (defaultCluster && !names.includes(defaultCluster)) {
    errors.push(`defaultCluster: "${defaultCluster}" is not one of the clusters (${names.join(", ")})`);
  }
  config.clusters.forEach((c, i) => {
    if ("tunnel" in c && !config.agents)
      errors.push(
        `clusters[${i}].tunnel: a tunnel cluster needs the agents section (the port its agents dial)`,
      );
  });
  errors.push(...checkIdentityConfig(config.identity, names));
  errors.push(...checkStoreConfig(config.store));
  if (config.policy.builtin && config.policy.files) {
    errors.push("policy: choose either builtin or files, not both");
  }
  if (errors.length) return { ok: false, errors };
  const abs = (p: string) => resolve(baseDir, p);
  const policy = config.policy.files
    ? { files: config.policy.files.map(abs) }
    : { builtin: config.policy.builtin ?? ("deny-all" as const) };
  const clusters = config.clusters.map((c) => {
    if ("kubeconfig" in c) return { ...c, kubeconfig: { ...c.kubeconfig, path: abs(c.kubeconfig.path) } };
    if ("server" in c) {
      return {
        ...c,
        ...(c.tokenFile ? { tokenFile: abs(c.tokenFile) } : {}),
        ...(c.clientCertFile ? { clientCertFile: abs(c.clientCertFile) } : {}),
        ...(c.clientKeyFile ? { clientKeyFile: abs(c.clientKeyFile) } : {}),
        ...(c.caFile ? { caFile: abs(c.caFile) } : {}),
      };
    }
    if ("eks" in c && c.eks.caFile) return { ...c, eks: { ...c.eks, caFile: abs(c.eks.caFile) } };
    return c;
  });
  const tls = config.tls
    ? {
        certFile: abs(config.tls.certFile),
        keyFile: abs(config.tls.keyFile),
        ...(config.tls.caFile ? { caFile: abs(config.tls.caFile) } : {}),
      }
    : undefined;
  return {
    ok: true,
    config: deepFreeze({
      ...config,
      audit: resolveAuditPaths(config.audit, abs),
      clusters,
      identity: resolveIdentityPaths(config.identity, abs),
      store: resolveStorePaths(config.store, abs),
      tls,
      policy,
      dataDir: abs(config.dataDir),
      defaultCluster,
      mcp: { oauth: resolveOAuthPaths(config.mcp.oauth, abs) },
    }),
  };
}

/** Reads and validates airlock.yaml. YAML syntax errors are reported with line and column. */
export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { ok: false, errors: [`cannot read ${path}: ${(err as Error).message}`] };
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    return { ok: false, errors: doc.errors.map((e) => `${path}: ${e.message.split("\n")[0]}`) };
  }
  return validateConfig(doc.toJS(), dirname(resolve(path)));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
