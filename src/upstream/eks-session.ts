// Role Y sessions and EKS tokens, one per acting identity: AssumeRole with RoleSessionName `airlock-<identity>` (so the
// cluster's audit log, via an access entry's {{SessionName}}, and CloudTrail name the real actor), then a presigned
// GetCallerIdentity token. Both are cached: credentials until 5 minutes before they expire, tokens until one minute
// before their 14 minutes (or the credentials) run out; concurrent requests share one AssumeRole.
//
// Security stance: role X and role Y credentials and the tokens live only in memory, in this module; errors name the
// role, the session and STS's error code, never a key, a session token or an EKS token.
import { createHash } from "node:crypto";
import https from "node:https";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { type AwsCredentials, presignEksToken } from "./eks-token.ts";
import { credentialError } from "./errors.ts";
import type { EksSpec, OpenOptions } from "./types.ts";

/** The gateway's own session (no acting identity). Identities always get `airlock-<name>`, so they cannot collide. */
export const GATEWAY_SESSION = "airlock";
const CREDENTIAL_MARGIN_MS = 5 * 60_000;
const TOKEN_MARGIN_MS = 60_000;
const MAX_SESSIONS = 1000;

/** STS's RoleSessionName rules: [\w+=,.@-], 2–64 characters. Long names keep a hash so they stay distinct. */
export function sessionNameFor(actor?: string): string {
  if (actor === undefined || actor === "") return GATEWAY_SESSION;
  const clean = `airlock-${actor.replace(/[^\w+=,.@-]/g, "-")}`;
  if (clean.length <= 64 && clean === `airlock-${actor}`) return clean;
  const hash = createHash("sha256").update(actor).digest("hex").slice(0, 8);
  return `${clean.slice(0, 55)}-${hash}`;
}

interface Session {
  credentials?: Promise<AwsCredentials>;
  credentialsExpireAt: number;
  token?: { value: string; refreshAt: number };
}

export interface EksSessionsOptions {
  name: string;
  spec: EksSpec;
  opts: OpenOptions;
}

export class EksSessions {
  readonly #name: string;
  readonly #spec: EksSpec;
  readonly #now: () => number;
  readonly #log: (e: object) => void;
  readonly #sts: STSClient;
  readonly #sessions = new Map<string, Session>();

  constructor({ name, spec, opts }: EksSessionsOptions) {
    this.#name = name;
    this.#spec = spec;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log ?? (() => {});
    const credentials = opts.aws?.credentials ?? defaultChain();
    this.#sts = new STSClient({
      region: spec.region,
      credentials,
      ...(spec.stsEndpoint ? { endpoint: spec.stsEndpoint } : {}),
      maxAttempts: 2,
      requestHandler: {
        httpsAgent: new https.Agent({
          keepAlive: true,
          ...(opts.aws?.stsCaPem ? { ca: opts.aws.stsCaPem } : {}),
        }),
        requestTimeout: 10_000,
      },
    });
  }

  /** `Authorization` for a request made on behalf of `actor` (the gateway's own session when undefined). */
  async token(actor?: string): Promise<string> {
    const session = sessionNameFor(actor);
    const now = this.#now();
    let s = this.#sessions.get(session);
    if (s?.token && now < s.token.refreshAt) return s.token.value;
    const live = s?.credentials && now < s.credentialsExpireAt ? s : this.#assume(session);
    s = live;
    const credentials = await (live.credentials as Promise<AwsCredentials>);
    const minted = await presignEksToken({
      cluster: this.#spec.cluster,
      region: this.#spec.region,
      credentials,
      ...(this.#spec.stsEndpoint ? { stsEndpoint: this.#spec.stsEndpoint } : {}),
      now,
    });
    const credsEnd = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    s.token = { value: minted.token, refreshAt: Math.min(minted.expiresAt, credsEnd) - TOKEN_MARGIN_MS };
    this.#log({ severity: "debug", event: "upstream.eks.token", cluster: this.#name, session });
    return minted.token;
  }

  /** Forget every cached session and token (after a 401). */
  invalidate(): void {
    this.#sessions.clear();
  }

  close(): void {
    this.#sessions.clear();
    this.#sts.destroy();
  }

  #assume(session: string): Session {
    this.#evict();
    const entry: Session = { credentialsExpireAt: Number.POSITIVE_INFINITY };
    const spec = this.#spec;
    entry.credentials = this.#sts
      .send(
        new AssumeRoleCommand({
          RoleArn: spec.roleArn,
          RoleSessionName: session,
          DurationSeconds: spec.sessionSeconds ?? 3600,
          ...(spec.externalId ? { ExternalId: spec.externalId } : {}),
          ...(spec.sessionTags
            ? { Tags: Object.entries(spec.sessionTags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
      )
      .then(
        (out) => {
          const c = out.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
            throw new Error("STS answered AssumeRole without credentials");
          entry.credentialsExpireAt = c.Expiration.getTime() - CREDENTIAL_MARGIN_MS;
          this.#log({
            severity: "info",
            event: "upstream.eks.assumed",
            cluster: this.#name,
            role: spec.roleArn,
            session,
            expires: c.Expiration.toISOString(),
          });
          return {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration: c.Expiration,
          };
        },
        (err: Error & { name?: string }) => {
          // A failed AssumeRole is not cached: the next request tries again.
          if (this.#sessions.get(session) === entry) this.#sessions.delete(session);
          throw credentialError(
            this.#name,
            `AssumeRole of ${spec.roleArn} as session ${session} failed: ${err.name ?? "Error"}: ${firstLine(err.message)}`,
          );
        },
      );
    this.#sessions.set(session, entry);
    return entry;
  }

  /** Bounded: drop expired sessions, then the oldest, so many identities cannot grow memory without limit. */
  #evict(): void {
    if (this.#sessions.size < MAX_SESSIONS) return;
    const now = this.#now();
    for (const [k, v] of this.#sessions) if (now >= v.credentialsExpireAt) this.#sessions.delete(k);
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
  }
}

function firstLine(s: string): string {
  return (s.split("\n")[0] ?? "").slice(0, 300);
}

/** The SDK's default chain (env, SSO, web identity/IRSA, EKS Pod Identity, ECS, instance role), loaded on first use. */
function defaultChain(): () => Promise<AwsCredentials> {
  let provider: (() => Promise<AwsCredentials>) | undefined;
  return async () => {
    if (!provider) {
      const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
      provider = fromNodeProviderChain();
    }
    return provider();
  };
}
