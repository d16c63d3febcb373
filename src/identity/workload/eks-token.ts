// EKS-style `k8s-aws-v1.` tokens: the offline checks aws-iam-authenticator's tokenVerifier.Verify makes before it
// calls STS (wire-protocol §8 steps 1–9), and the ARN canonicalisation it applies to STS's answer (step 11).
//
// Pure and fail closed: every step either passes or names the step that failed. The token is a bearer secret valid
// for 15 minutes against one cluster id; it never appears in a result or an error message (the URL's host does, as
// that is not secret).

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
export const MAX_TOKEN_BYTES = 4096;
/** STS ignores X-Amz-Expires for presigned GetCallerIdentity: the URL is good for 15 minutes from X-Amz-Date. */
export const PRESIGNED_LIFETIME_MS = 15 * 60 * 1000;
const MAX_EXPIRES_SECONDS = 900;
/** How far in the future X-Amz-Date may lie (clock skew between the signer and us). */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

const ALLOWED_PARAMS = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);

/** Which STS hosts a token may name: AWS's own for a partition (and optionally only some regions), plus exact extras. */
export interface StsHostPolicy {
  /** aws (default), aws-cn, aws-us-gov. */
  partition?: string;
  /** Regions accepted; absent = any region of the partition. */
  regions?: readonly string[];
  /** Exact `host[:port]` values also accepted (a VPC endpoint's name, or a loopback test STS). */
  extraHosts?: readonly string[];
}

export type EksTokenCheck = { ok: true; url: URL; date: Date } | { ok: false; step: number; reason: string };

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const PARTITIONS: Record<string, string> = {
  aws: "amazonaws.com",
  "aws-cn": "amazonaws.com.cn",
  "aws-us-gov": "amazonaws.com",
};

/** The STS hostnames AWS's endpoint resolver gives a region (regional, FIPS, dual-stack), as verifyHost accepts. */
export function stsHostsFor(partition: string, region: string): string[] {
  const suffix = PARTITIONS[partition];
  if (!suffix || !REGION.test(region)) return [];
  const dualSuffix = partition === "aws-cn" ? "api.amazonwebservices.com.cn" : "api.aws";
  const hosts = [`sts.${region}.${suffix}`, `sts.${region}.${dualSuffix}`];
  if (partition !== "aws-cn") hosts.push(`sts-fips.${region}.${suffix}`, `sts-fips.${region}.${dualSuffix}`);
  return hosts;
}

/** Step 3: is this `host[:port]` an STS endpoint the policy accepts? */
export function stsHostAllowed(host: string, policy: StsHostPolicy): boolean {
  const h = host.toLowerCase();
  if (policy.extraHosts?.some((x) => x.toLowerCase() === h)) return true;
  const partition = policy.partition ?? "aws";
  if (h === "sts.amazonaws.com") return partition === "aws";
  const m = /^sts(?:-fips)?\.([a-z0-9-]+)\./.exec(h);
  const region = m?.[1];
  if (!region) return false;
  if (policy.regions && !policy.regions.includes(region)) return false;
  return stsHostsFor(partition, region).includes(h);
}

