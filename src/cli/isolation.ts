// The ways around the gateway that a process in an agent's pod (or on its host) could know of, each checked from
// where it runs: the API server's address (KUBERNETES_SERVICE_HOST/PORT, any --api-server, the servers of kubeconfigs
// found) by TCP connect plus an unauthenticated and an authenticated request; a mounted service-account token;
// AWS credentials that could call eks:DescribeCluster or mint an EKS token (env, files, web identity, container
// credentials, instance metadata reachability); kubeconfigs on disk that point anywhere but Airlock.
//
// Failure stance: a path is OPEN when it exists, whether or not it is known to work (we cannot see RBAC or IAM from
// here, and AWS is never called: nothing leaves the machine but connections to the addresses checked). Tokens are
// never printed; a JWT's claims (subject, expiry) are shown without its signature.

import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

export interface PathVerdict {
  path: string;
  open: boolean;
  detail: string[];
  fix?: string;
}

export interface IsolationOptions {
  env: Record<string, string | undefined>;
  /** Where a pod's service-account token is mounted. */
  serviceAccountDir: string;
  /** The filesystem root the well-known paths (WELL_KNOWN) are read under: "/" but in tests or on a mounted image. */
  root: string;
  /** Extra kubeconfig files (--kubeconfig). */
  kubeconfigs: string[];
  /** Airlock's URLs: kubeconfigs naming these are fine. */
  airlock: string[];
  /** Extra API server addresses to try (HOST:PORT). */
  apiServers: string[];
  /** Instance-metadata / container-credential endpoints to try (HOST:PORT); [] = none. */
  metadataEndpoints: string[];
  timeoutMs: number;
}

export const DEFAULT_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Files that hold a credential wherever the environment says nothing about them (read under `root`). */
export const WELL_KNOWN = {
  /** IRSA's projected token (the webhook's default mount), usable for sts:AssumeRoleWithWebIdentity. */
  awsTokenFiles: [
    "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
  ],
  /** Kubeconfigs of a node or a control plane host, for runs on an agent's host. */
  kubeconfigs: [
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/kubelet.conf",
    "/var/lib/kubelet/kubeconfig",
    "/root/.kube/config",
  ],
};
export const DEFAULT_METADATA = ["169.254.169.254:80", "169.254.170.23:80"];

const NETWORK_FIX =
  "exclude this address from the agents' egress NetworkPolicy (ipBlock.except in deploy/kubernetes/agents/networkpolicy.yaml) and run a CNI that enforces NetworkPolicy";

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The claims of a JWT, shown without the token: who it names and until when. */
function jwtSummary(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      sub?: string;
      exp?: number;
    };
    const exp = claims.exp ? `, expires ${new Date(claims.exp * 1000).toISOString()}` : "";
    return claims.sub ? `a JWT for ${claims.sub}${exp}` : "a token";
  } catch {
    return "a token";
  }
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once("connect", () => done(undefined));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** One HTTPS GET, certificate not checked (we only ask whether the server answers, and sending a token only when given). */
function httpsStatus(host: string, port: number, path: string, token: string | undefined, timeoutMs: number) {
  return new Promise<string>((resolve) => {
    const req = request(
      {
        host,
        port,
        path,
        method: "GET",
        rejectUnauthorized: false,
        agent: false,
        timeout: timeoutMs,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        res.resume();
        resolve(String(res.statusCode));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(`no HTTPS answer (${err.code ?? err.message})`));
    req.end();
  });
}

function hostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  return { host: m[1] ?? "", port: m[2] ? Number(m[2]) : defaultPort };
}

function serviceAccountToken(opts: IsolationOptions): { verdict: PathVerdict; token?: string } {
  const tokenPath = join(opts.serviceAccountDir, "token");
  const token = readText(tokenPath)?.trim();
  if (!token) {
    return {
      verdict: {
        path: `service-account token (${tokenPath})`,
        open: false,
        detail: ["no token mounted"],
      },
    };
  }
  const ns = readText(join(opts.serviceAccountDir, "namespace"))?.trim();
  return {
    token,
    verdict: {
      path: `service-account token (${tokenPath})`,
      open: true,
      detail: [
        `${jwtSummary(token)} is mounted${ns ? ` (namespace ${ns})` : ""}: anything in this pod can present it to the API server`,
      ],
      fix: "set automountServiceAccountToken: false on the agents' ServiceAccount and pod spec, and bind it to no Role (deploy/kubernetes/agents)",
    },
  };
}

