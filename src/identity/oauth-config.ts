// The `mcp.oauth` section of airlock.yaml: Airlock as the OAuth 2.1 authorization server of its own /mcp endpoint
// (docs/mcp.md "Authorization", docs/configuration.md).
//
// Security stance: who may obtain a token is closed by default. Agents use an identity's OAuth client (a credential
// made by `airlock identity oauth-client create`, secret stored hashed) or a client pre-registered here with a public
// JWKS (private_key_jwt); humans' MCP clients use the authorization code flow with PKCE (S256) as a client
// pre-registered here with exact redirect URIs, or — only when `clientMetadataDocuments` is turned on — a client ID
// metadata document fetched over HTTPS from a public address. Dynamic client registration is not offered.
import { z } from "zod";
import { parseDuration } from "../shared/duration.ts";

const duration = (fallback: string, max: number) =>
  z
    .string()
    .refine(
      (t) => {
        const ms = parseDuration(t);
        return ms !== undefined && ms > 0 && ms <= max;
      },
      `a duration such as 5m or 10m, at most ${max / 60_000} minutes`,
    )
    .default(fallback);

const jwkSchema = z.looseObject({ kty: z.enum(["RSA", "EC", "OKP"]) }).refine((k) => !("d" in k), {
  message: "a client's JWKS holds public keys only (this key has a private part `d`)",
});

/** A redirect URI a code may be sent to: https, or http on loopback (native clients, RFC 8252); no fragment. */
export function isAllowedRedirectUri(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password) return false;
  if (url.protocol === "https:") return true;
  // OAuth 2.1 / RFC 8252: plain HTTP only for loopback redirects of native clients.
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}

const redirectUri = z
  .url()
  .refine(
    isAllowedRedirectUri,
    "an https:// URL, or http:// on a loopback host (127.0.0.1, [::1], localhost), without a fragment",
  );

export const oauthClientSchema = z
  .strictObject({
    /** The client_id the client sends. */
    clientId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._:~/-]+$/, "letters, digits and . _ : ~ / -"),
    name: z.string().max(100).optional(),
    /** private_key_jwt (RFC 7523) for client_credentials: the identity the client acts as, and its public keys. */
    identity: z.string().min(1).optional(),
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1) }).optional(),
    /** Authorization code + PKCE (public client, humans sign in): the exact redirect URIs allowed. */
    redirectUris: z.array(redirectUri).min(1).optional(),
  })
  .refine((c) => !!c.identity === !!c.jwks, {
    message: "a private_key_jwt client names both `identity` and `jwks`",
  })
  .refine((c) => !!c.jwks || !!c.redirectUris, {
    message:
      "a client has `jwks` (+ identity) for client_credentials, or `redirectUris` for sign-in, or both",
  });

export const oauthConfigSchema = z
  .strictObject({
    /** Off: /mcp accepts only Airlock's own bearer credentials, and the metadata names no authorization server. */
    enabled: z.boolean().default(true),
    /**
     * The public base URL clients reach the gateway at (the issuer; the resource is <issuer>/mcp). Unset: the URL the
     * request came in on (https://<Host>), which is right for one name; set it behind a load balancer.
     */
    issuer: z
      .url()
      .refine((u) => {
        const url = new URL(u);
        return url.protocol === "https:" && (url.pathname === "/" || url.pathname === "") && !url.search;
      }, "an https:// origin without path or query, e.g. https://airlock.example.com")
      .transform((u) => new URL(u).origin)
      .optional(),
    /** Lifetime of access tokens (no refresh tokens are issued). */
    accessTokenTtl: duration("10m", 60 * 60_000),
    /** The Ed25519 key access tokens are signed with; default <dataDir>/oauth-signing.key (created, 0600). */
    signingKeyFile: z.string().min(1).optional(),
    /** Allow clients that identify by an HTTPS URL (client ID metadata documents); off by default. */
    clientMetadataDocuments: z.boolean().default(false),
    /** Bounds on fetching a client metadata document. */
    metadataFetch: z
      .strictObject({
        timeoutMs: z.number().int().min(100).max(10_000).default(3000),
        maxBytes: z.number().int().min(512).max(65_536).default(8192),
      })
      .prefault({}),
    clients: z.array(oauthClientSchema).default([]),
    /**
     * An upstream OpenID Connect provider humans may sign in with (authorization code + PKCE against it). The user's
     * `usernameClaim` must name an active human identity of Airlock; with `allowedGroups`, the `groupsClaim` must
     * hold one of them. Airlock groups come from the identity, not from the provider.
     */
    upstream: z
      .strictObject({
        name: z.string().min(1).max(60).default("your identity provider"),
        issuer: z.url().refine((u) => u.startsWith("https://"), "an https:// issuer"),
        clientId: z.string().min(1),
        clientSecretFile: z.string().min(1),
        caFile: z.string().min(1).optional(),
        scopes: z
          .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
          .default(["openid", "profile", "email"]),
        usernameClaim: z.string().min(1).default("preferred_username"),
        groupsClaim: z.string().min(1).default("groups"),
        allowedGroups: z.array(z.string().min(1)).default([]),
      })
      .optional(),
  })
  .refine((c) => new Set(c.clients.map((x) => x.clientId)).size === c.clients.length, {
    message: "clients: duplicate clientId",
  });

export const mcpConfigSchema = z.strictObject({ oauth: oauthConfigSchema.prefault({}) });

export type OAuthConfig = z.infer<typeof oauthConfigSchema>;

/** Relative file paths of the section, resolved against the config file's folder. */
export function resolveOAuthPaths(c: OAuthConfig, abs: (p: string) => string): OAuthConfig {
  return {
    ...c,
    ...(c.signingKeyFile ? { signingKeyFile: abs(c.signingKeyFile) } : {}),
    ...(c.upstream
      ? {
          upstream: {
            ...c.upstream,
            clientSecretFile: abs(c.upstream.clientSecretFile),
            ...(c.upstream.caFile ? { caFile: abs(c.upstream.caFile) } : {}),
          },
        }
      : {}),
  };
}
export type OAuthClientConfig = z.infer<typeof oauthClientSchema>;

/** Test-only: set programmatically (StartOptions.oauthTestHooks), never from airlock.yaml. */
export interface OAuthTestHooks {
  /** host:port pairs a client metadata document may be fetched from although they are not public addresses. */
  metadataAllowHosts?: string[];
  /** An extra CA to trust for those fetches. */
  metadataCa?: string;
}