/** `20060102T150405Z` → Date, or undefined. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const fail = (step: number, reason: string): EksTokenCheck => ({ ok: false, step, reason });

/** Steps 1–9 of aws-iam-authenticator's Verify, in its order. `now` in ms. */
export function checkEksToken(token: string, policy: StsHostPolicy, now: number): EksTokenCheck {
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return fail(1, "token is longer than 4096 bytes");
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return fail(1, "token does not start with k8s-aws-v1.");
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  // Go's RawURLEncoding: base64url without padding; anything else in the string is an error, not skipped.
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) return fail(1, "token is not base64url");
  let url: URL;
  const text = Buffer.from(encoded, "base64url").toString("utf8");
  try {
    url = new URL(text);
  } catch {
    return fail(1, "token does not hold a URL");
  }
  if (url.protocol !== "https:") return fail(2, "the presigned URL is not https");
  // The URL as written must be the URL as read: WHATWG parsing forgives what Go's url.Parse (which STS and
  // aws-iam-authenticator use) reads differently or refuses — a leading space, `https:\\host`, an explicit :443, a
  // percent-encoded or upper-case host. Two readers of one token must agree, so anything not canonical is refused.
  if (!text.startsWith(`https://${url.host}/`))
    return fail(
      2,
      "the presigned URL is not written in canonical form (scheme://host/, lower-case host, no :443)",
    );
  if (url.username || url.password || url.hash)
    return fail(2, "the presigned URL carries user info or a fragment");
  if (!stsHostAllowed(url.host, policy)) return fail(3, `host ${url.host} is not an allowed STS endpoint`);
  if (url.pathname !== "/") return fail(4, "path is not /");
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const k = key.toLowerCase();
    if (params.has(k)) return fail(5, `query parameter ${k} is repeated`);
    if (!ALLOWED_PARAMS.has(k)) return fail(5, `query parameter ${k} is not allowed`);
    params.set(k, value);
  }
  if (params.get("action") !== "GetCallerIdentity") return fail(6, "action is not GetCallerIdentity");
  const signed = (params.get("x-amz-signedheaders") ?? "").toLowerCase().split(";");
  if (!signed.includes(CLUSTER_ID_HEADER)) return fail(7, "x-k8s-aws-id is not a signed header");
  const expires = params.get("x-amz-expires");
  if (expires === undefined || !/^\d+$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS)
    return fail(8, "x-amz-expires is missing or above 900 seconds");
  const date = parseAmzDate(params.get("x-amz-date") ?? "");
  if (!date) return fail(9, "x-amz-date is missing or malformed");
  if (now > date.getTime() + PRESIGNED_LIFETIME_MS)
    return fail(9, "the token has expired (15 minute lifetime)");
  if (date.getTime() > now + FUTURE_SKEW_MS) return fail(9, "x-amz-date lies in the future");
  return { ok: true, url, date };
}

export interface CallerIdentity {
  account: string;
  /** As STS returned it (an assumed-role ARN names the session). */
  arn: string;
  /** An assumed-role ARN becomes its role ARN (path dropped, as aws-iam-authenticator does). */
  canonicalArn: string;
  userId: string;
  /** For roles: the part of UserId after the colon. */
  sessionName?: string;
}

/** arn:aws:sts::A:assumed-role/R/S → arn:aws:iam::A:role/R; users and roles stay; anything else is refused. */
export function canonicalizeArn(arn: string): string | undefined {
  const parts = arn.split(":");
  if (parts.length !== 6 || parts[0] !== "arn" || !parts[1]?.startsWith("aws")) return undefined;
  const [, partition, service, , account, resource = ""] = parts;
  if (!/^\d{12}$/.test(account ?? "")) return undefined;
  const segs = resource.split("/");
  if (service === "iam" && (segs[0] === "role" || segs[0] === "user") && segs.length >= 2) return arn;
  if (service === "sts" && segs[0] === "assumed-role" && segs.length === 3 && segs[1])
    return `arn:${partition}:iam::${account}:role/${segs[1]}`;
  if (service === "iam" && arn.endsWith(":root")) return arn;
  return undefined;
}

/** Step 11: STS's 200 body → an identity, or undefined when it is not the documented shape. */
export function parseCallerIdentity(body: string): CallerIdentity | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const r = (json as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: Record<string, unknown> } })
    ?.GetCallerIdentityResponse?.GetCallerIdentityResult;
  const { Account: account, Arn: arn, UserId: userId } = r ?? {};
  if (typeof account !== "string" || typeof arn !== "string" || typeof userId !== "string") return undefined;
  const canonicalArn = canonicalizeArn(arn);
  if (!canonicalArn) return undefined;
  const out: CallerIdentity = { account, arn, canonicalArn, userId };
  if (arn.includes(":assumed-role/")) {
    const i = userId.indexOf(":");
    if (i > 0) out.sessionName = userId.slice(i + 1);
  }
  return out;
}
