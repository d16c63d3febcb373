// Kubernetes service-account tokens verified by the cluster that issued them: the gateway's own upstream connection
// posts an authentication.k8s.io/v1 TokenReview (the upstream credential needs `create tokenreviews`, e.g. the
// system:auth-delegator ClusterRole). Used where the cluster's OIDC discovery and JWKS are not reachable (and
// always with the simulator, which does not serve them).
//
// Security stance: only an `authenticated: true` answer naming a `system:serviceaccount:` user is accepted; the
// review is sent as the gateway itself (never impersonating); the token goes only into the review's body, over the
// connection's verified TLS, and nowhere else.
import https from "node:https";
import type { Upstream } from "../../upstream/types.ts";
import type { VerifiedSubject } from "./mapping.ts";

export interface TokenReviewOptions {
  name: string;
  upstream: () => Upstream | undefined;
  audiences?: string[];
  timeoutMs?: number;
}

export type TokenReviewVerdict = { ok: true; verified: VerifiedSubject } | { ok: false; reason: string };

const PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

function post(
  options: https.RequestOptions,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ ...options, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("the cluster did not answer in time")));
    req.on("error", reject);
    req.end(body);
  });
}

/** `exp` of a JWT the cluster has just vouched for; undefined when absent. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      exp?: unknown;
    };
    return typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function createTokenReviewVerifier(
  opts: TokenReviewOptions,
): (token: string) => Promise<TokenReviewVerdict> {
  return async (token) => {
    const upstream = opts.upstream();
    if (!upstream) return { ok: false, reason: `issuer ${opts.name}: its cluster is not connected` };
    const body = JSON.stringify({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token, ...(opts.audiences ? { audiences: opts.audiences } : {}) },
    });
    let answer: { status: number; text: string };
    try {
      const options = await upstream.requestOptions("POST", PATH, [
        ["content-type", "application/json"],
        ["accept", "application/json"],
        ["content-length", String(Buffer.byteLength(body))],
      ]);
      answer = await post(options, body, opts.timeoutMs ?? 10_000);
    } catch (err) {
      return { ok: false, reason: `TokenReview failed: ${(err as Error).message}` };
    }
    if (answer.status !== 201 && answer.status !== 200)
      return { ok: false, reason: `TokenReview answered HTTP ${answer.status}` };
    let status: { authenticated?: unknown; user?: { username?: unknown }; error?: unknown };
    try {
      status = (JSON.parse(answer.text) as { status?: typeof status }).status ?? {};
    } catch {
      return { ok: false, reason: "TokenReview answer is not JSON" };
    }
    const username = status.user?.username;
    if (status.authenticated !== true || typeof username !== "string")
      return { ok: false, reason: "the cluster does not accept the token" };
    if (!username.startsWith("system:serviceaccount:"))
      return { ok: false, reason: "the token is not a service-account token" };
    const verified: VerifiedSubject = { issuer: opts.name, subject: username };
    const exp = expiryOf(token);
    if (exp !== undefined) verified.expiresAt = exp;
    return { ok: true, verified };
  };
}