async function apiServer(
  label: string,
  target: { host: string; port: number },
  token: string | undefined,
  opts: IsolationOptions,
): Promise<PathVerdict> {
  const path = `${label} ${target.host}:${target.port}`;
  const problem = await tcpOpen(target.host, target.port, opts.timeoutMs);
  if (problem) return { path, open: false, detail: [`TCP connect fails (${problem})`] };
  const detail = [
    "TCP connect succeeds",
    `unauthenticated GET /version: ${await httpsStatus(target.host, target.port, "/version", undefined, opts.timeoutMs)}`,
  ];
  if (token) {
    const code = await httpsStatus(target.host, target.port, "/api", token, opts.timeoutMs);
    detail.push(
      `GET /api with the mounted service-account token: ${code}${code === "200" ? " (the token is accepted)" : ""}`,
    );
  }
  return { path, open: true, detail, fix: NETWORK_FIX };
}

function awsCredentials(opts: IsolationOptions): PathVerdict {
  const env = opts.env;
  const home = env.HOME ?? homedir();
  const found: string[] = [];
  if (env.AWS_ACCESS_KEY_ID)
    found.push(`AWS_ACCESS_KEY_ID is set${env.AWS_SESSION_TOKEN ? " (with a session token)" : ""}`);
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    const present = existsSync(env.AWS_WEB_IDENTITY_TOKEN_FILE);
    found.push(
      `web identity token file ${env.AWS_WEB_IDENTITY_TOKEN_FILE}${present ? "" : " (named, missing)"} for role ${env.AWS_ROLE_ARN ?? "(AWS_ROLE_ARN unset)"} (IRSA)`,
    );
  }
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
    found.push("container credentials endpoint (EKS Pod Identity / ECS task role) is configured");
  }
  if (env.AWS_PROFILE) found.push(`AWS_PROFILE=${env.AWS_PROFILE}`);
  for (const file of WELL_KNOWN.awsTokenFiles) {
    if (readText(join(opts.root, file))?.trim()) found.push(`a token for an IAM role is mounted at ${file}`);
  }
  for (const file of [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, ".aws", "credentials"),
    env.AWS_CONFIG_FILE ?? join(home, ".aws", "config"),
  ]) {
    const text = readText(file);
    if (
      text &&
      /^\s*(aws_access_key_id|role_arn|credential_process|sso_start_url|sso_session|web_identity_token_file)\s*=/m.test(
        text,
      )
    ) {
      found.push(`${file} holds credentials or a role to assume`);
    }
  }
  if (found.length === 0)
    return { path: "AWS credentials", open: false, detail: ["none in the environment or ~/.aws"] };
  return {
    path: "AWS credentials",
    open: true,
    detail: [
      ...found,
      "with them, eks:DescribeCluster finds the API endpoint and `aws eks get-token` mints a token the cluster accepts if the principal has an EKS access entry (not called: this check sends nothing to AWS)",
    ],
    fix: "give the agents' ServiceAccount no IAM role (no IRSA annotation, no pod identity association), remove the credentials, and give the agents' IAM role no EKS access entry (docs/deploy-eks.md)",
  };
}

async function metadata(opts: IsolationOptions): Promise<PathVerdict[]> {
  const out: PathVerdict[] = [];
  for (const endpoint of opts.metadataEndpoints) {
    const target = hostPort(endpoint, 80);
    if (!target) continue;
    const problem = await tcpOpen(target.host, target.port, opts.timeoutMs);
    out.push(
      problem
        ? {
            path: `instance metadata / credential endpoint ${endpoint}`,
            open: false,
            detail: [`TCP connect fails (${problem})`],
          }
        : {
            path: `instance metadata / credential endpoint ${endpoint}`,
            open: true,
            detail: [
              "TCP connect succeeds: the node's or a pod identity's AWS credentials may be fetched from here",
            ],
            fix: "exclude 169.254.169.254/32 and 169.254.170.23/32 in the agents' egress NetworkPolicy; on EC2 set the metadata hop limit to 1 (IMDSv2)",
          },
    );
  }
  return out;
}

/** A kubeconfig as found on disk: anything may be missing. */
interface LooseKubeconfig {
  clusters?: ({ name?: string; cluster?: { server?: string } } | null)[];
  users?: ({ name?: string; user?: Record<string, unknown> } | null)[];
  contexts?: ({ context?: { cluster?: string; user?: string } } | null)[];
}

interface FoundKubeconfig {
  file: string;
  servers: { cluster: string; server: string; credential: boolean }[];
}

