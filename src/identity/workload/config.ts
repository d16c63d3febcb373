// The `identity:` section of airlock.yaml: which workload token issuers the gateway trusts and the rules that map a
// verified subject to an Airlock identity. Validated once at start-up with the rest of the configuration.
//
// Security stance: an issuer is trusted only for what it is configured for (its exact `iss`, its audiences, its
// algorithms; `none` and HMAC algorithms cannot be configured). A verified token authenticates nobody unless a rule
// maps it to an existing, active identity: identities are never created from a token.
import { z } from "zod";

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a DNS label");

/** Asymmetric JWS algorithms only: a shared-secret (HS*) or `none` token could be forged by anyone holding the JWKS. */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
] as const;

const oidcIssuer = z.strictObject({
  name,
  oidc: z.strictObject({
    /** The exact `iss`; discovery is fetched from <issuer>/.well-known/openid-configuration. https only. */
    issuer: z.url().refine((u) => u.startsWith("https://"), "must be https"),
    audiences: z.array(z.string().min(1)).min(1, "name the audience(s) tokens must be minted for"),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(["RS256", "ES256"]),
    /** Skip discovery and fetch keys from here (https). */
    jwksUri: z
      .url()
      .refine((u) => u.startsWith("https://"), "must be https")
      .optional(),
    /** CA (PEM file) for the issuer's endpoints, when not publicly trusted. */
    caFile: z.string().optional(),
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
  }),
});

const kubernetesIssuer = z.strictObject({
  name,
  kubernetes: z.strictObject({
    /** A configured cluster (clusters[].name): its upstream connection posts the TokenReview. */
    cluster: z.string().min(1),
    /** The token's `iss` as the cluster sets it, to route JWTs here; default: every JWT no OIDC issuer claims. */
    issuer: z.string().min(1).optional(),
    /** TokenReview spec.audiences; default: the cluster's API audience. */
    audiences: z.array(z.string().min(1)).optional(),
  }),
});

const awsIssuer = z.strictObject({
  name,
  aws: z.strictObject({
    /** The cluster id tokens must be minted for (their signed x-k8s-aws-id), e.g. the gateway's name. */
    clusterId: z.string().min(1),
    partition: z.enum(["aws", "aws-cn", "aws-us-gov"]).default("aws"),
    /** Accepted STS regions; default any region of the partition. */
    regions: z.array(z.string().min(1)).optional(),
    /** Exact host[:port] STS endpoints also accepted (a loopback test STS). */
    extraHosts: z.array(z.string().min(1)).optional(),
    /** CA (PEM file) for extraHosts. */
    caFile: z.string().optional(),
  }),
});

const rule = z.strictObject({
  /** The issuer's name. */
  issuer: name,
  /** Glob (`*` = any run of characters) on the verified subject: OIDC `sub`, `system:serviceaccount:NS:NAME`, or the
   *  canonical role/user ARN. */
  subject: z.string().min(1),
  /** OIDC only: claims that must equal these strings (globs allowed). */
  claims: z.record(z.string(), z.string()).optional(),
  /** The Airlock identity (by name) the subject acts as; it must exist and be active. */
  identity: z.string().min(1),
});

export const identityConfigSchema = z.strictObject({
  issuers: z.array(z.union([oidcIssuer, kubernetesIssuer, awsIssuer])).default([]),
  /** First matching rule wins; a verified subject no rule maps is refused. */
  rules: z.array(rule).default([]),
  /** Console sign-in and session-credential minting limits (src/identity/throttle.ts, docs/identities.md). */
  throttle: z
    .strictObject({
      failuresPerSource: z.number().int().min(1).default(10),
      attemptsPerIdentity: z.number().int().min(1).default(30),
      windowSeconds: z.number().int().min(1).max(86_400).default(60),
    })
    .prefault({}),
});

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
export type IssuerConfig = IdentityConfig["issuers"][number];
export type MappingRule = IdentityConfig["rules"][number];

/** Cross-field checks (issuer names unique, rules name issuers, clusters exist); messages carry their config path. */
export function checkIdentityConfig(config: IdentityConfig, clusterNames: readonly string[]): string[] {
  const errors: string[] = [];
  const names = config.issuers.map((i) => i.name);
  config.issuers.forEach((issuer, i) => {
    if (names.indexOf(issuer.name) !== i)
      errors.push(`identity.issuers[${i}].name: duplicate issuer "${issuer.name}"`);
    if ("kubernetes" in issuer && !clusterNames.includes(issuer.kubernetes.cluster))
      errors.push(
        `identity.issuers[${i}].kubernetes.cluster: "${issuer.kubernetes.cluster}" is not a configured cluster`,
      );
  });
  config.rules.forEach((r, i) => {
    const issuer = config.issuers.find((x) => x.name === r.issuer);
    if (!issuer) errors.push(`identity.rules[${i}].issuer: "${r.issuer}" is not a configured issuer`);
    else if (r.claims && !("oidc" in issuer))
      errors.push(`identity.rules[${i}].claims: only OIDC issuers have claims`);
  });
  return errors;
}

/** Resolves file paths against the configuration file's folder. */
export function resolveIdentityPaths(config: IdentityConfig, abs: (p: string) => string): IdentityConfig {
  return {
    ...config,
    issuers: config.issuers.map((i) => {
      if ("oidc" in i && i.oidc.caFile) return { ...i, oidc: { ...i.oidc, caFile: abs(i.oidc.caFile) } };
      if ("aws" in i && i.aws.caFile) return { ...i, aws: { ...i.aws, caFile: abs(i.aws.caFile) } };
      return i;
    }),
  };
}
