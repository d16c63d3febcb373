// Verifies an EKS-style `k8s-aws-v1.` token the way aws-iam-authenticator does: the offline checks (eks-token.ts),
// then GET of the presigned URL at STS with *our* cluster id in the signed x-k8s-aws-id header. A token minted for
// another cluster id fails STS's signature check: that is the cluster binding.
//
// Fail closed: no redirects are followed, 10 s timeout, any non-200 is a refusal (throttling is reported as such, so
// the caller can answer 429). The token and the URL's signature never appear in results or errors.
import https from "node:https";
import {
  type CallerIdentity,
  CLUSTER_ID_HEADER,
  checkEksToken,
  parseCallerIdentity,
  type StsHostPolicy,
} from "./eks-token.ts";

export interface AwsVerifierOptions extends StsHostPolicy {
  /** The cluster id tokens must be minted for (aws-iam-authenticator's --cluster-id); never taken from the token. */
  clusterId: string;
  /** Extra CA (PEM) for extraHosts, e.g. a loopback test STS; AWS's own endpoints use the system trust store. */
  caPem?: string;
  timeoutMs?: number;
  now?: () => number;
}

export type AwsVerdict =
  | { ok: true; identity: CallerIdentity; expiresAt: number }
  | { ok: false; reason: string; throttled?: boolean };

const MAX_BODY = 64 * 1024;

function stsGet(
  url: URL,
  clusterId: string,
  caPem: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // https.request never follows redirects: a 3xx is simply a non-200 answer, refused below.
    const req = https.request(
      url,
      {
        method: "GET",
        headers: { [CLUSTER_ID_HEADER]: clusterId, accept: "application/json" },
        ...(caPem ? { ca: caPem } : {}),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error("STS answer too large"));
          else chunks.push(c);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("STS did not answer within the time limit")));
    req.on("error", reject);
    req.end();
  });
}

export function createAwsVerifier(opts: AwsVerifierOptions): (token: string) => Promise<AwsVerdict> {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return async (token) => {
    const check = checkEksToken(token, opts, now());
    if (!check.ok) return { ok: false, reason: `step ${check.step}: ${check.reason}` };
    let answer: { status: number; body: string };
    try {
      answer = await stsGet(check.url, opts.clusterId, opts.caPem, timeoutMs);
    } catch (err) {
      return { ok: false, reason: `STS at ${check.url.host} could not be asked: ${(err as Error).message}` };
    }
    if (answer.status !== 200) {
      const throttled = answer.body.includes("Throttling");
      return {
        ok: false,
        reason: throttled ? "STS is throttling" : `STS refused the token (HTTP ${answer.status})`,
        ...(throttled ? { throttled } : {}),
      };
    }
    const identity = parseCallerIdentity(answer.body);
    if (!identity) return { ok: false, reason: "STS answered with an unexpected body" };
    return { ok: true, identity, expiresAt: check.date.getTime() + 15 * 60 * 1000 };
  };
}