function kubeconfigsOnDisk(opts: IsolationOptions): { files: FoundKubeconfig[]; unreadable: string[] } {
  const home = opts.env.HOME ?? homedir();
  const candidates = [
    ...opts.kubeconfigs,
    ...WELL_KNOWN.kubeconfigs.map((f) => join(opts.root, f)),
    ...(opts.env.KUBECONFIG ?? "").split(":").filter(Boolean),
    join(home, ".kube", "config"),
  ];
  const files: FoundKubeconfig[] = [];
  const unreadable: string[] = [];
  for (const file of [...new Set(candidates)]) {
    const text = readText(file);
    if (text === undefined) continue;
    try {
      const doc = (parse(text) ?? {}) as LooseKubeconfig;
      const users = new Set(
        (doc.users ?? []).filter((u) => u?.user && Object.keys(u.user).length).map((u) => u?.name),
      );
      const contexts = doc.contexts ?? [];
      files.push({
        file,
        servers: (doc.clusters ?? []).map((c) => ({
          cluster: String(c?.name),
          server: String(c?.cluster?.server ?? ""),
          credential: contexts.some((x) => x?.context?.cluster === c?.name && users.has(x?.context?.user)),
        })),
      });
    } catch {
      unreadable.push(file);
    }
  }
  return { files, unreadable };
}

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/** Runs every check; the verdicts in the order printed. */
export async function checkIsolation(opts: IsolationOptions): Promise<PathVerdict[]> {
  const verdicts: PathVerdict[] = [];
  const sa = serviceAccountToken(opts);
  const targets: { label: string; host: string; port: number }[] = [];
  const host = opts.env.KUBERNETES_SERVICE_HOST;
  if (host) {
    targets.push({
      label: "in-cluster API server (KUBERNETES_SERVICE_HOST)",
      host,
      port: Number(opts.env.KUBERNETES_SERVICE_PORT || 443),
    });
  } else {
    verdicts.push({
      path: "in-cluster API server (KUBERNETES_SERVICE_HOST)",
      open: false,
      detail: ["not set: not in a pod, or nothing to try"],
    });
  }
  for (const a of opts.apiServers) {
    const t = hostPort(a, 443);
    if (t) targets.push({ label: "API server (--api-server)", ...t });
  }
  const airlock = new Set(opts.airlock.map(originOf));
  const { files, unreadable } = kubeconfigsOnDisk(opts);
  for (const f of files) {
    const elsewhere = f.servers.filter((s) => !airlock.has(originOf(s.server)));
    if (elsewhere.length === 0) {
      verdicts.push({
        path: `kubeconfig ${f.file}`,
        open: false,
        detail: ["every cluster in it is Airlock"],
      });
      continue;
    }
    verdicts.push({
      path: `kubeconfig ${f.file}`,
      open: true,
      detail: elsewhere.map(
        (s) =>
          `cluster ${s.cluster} → ${s.server}${airlock.size ? " is not Airlock" : " (no Airlock address given: pass --airlock URL)"}${s.credential ? ", with a credential" : ""}`,
      ),
      fix: "delete it, or make it name Airlock only (`airlock kubeconfig` writes one)",
    });
    for (const s of elsewhere) {
      try {
        const u = new URL(s.server);
        if (u.protocol === "https:")
          targets.push({
            label: `API server of kubeconfig cluster ${s.cluster}`,
            host: u.hostname.replace(/^\[|\]$/g, ""),
            port: Number(u.port || 443),
          });
      } catch {
        // not a URL: already reported above
      }
    }
  }
  for (const file of unreadable) {
    verdicts.push({
      path: `kubeconfig ${file}`,
      open: true,
      detail: ["not a readable kubeconfig: cannot tell where it points"],
      fix: "delete it",
    });
  }
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.host}:${t.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    verdicts.push(await apiServer(t.label, t, sa.token, opts));
  }
  verdicts.push(sa.verdict);
  verdicts.push(awsCredentials(opts));
  verdicts.push(...(await metadata(opts)));
  return verdicts;
}

export function formatVerdicts(verdicts: PathVerdict[]): string {
  const open = verdicts.filter((v) => v.open).length;
  const lines = verdicts.flatMap((v) => [
    `${v.open ? "OPEN  " : "closed"}  ${v.path}`,
    ...v.detail.map((d) => `        ${d}`),
    ...(v.open && v.fix ? [`        fix: ${v.fix}`] : []),
  ]);
  const summary =
    open === 0
      ? `${verdicts.length} paths checked: none open. Every way to the cluster this process could know of goes through Airlock.`
      : `${verdicts.length} paths checked: ${open} open. Close each OPEN path (fix: …) and run airlock check-isolation again.`;
  return `${lines.join("\n")}\n\n${summary}\n`;
}
