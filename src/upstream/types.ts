// The shapes of an upstream connection: what the operator configures (ConnectionSpec), the normalised form every
// kind is reduced to (ResolvedConnection), and what the forwarder holds (Upstream).
//
// Security stance: a ResolvedConnection names files and commands, and may hold an inline token or key; such values are
// secrets and must never be copied into an error message or a log event (only the field or file that held them).
import type https from "node:https";

export type ConnectionSpec =
  | { name: string; kubeconfig: { path: string; context?: string }; impersonate?: boolean }
  | {
      name: string;
      server: string;
      token?: string;
      tokenFile?: string;
      clientCertFile?: string;
      clientKeyFile?: string;
      caFile?: string;
      /** PEM text, or base64 of PEM text (as in a kubeconfig's certificate-authority-data). */
      caData?: string;
      /** Only `false` is accepted: the gateway never turns TLS verification off. */
      insecureSkipTlsVerify?: boolean;
      impersonate?: boolean;
    }
  | {
      name: string;
      /** Defaults: /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}; host and port from the caller's env
       *  (KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT). */
      inCluster: { tokenFile?: string; caFile?: string; host?: string; port?: string };
      impersonate?: boolean;
    }
  | { name: string; eks: EksSpec; impersonate?: boolean };

/** An EKS cluster reached as IAM role Y, assumed from the gateway's own AWS credentials (role X); see eks.ts. */
export interface EksSpec {
  /** The EKS cluster name: the signed x-k8s-aws-id of every token. */
  cluster: string;
  region: string;
  /** The cluster's API endpoint (https). */
  server: string;
  caFile?: string;
  /** PEM text, or base64 of PEM text (as `aws eks describe-cluster` prints certificateAuthority.data). */
  caData?: string;
  /** Role Y. */
  roleArn: string;
  externalId?: string;
  /** Session tags on every AssumeRole (the role's trust policy must allow sts:TagSession). */
  sessionTags?: Record<string, string>;
  /** Defaults to https://sts.<region>.amazonaws.com; set for a VPC endpoint (or a loopback test STS). */
  stsEndpoint?: string;
  /** Role Y session lifetime asked of STS (900–43200 s; default 3600). */
  sessionSeconds?: number;
}

/** PEM text held inline, or a file to (re-)read. `origin` names where inline text came from, for errors. */
export type Material = { file: string } | { pem: string; origin: string };

/** An exec credential plugin, as a kubeconfig's users[].user.exec describes it (paths already resolved). */
export interface ExecConfig {
  apiVersion: "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1";
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  provideClusterInfo: boolean;
  /** The cluster as the plugin may see it in KUBERNETES_EXEC_INFO (only with provideClusterInfo). */
  cluster: {
    server: string;
    "tls-server-name"?: string;
    "certificate-authority-data"?: string;
    config?: unknown;
  };
}

export interface ResolvedAuth {
  token?: string;
  tokenFile?: string;
  clientCert?: Material;
  clientKey?: Material;
  exec?: ExecConfig;
}

/** Every connection kind reduced to one shape; `where` says where it was configured, for error messages. */
export interface ResolvedConnection {
  name: string;
  where: string;
  server: URL;
  tlsServerName?: string;
  ca?: Material;
  auth: ResolvedAuth;
  impersonate: boolean;
}

export interface Upstream {
  name: string;
  /** Base URL; may carry a path prefix (e.g. a Rancher proxy's /k8s/clusters/c-x). */
  url: URL;
  /** Whether the forwarder should add Impersonate-* headers (default true). */
  impersonate: boolean;
  /** Keep-alive pool with the connection's CA and client certificate. Replaced when that material rotates, so read
   *  it through requestOptions() rather than keeping a reference. */
  readonly agent: https.Agent;
  /** Headers carrying the connection's credential, fresh (exec plugin output cached until shortly before expiry;
   *  token files re-read when they change). */
  credentialHeaders(actor?: string): Promise<Record<string, string>>;
  /** Request options for a path+query on this cluster: base path joined, credential added, TLS material current.
   *  Any client Authorization, Proxy-Authorization or Host header in `headers` is dropped.
   *  `actor` is the acting identity's name (Principal.name): connections that can act per caller (EKS: one assumed-role
   *  session per identity, so CloudTrail names it) use it; without it, the gateway's own session is used. */
  requestOptions(
    method: string,
    pathAndQuery: string,
    headers: [string, string][],
    actor?: string,
  ): Promise<https.RequestOptions>;
  /** Forget the cached credential (the forwarder calls this after a 401) so the next request fetches a fresh one. */
  invalidate(): void;
  close(): void;
}

export interface OpenOptions {
  /** Structured log sink. Events are `{ severity: "debug"|"info"|"warn", event: "upstream.…", cluster, … }` and never
   *  carry secret values (files and commands only). */
  log?: (event: object) => void;
  /** Environment for exec plugins and in-cluster defaults; library code never reads process.env itself. */
  env?: Record<string, string | undefined>;
  /** How often files (tokens, certificates) are checked for change; default 1000 ms. */
  fileCheckIntervalMs?: number;
  /** Exec plugin time limit; default 30 s. */
  execTimeoutMs?: number;
  maxSockets?: number;
  maxFreeSockets?: number;
  /** Offer HTTP/2 to the cluster (ALPN) for ordinary requests and watches; default true. Upgrades stay HTTP/1.1. */
  http2?: boolean;
  /** Clock, for tests. */
  now?: () => number;
  /** AWS side of EKS connections; defaults: the SDK's default credential chain, the system's trusted CAs. */
  aws?: {
    /** The gateway's own credentials (role X). */
    credentials?: () => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    }>;
    /** Extra CA (PEM) for the STS endpoint (a loopback test STS). */
    stsCaPem?: string;
  };
}
