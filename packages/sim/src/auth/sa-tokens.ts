// Service-account tokens: ES256 JWTs with the claims kube-apiserver's TokenRequest issues (iss, sub, aud, exp, iat,
// nbf, jti and the "kubernetes.io" claim naming the namespace, the service account and any bound pod or secret).
//
// The signing key lives in the simulator's data directory (mode 0600) so tokens survive a restart. Fail closed: a
// token with another algorithm or key id, a bad signature, a wrong issuer, or outside its validity window is
// rejected. Tokens are never logged or put into error messages.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The default `iss` (kube-apiserver's usual --service-account-issuer); a simulator may use its own URL instead. */
export const ISSUER = "https://kubernetes.default.svc.cluster.local";
/** The audience the simulator's API accepts by default, as kube-apiserver's --api-audiences defaults to the issuer. */
export const API_AUDIENCE = ISSUER;

export interface ObjectRefClaim {
  name: string;
  uid: string;
}

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: ObjectRefClaim;
    pod?: ObjectRefClaim;
    secret?: ObjectRefClaim;
  };
}

export interface IssueRequest {
  namespace: string;
  serviceAccount: ObjectRefClaim;
  audiences: string[];
  expirationSeconds: number;
  pod?: ObjectRefClaim;
  secret?: ObjectRefClaim;
  /** Seconds since the epoch. */
  now: number;
}

export interface TokenSigner {
  /** The `iss` of issued tokens, which discovery publishes; also the API's default audience. */
  issuer(): string;
  /** The public half of the signing key as a JWKS (`/openid/v1/jwks`). */
  jwks(): { keys: Record<string, unknown>[] };
  issue(req: IssueRequest): { token: string; claims: ServiceAccountClaims };
  /** The verified claims, or undefined; `now` is seconds since the epoch. */
  verify(token: string, now: number): ServiceAccountClaims | undefined;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Loads the signing key from `dir`, creating it on first use. */
export function loadSigningKey(dir: string): KeyObject {
  const path = join(dir, "sa-signing-key.pem");
  if (existsSync(path)) return createPrivateKey(readFileSync(path));
  mkdirSync(dir, { recursive: true });
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return privateKey;
}

/** `issuer` is read on every use: a simulator that issues under its own URL knows it only once listening. */
export function createSigner(privateKey: KeyObject, issuer: () => string = () => ISSUER): TokenSigner {
  const publicKey = createPublicKey(privateKey);
  const kid = b64url(
    createHash("sha256")
      .update(publicKey.export({ type: "spki", format: "der" }))
      .digest(),
  );
  const header = b64url(JSON.stringify({ alg: "ES256", kid }));
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig" };
  return {
    issuer,
    jwks: () => ({ keys: [{ ...jwk }] }),
    issue(req) {
      const kubernetes: ServiceAccountClaims["kubernetes.io"] = {
        namespace: req.namespace,
        serviceaccount: req.serviceAccount,
      };
      if (req.pod) kubernetes.pod = req.pod;
      if (req.secret) kubernetes.secret = req.secret;
      const claims: ServiceAccountClaims = {
        aud: req.audiences,
        exp: req.now + req.expirationSeconds,
        iat: req.now,
        iss: issuer(),
        jti: randomUUID(),
        "kubernetes.io": kubernetes,
        nbf: req.now,
        sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount.name}`,
      };
      const signingInput = `${header}.${b64url(JSON.stringify(claims))}`;
      const signature = sign("sha256", Buffer.from(signingInput), {
        key: privateKey,
        dsaEncoding: "ieee-p1363",
      });
      return { token: `${signingInput}.${b64url(signature)}`, claims };
    },
    verify(token, now) {
      const parts = token.split(".");
      if (parts.length !== 3) return undefined;
      const [h, p, s] = parts as [string, string, string];
      // Our own header, byte for byte: no other alg or kid can slip through.
      if (h !== header) return undefined;
      const ok = verify(
        "sha256",
        Buffer.from(`${h}.${p}`),
        { key: publicKey, dsaEncoding: "ieee-p1363" },
        Buffer.from(s, "base64url"),
      );
      if (!ok) return undefined;
      let claims: ServiceAccountClaims;
      try {
        claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as ServiceAccountClaims;
      } catch {
        return undefined;
      }
      if (claims.iss !== issuer() || typeof claims.exp !== "number" || typeof claims.nbf !== "number")
        return undefined;
      if (now >= claims.exp || now < claims.nbf) return undefined;
      if (!Array.isArray(claims.aud) || typeof claims["kubernetes.io"]?.serviceaccount?.name !== "string")
        return undefined;
      return claims;
    },
  };
}
