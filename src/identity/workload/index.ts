// Workload identity: an authenticator link (src/identity/authenticate.ts) for tokens a workload already holds, with no
// static Airlock secret: OIDC JWTs (oidc.ts), Kubernetes service-account tokens through TokenReview (tokenreview.ts)
// and EKS-style AWS IAM tokens through STS (aws-verifier.ts). Mapping rules (mapping.ts) name the Airlock identity.
//
// Security stance: a link claims a token only when it is recognisably for a configured issuer (the k8s-aws-v1.
// prefix, or a JWT whose `iss` is configured); then it authenticates or refuses (401), never passes it on. Remote
// verdicts are cached by the token's SHA-256 for at most a minute (and never past the token's expiry); the identity's
// state is checked on every request, so revocation still takes effect at once. Tokens are never stored or logged:
// the principal's credential id is `workload:<issuer>:<subject>`.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { unauthorized } from "../../kube/refusals.ts";
import { bearerToken } from "../../shared/tokens.ts";
import type { Upstream } from "../../upstream/types.ts";
import type { Authenticator, AuthResult } from "../authenticate.ts";
import type { IdentityStore } from "../types.ts";
import { createAwsVerifier } from "./aws-verifier.ts";
import type { IdentityConfig } from "./config.ts";
import { EKS_TOKEN_PREFIX } from "./eks-token.ts";
import { identityUsable, mapSubject, type VerifiedSubject, workloadPrincipal } from "./mapping.ts";
import { createOidcVerifier, peekIssuer } from "./oidc.ts";
import { createTokenReviewVerifier } from "./tokenreview.ts";

export {
  checkIdentityConfig,
  type IdentityConfig,
  identityConfigSchema,
  resolveIdentityPaths,
} from "./config.ts";

export interface WorkloadDeps {
  store: IdentityStore;
  /** The gateway's clusters, for TokenReview issuers. */
  upstreams: { get(name: string): Upstream | undefined };
  now?: () => number;
  /** Events `{ event: "workload.…", issuer, subject?, reason? }`; never a token. */
  log?: (event: object) => void;
}

type Verdict = { ok: true; verified: VerifiedSubject } | { ok: false; reason: string };
type Verify = (token: string) => Promise<Verdict>;

const CACHE_MS = 60_000;
const CACHE_MAX = 10_000;

const refused = (message: string): AuthResult => ({
  ok: false,
  status: unauthorized(message),
});

/** A cache of successful remote verdicts, keyed by the token's hash. */
function cached(verify: Verify, now: () => number): Verify {
  const entries = new Map<string, { verdict: Verdict; until: number }>();
  return async (token) => {
    const key = createHash("sha256").update(token).digest("hex");
    const hit = entries.get(key);
    if (hit && now() < hit.until) return hit.verdict;
    const verdict = await verify(token);
    if (verdict.ok) {
      if (entries.size >= CACHE_MAX) entries.clear();
      entries.set(key, {
        verdict,
        until: Math.min(now() + CACHE_MS, verdict.verified.expiresAt ?? Infinity),
      });
    }
    return verdict;
  };
}

/** Builds the workload link from the `identity:` config; reads CA files once. No issuers → a link that claims nothing. */
export async function createWorkloadAuthenticator(
  config: IdentityConfig,
  deps: WorkloadDeps,
): Promise<Authenticator> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const byIss = new Map<string, { name: string; verify: Verify }>();
  let aws: { name: string; verify: Verify } | undefined;
  let kubernetesDefault: { name: string; verify: Verify } | undefined;
  for (const issuer of config.issuers) {
    if ("oidc" in issuer) {
      const o = issuer.oidc;
      const caPem = o.caFile ? await readFile(o.caFile, "utf8") : undefined;
      const verify = createOidcVerifier({
        name: issuer.name,
        issuer: o.issuer,
        audiences: o.audiences,
        algorithms: o.algorithms,
        clockSkewSeconds: o.clockSkewSeconds,
        now,
        ...(o.jwksUri ? { jwksUri: o.jwksUri } : {}),
        ...(caPem ? { caPem } : {}),
      });
      byIss.set(o.issuer, { name: issuer.name, verify });
    } else if ("kubernetes" in issuer) {
      const k = issuer.kubernetes;
      const review = createTokenReviewVerifier({
        name: issuer.name,
        upstream: () => deps.upstreams.get(k.cluster),
        ...(k.audiences ? { audiences: k.audiences } : {}),
      });
      const entry = { name: issuer.name, verify: cached(review, now) };
      if (k.issuer) byIss.set(k.issuer, entry);
      else kubernetesDefault ??= entry;
    } else {
      const a = issuer.aws;
      const caPem = a.caFile ? await readFile(a.caFile, "utf8") : undefined;
      const verifier = createAwsVerifier({
        clusterId: a.clusterId,
        partition: a.partition,
        now,
        ...(a.regions ? { regions: a.regions } : {}),
        ...(a.extraHosts ? { extraHosts: a.extraHosts } : {}),
        ...(caPem ? { caPem } : {}),
      });
      const verify: Verify = async (token) => {
        const v = await verifier(token);
        if (!v.ok) return v;
        return {
          ok: true,
          verified: { issuer: issuer.name, subject: v.identity.canonicalArn, expiresAt: v.expiresAt },
        };
      };
      aws ??= { name: issuer.name, verify: cached(verify, now) };
    }
  }

  return async ({ headers }) => {
    const token = bearerToken(headers.authorization);
    if (!token) return undefined;
    let issuer: { name: string; verify: Verify } | undefined;
    if (token.startsWith(EKS_TOKEN_PREFIX)) issuer = aws;
    else {
      const iss = peekIssuer(token);
      if (iss === undefined) return undefined;
      issuer = byIss.get(iss) ?? kubernetesDefault;
    }
    if (!issuer) return undefined;
    const verdict = await issuer.verify(token);
    if (!verdict.ok) {
      log({ event: "workload.refused", issuer: issuer.name, reason: verdict.reason });
      return refused(`workload token refused (issuer ${issuer.name}): ${verdict.reason}`);
    }
    const { verified } = verdict;
    const name = mapSubject(config.rules, verified);
    if (!name) {
      log({ event: "workload.unmapped", issuer: issuer.name, subject: verified.subject });
      return refused(`no identity mapping for ${verified.subject} (issuer ${issuer.name})`);
    }
    const identity = await deps.store.identities.get(name);
    if (!identity || !identityUsable(identity, now()))
      return refused(
        `identity ${name} (mapped from ${verified.subject}) is unknown, revoked, disabled or expired`,
      );
    return { ok: true, principal: workloadPrincipal(identity, verified) };
  };
}
