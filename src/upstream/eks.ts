// The EKS connection kind: the cluster's endpoint and CA as any server connection (upstream.ts keeps the pool and
// TLS material), with the credential minted per acting identity by eks-session.ts: role X → AssumeRole(role Y,
// session airlock-<identity>) → presigned GetCallerIdentity → `Authorization: Bearer k8s-aws-v1.…`.
//
// The token is only read when a request starts, so a watch or exec session opened with one token outlives it; the
// next request gets a fresh one. Fail closed: without a token the request is not sent (503 from eks-session.ts).
import type https from "node:https";
import { EksSessions } from "./eks-session.ts";
import type { EksSpec, OpenOptions, ResolvedConnection, Upstream } from "./types.ts";
import { OpenUpstream } from "./upstream.ts";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/** Problems of an EKS spec that the schema cannot see (field, message); empty when fine. */
export function checkEksSpec(spec: EksSpec): [string, string][] {
  const problems: [string, string][] = [];
  if (!ROLE_ARN.test(spec.roleArn)) problems.push(["eks.roleArn", "not an IAM role ARN"]);
  if (!REGION.test(spec.region)) problems.push(["eks.region", "not an AWS region name"]);
  if (!/^[\w-]{1,100}$/.test(spec.cluster)) problems.push(["eks.cluster", "not an EKS cluster name"]);
  if (spec.stsEndpoint && !spec.stsEndpoint.startsWith("https://"))
    problems.push(["eks.stsEndpoint", "must be https"]);
  const s = spec.sessionSeconds;
  if (s !== undefined && (!Number.isInteger(s) || s < 900 || s > 43_200))
    problems.push(["eks.sessionSeconds", "STS accepts 900 to 43200 seconds"]);
  return problems;
}

export class EksUpstream implements Upstream {
  readonly name: string;
  readonly url: URL;
  readonly impersonate: boolean;
  readonly #inner: OpenUpstream;
  readonly #sessions: EksSessions;

  constructor(conn: ResolvedConnection, spec: EksSpec, opts: OpenOptions) {
    this.#inner = new OpenUpstream(conn, opts);
    this.#sessions = new EksSessions({ name: conn.name, spec, opts });
    this.name = conn.name;
    this.url = conn.server;
    this.impersonate = conn.impersonate;
  }

  get agent(): https.Agent {
    return this.#inner.agent;
  }

  /** TLS material only; like exec plugins, STS is first asked on first use so a brief STS outage does not stop start-up. */
  prime(): Promise<void> {
    return this.#inner.prime();
  }

  async credentialHeaders(actor?: string): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.#sessions.token(actor)}` };
  }

  async requestOptions(
    method: string,
    pathAndQuery: string,
    headers: [string, string][],
    actor?: string,
  ): Promise<https.RequestOptions> {
    const [options, credential] = await Promise.all([
      this.#inner.requestOptions(method, pathAndQuery, headers),
      this.credentialHeaders(actor),
    ]);
    // The inner connection has no credential of its own and drops any client Authorization; add ours last.
    const flat = options.headers as string[];
    for (const [k, v] of Object.entries(credential)) flat.push(k, v);
    return options;
  }

  invalidate(): void {
    this.#sessions.invalidate();
    this.#inner.invalidate();
  }

  close(): void {
    this.#sessions.close();
    this.#inner.close();
  }
}
