// OIDC JWTs from a configured issuer (CI providers, a Kubernetes cluster's service-account issuer): discovery, JWKS
// with caching and key rotation, then jose's jwtVerify with the issuer, audiences, algorithms and clock skew pinned.
//
// Security stance: the algorithm list is the configured one (never the token's choice; `none` and HMAC cannot be
// configured); discovery must name the configured issuer exactly; keys are fetched over https only. An unknown
// `kid` triggers at most one JWKS refetch per cooldown, so a stream of forged tokens cannot hammer the issuer.
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { getJson } from "./https-json.ts";
import type { VerifiedSubject } from "./mapping.ts";

export interface OidcVerifierOptions {
  name: string;
  issuer: string;
  audiences: string[];
  algorithms: string[];
  jwksUri?: string;
  caPem?: string;
  clockSkewSeconds: number;
  /** Keys are refetched at least this often (default 1 h) … */
  maxKeyAgeMs?: number;
  /** … and on an unknown kid at most this often (default 30 s). */
  refetchCooldownMs?: number;
  now?: () => number;
}

export type OidcVerdict = { ok: true; verified: VerifiedSubject } | { ok: false; reason: string };

export function createOidcVerifier(opts: OidcVerifierOptions): (token: string) => Promise<OidcVerdict> {
  const now = opts.now ?? Date.now;
  const maxAge = opts.maxKeyAgeMs ?? 3_600_000;
  const cooldown = opts.refetchCooldownMs ?? 30_000;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const discover = async (): Promise<string> => {
    if (opts.jwksUri) return opts.jwksUri;
    const doc = await getJson(`${opts.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, {
      ...(opts.caPem ? { caPem: opts.caPem } : {}),
    });
    if (doc.issuer !== opts.issuer)
      throw new Error(`discovery names issuer ${String(doc.issuer)}, not ${opts.issuer}`);
    if (typeof doc.jwks_uri !== "string" || !doc.jwks_uri.startsWith("https://"))
      throw new Error("discovery has no https jwks_uri");
    return doc.jwks_uri;
  };
  const refetch = (): Promise<void> => {
    inflight ??= (async () => {
      try {
        const jwks = await getJson(await discover(), { ...(opts.caPem ? { caPem: opts.caPem } : {}) });
        if (!Array.isArray(jwks.keys)) throw new Error("JWKS has no keys");
        keys = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
      } finally {
        // A failed fetch also starts the cooldown: an unreachable issuer is not asked on every request.
        fetchedAt = now();
        inflight = undefined;
      }
    })();
    return inflight;
  };

  const getKey: Parameters<typeof jwtVerify>[1] = async (header, token) => {
    if (!keys) await refetch();
    else if (now() - fetchedAt > maxAge) await refetch().catch(() => {}); // keep the last good keys meanwhile
    try {
      return await (keys as NonNullable<typeof keys>)(header, token);
    } catch (err) {
      if ((err as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY" || now() - fetchedAt < cooldown)
        throw err;
      await refetch(); // rotation: the issuer may have published a new key since we last looked
      return (keys as NonNullable<typeof keys>)(header, token);
    }
  };

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: opts.issuer,
        audience: opts.audiences,
        algorithms: opts.algorithms,
        clockTolerance: opts.clockSkewSeconds,
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const verified: VerifiedSubject = {
      issuer: opts.name,
      subject: String(payload.sub),
      claims: payload as Record<string, unknown>,
    };
    if (typeof payload.exp === "number") verified.expiresAt = payload.exp * 1000;
    return { ok: true, verified };
  };
}

/** The `iss` of a JWT, unverified: only to choose which issuer verifies it. Undefined when not a JWT. */
export function peekIssuer(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8")) as {
      iss?: unknown;
    };
    return typeof payload.iss === "string" ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}
