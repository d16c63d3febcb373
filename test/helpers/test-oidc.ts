// A loopback OIDC issuer for tests: HTTPS discovery (/.well-known/openid-configuration) and JWKS (/jwks), tokens
// signed with its current key, and key rotation. Counts JWKS fetches so caching can be checked. close() in after().
import { once } from "node:events";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

export interface TestIssuer {
  issuer: string;
  caPem: string;
  jwksFetches: number;
  /** Signs claims with the current key (iss, iat, exp = now + 10 min unless given). */
  sign(claims: JWTPayload, opts?: { alg?: string; key?: Key; kid?: string }): Promise<string>;
  /** A new current key; the old one leaves the JWKS. */
  rotate(): Promise<void>;
  /** A key pair the issuer never publishes (for forgeries). */
  foreignKey(): Promise<Key>;
  currentKid(): string;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const ca = createCertificateAuthority("test-oidc-ca");
  const tls = issueServerCertificate(ca, {
    commonName: "test-oidc",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  let key = await generateKeyPair("RS256");
  let kid = "k1";
  let n = 1;
  let issuer = "";
  const state = { jwksFetches: 0 };
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, async (req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          id_token_signing_alg_values_supported: ["RS256"],
        }),
      );
    } else if (req.url === "/jwks") {
      state.jwksFetches++;
      const jwk = await exportJWK(key.publicKey);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] }));
    } else res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    caPem: ca.certPem,
    get jwksFetches() {
      return state.jwksFetches;
    },
    async sign(claims, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, iat: now, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: opts.alg ?? "RS256", kid: opts.kid ?? kid })
        .sign((opts.key ?? key).privateKey);
    },
    async rotate() {
      key = await generateKeyPair("RS256");
      kid = `k${++n}`;
    },
    foreignKey: () => generateKeyPair("RS256"),
    currentKid: () => kid,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
