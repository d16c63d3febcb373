// Bearer-token authentication for the simulator: the admin token, static users from `<dir>/tokens.csv`, the
// service-account JWTs the simulator issues through TokenRequest, and EKS tokens per `<dir>/eks-auth.json`.
//
// Security stance: tokens are compared as SHA-256 digests in constant time and never logged or echoed; a token
// that is unknown, expired, meant for another audience, or whose service account (or bound pod/secret) is gone or
// was recreated with a new uid authenticates nobody.
import { createHash, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import type { KubeObject, ObjectStore, ResourceRegistry, UserInfo } from "../contracts.ts";
import { EKS_TOKEN_PREFIX, eksTokenAuthenticator } from "./eks-tokens.ts";
import { createSigner, loadSigningKey, type ServiceAccountClaims, type TokenSigner } from "./sa-tokens.ts";
import { watchTokenFile } from "./static-tokens.ts";

export const ADMIN_USER = "sim:admin";

export interface Authenticated {
  user: UserInfo;
  /** The audiences the token is valid for, intersected with the ones asked for. */
  audiences: string[];
}

export interface TokenAuthenticator {
  /** `audiences` defaults to the API's own audience; a token must be valid for at least one of them. */
  authenticateToken(token: string, audiences?: string[]): Authenticated | undefined;
  signer: TokenSigner;
  /** Seconds since the epoch, from the injected clock. */
  nowSeconds(): number;
}

export interface AuthenticatorOptions {
  adminToken: string;
  store: ObjectStore;
  registry: ResourceRegistry;
  dir: string;
  /** Milliseconds since the epoch; tests move it to check expiry. */
  now?: () => number;
  /** The service-account issuer (and default API audience); default ISSUER. */
  issuer?: () => string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/** The `Bearer` credential of an Authorization header, as kube's bearertoken authenticator reads it. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const parts = header.trim().split(" ");
  if (parts.length < 2 || parts[0]?.toLowerCase() !== "bearer") return undefined;
  const token = parts[1] ?? "";
  return token === "" ? undefined : token;
}

export function createTokenAuthenticator(opts: AuthenticatorOptions): TokenAuthenticator {
  const now = opts.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const adminHash = sha256(opts.adminToken);
  const staticTokens = watchTokenFile(join(opts.dir, "tokens.csv"));
  const signer = createSigner(loadSigningKey(opts.dir), opts.issuer);
  const eksTokens = eksTokenAuthenticator(join(opts.dir, "eks-auth.json"), now);

  const find = (resource: string, namespace: string, name: string): KubeObject | undefined => {
    const type = opts.registry.find("", "v1", resource);
    return type ? opts.store.get(type, namespace, name) : undefined;
  };

  // A bound token lives only as long as the objects it names, with the same uids.
  const stillBound = (claims: ServiceAccountClaims): string | undefined => {
    const k = claims["kubernetes.io"];
    const sa = find("serviceaccounts", k.namespace, k.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid || sa.metadata.deletionTimestamp) return undefined;
    if (k.pod && find("pods", k.namespace, k.pod.name)?.metadata.uid !== k.pod.uid) return undefined;
    if (k.secret && find("secrets", k.namespace, k.secret.name)?.metadata.uid !== k.secret.uid)
      return undefined;
    return sa.metadata.uid;
  };

  return {
    signer,
    nowSeconds,
    authenticateToken(token, audiences = [signer.issuer()]) {
      // Static users and the admin have no audience restriction in kube: they are valid for whatever was asked.
      if (timingSafeEqual(sha256(token), adminHash)) {
        return {
          user: { username: ADMIN_USER, groups: ["system:masters", "system:authenticated"], extra: {} },
          audiences,
        };
      }
      const user = staticTokens(token);
      if (user) return { user, audiences };
      if (token.startsWith(EKS_TOKEN_PREFIX)) {
        const eksUser = eksTokens(token);
        return eksUser ? { user: eksUser, audiences } : undefined;
      }
      const claims = signer.verify(token, nowSeconds());
      if (!claims) return undefined;
      const matched = claims.aud.filter((a) => audiences.includes(a));
      if (matched.length === 0) return undefined;
      const uid = stillBound(claims);
      if (!uid) return undefined;
      const ns = claims["kubernetes.io"].namespace;
      return {
        user: {
          username: claims.sub,
          uid,
          groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
          extra: {},
        },
        audiences: matched,
      };
    },
  };
}
