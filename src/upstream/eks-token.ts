// EKS bearer tokens, generated exactly as `aws eks get-token` and aws-iam-authenticator's generator do: a SigV4
// presigned `GET /?Action=GetCallerIdentity&Version=2011-06-15` at the regional STS endpoint, with the cluster name in
// the *signed* `x-k8s-aws-id` header, base64url-encoded (no padding) after `k8s-aws-v1.`.
//
// Security stance: the token is a bearer credential for 15 minutes; it is returned to the caller only, never logged.
// The generator uses the signing library's own presign (no hand-rolled SigV4), the same one the test STS checks with.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
/** aws-cli presigns for 60 s; STS ignores it and honours the URL for 15 minutes from X-Amz-Date. */
const PRESIGN_SECONDS = 60;
/** As aws-cli and aws-iam-authenticator: the token is reported valid for 14 of its 15 minutes. */
export const TOKEN_LIFETIME_MS = 14 * 60 * 1000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When these credentials stop working (temporary credentials). */
  expiration?: Date;
}

/** The regional STS endpoint, https://sts.<region>.amazonaws.com (…amazonaws.com.cn in China). */
export function defaultStsEndpoint(region: string): string {
  return `https://sts.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

export interface EksTokenRequest {
  /** The EKS cluster name (aws-iam-authenticator's cluster id). */
  cluster: string;
  region: string;
  credentials: AwsCredentials;
  /** Defaults to the regional endpoint. */
  stsEndpoint?: string;
  /** ms since the epoch. */
  now: number;
}

export async function presignEksToken(req: EksTokenRequest): Promise<{ token: string; expiresAt: number }> {
  const endpoint = new URL(req.stsEndpoint ?? defaultStsEndpoint(req.region));
  const signer = new SignatureV4({
    credentials: req.credentials,
    region: req.region,
    service: "sts",
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: endpoint.host, "x-k8s-aws-id": req.cluster },
    },
    { expiresIn: PRESIGN_SECONDS, signingDate: new Date(req.now) },
  );
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(presigned.query ?? {})) {
    if (typeof v === "string") query.append(k, v);
  }
  const url = `https://${endpoint.host}/?${query.toString()}`;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url"),
    expiresAt: req.now + TOKEN_LIFETIME_MS,
  };
}
