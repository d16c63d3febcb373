// The simulator's own check of `k8s-aws-v1.` tokens: steps 1–9 of aws-iam-authenticator's tokenVerifier.Verify
// (wire-protocol notes §8), written from the authenticator's rules, not from the gateway's code, so a bug in one shows
// up against the other. Stricter than the authenticator where Go's parser and a JavaScript one could read a URL two
// ways: the decoded URL must be printable ASCII with no fragment, user info, backslash or `;`, and an explicit port
// counts as part of the host (Go compares `host:port`).
//
// The token is a bearer secret: it never appears in a result.

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";

const MAX_TOKEN_BYTES = 4096;
const PRESIGN_VALID_MS = 15 * 60_000;
/** X-Amz-Date may lie this far ahead of our clock (signer skew); STS refuses requests dated further out. */
const FUTURE_SKEW_MS = 5 * 60_000;
const MAX_EXPIRES = 900;
const PARAMS = new Set([
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

export interface EksHostRules {
  /** aws (the default), aws-cn or aws-us-gov. */
  partition?: string;
  /** Regions accepted; absent = every region of the partition. */
  regions?: readonly string[];
  /** Exact `host[:port]` values also accepted (a loopback test STS). */
  extraHosts?: readonly string[];
}

export type EksVerdict = { ok: true; host: string } | { ok: false; step: number; why: string };

const no = (step: number, why: string): EksVerdict => ({ ok: false, step, why });

/** DNS suffixes of each partition's STS endpoints: [classic, dual-stack]; FIPS endpoints outside China. */
const SUFFIXES: Record<string, { classic: string; dual: string; fips: boolean }> = {
  aws: { classic: "amazonaws.com", dual: "api.aws", fips: true },
  "aws-us-gov": { classic: "amazonaws.com", dual: "api.aws", fips: true },
  "aws-cn": { classic: "amazonaws.com.cn", dual: "api.amazonwebservices.com.cn", fips: false },
};
const REGION_NAME = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/** Step 3 (verifyHost): `host` is `host[:port]` exactly as the URL wrote it, lower-cased. */
export function isStsHost(host: string, rules: EksHostRules): boolean {
  if (rules.extraHosts?.some((h) => h.toLowerCase() === host)) return true;
  const partition = rules.partition ?? "aws";
  const suffixes = SUFFIXES[partition];
  if (!suffixes) return false;
  if (host === "sts.amazonaws.com") return partition === "aws";
  const labels = host.split(".");
  const [service, region] = labels;
  if ((service !== "sts" && !(service === "sts-fips" && suffixes.fips)) || !region) return false;
  if (!REGION_NAME.test(region)) return false;
  if (rules.regions && !rules.regions.includes(region)) return false;
  const rest = labels.slice(2).join(".");
  return rest === suffixes.classic || rest === suffixes.dual;
}

/** `YYYYMMDDTHHMMSSZ` with every field in range (Go's time.Parse), as ms since the epoch. */
function amzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  const same =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return same ? t : undefined;
}

/** Go's url.ParseQuery: `&`-separated, `+` is a space, a bad escape or any `;` is an error. Keys lower-cased. */
function parseQuery(raw: string): Map<string, string[]> | string {
  if (raw.includes(";")) return "the query holds a ';'";
  const out = new Map<string, string[]>();
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const [k, v] = eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(k.replaceAll("+", " ")).toLowerCase();
      value = decodeURIComponent(v.replaceAll("+", " "));
    } catch {
      return "the query holds a malformed %-escape";
    }
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Steps 1–9, in the authenticator's order; `now` in ms since the epoch. */
export function verifyEksToken(token: string, rules: EksHostRules, now: number): EksVerdict {
  // 1. size, prefix, base64url without padding, a URL inside
  if (Buffer.byteLength(token, "utf8") > MAX_TOKEN_BYTES) return no(1, "the token is over 4096 bytes");
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return no(1, `the token does not start with ${EKS_TOKEN_PREFIX}`);
  const body = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1)
    return no(1, "the token is not unpadded base64url");
  const url = Buffer.from(body, "base64url").toString("latin1");
  if (!/^[\x21-\x7e]+$/.test(url) || /[#\\]/.test(url))
    return no(1, "the decoded URL has characters a URL may not");
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?]*)([^?]*)(?:\?(.*))?$/.exec(url);
  if (!parts) return no(1, "the decoded text is not an absolute URL");
  const [, scheme = "", authority = "", path = "", query = ""] = parts;
  // 2. https only
  if (scheme.toLowerCase() !== "https") return no(2, "the presigned URL is not https");
  if (authority.includes("@")) return no(2, "the presigned URL carries user info");
  // 3. an STS endpoint of the partition
  const host = authority.toLowerCase();
  if (!isStsHost(host, rules)) return no(3, `${host} is not an STS endpoint this cluster accepts`);
  // 4. path /
  if (path !== "/") return no(4, "the path is not /");
  // 5. known, single-valued parameters
  const params = parseQuery(query);
  if (typeof params === "string") return no(5, params);
  for (const [key, values] of params) {
    if (!PARAMS.has(key)) return no(5, `parameter ${key} is not one STS presigning uses`);
    if (values.length !== 1) return no(5, `parameter ${key} appears more than once`);
  }
  const param = (key: string) => params.get(key)?.[0];
  // 6. GetCallerIdentity
  if (param("action") !== "GetCallerIdentity") return no(6, "the action is not GetCallerIdentity");
  // 7. the cluster id header is signed
  const signed = (param("x-amz-signedheaders") ?? "").toLowerCase().split(";");
  if (!signed.includes("x-k8s-aws-id")) return no(7, "x-k8s-aws-id is not among the signed headers");
  // 8. 0 <= X-Amz-Expires <= 900
  const expires = param("x-amz-expires") ?? "";
  if (!/^\d{1,6}$/.test(expires) || Number(expires) > MAX_EXPIRES)
    return no(8, "X-Amz-Expires is not 0 to 900");
  // 9. dated, and not older than 15 minutes (nor ahead of our clock by more than the skew)
  const date = amzDate(param("x-amz-date") ?? "");
  if (date === undefined) return no(9, "X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ");
  if (now > date + PRESIGN_VALID_MS) return no(9, "the token is older than 15 minutes");
  if (date > now + FUTURE_SKEW_MS) return no(9, "X-Amz-Date lies in the future");
  return { ok: true, host };
}
