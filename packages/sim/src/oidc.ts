// Service-account issuer discovery, as kube-apiserver serves it: `/.well-known/openid-configuration` names the
// issuer and the JWKS URL, `/openid/v1/jwks` holds the public half of the service-account signing key. Together
// they let a relying party (the gateway's OIDC link) verify a projected token offline, without TokenReview.
//
// Security stance: public (kube grants them to system:service-account-issuer-discovery; the simulator to everyone,
// which is what clusters that publish their issuer do) and never anything but public keys. The discovery `issuer`
// is the `iss` of issued tokens, byte for byte, or a relying party would rightly refuse them.
import type { TokenSigner } from "./auth/sa-tokens.ts";
import type { Answer } from "./nonresource.ts";

export const DISCOVERY_PATH = "/.well-known/openid-configuration";
export const JWKS_PATH = "/openid/v1/jwks";
export const OIDC_PATHS: ReadonlySet<string> = new Set([DISCOVERY_PATH, JWKS_PATH]);

/** The discovery document or the JWKS for `path`, or undefined when the path is neither. */
export function oidcAnswer(
  path: string,
  issuer: Pick<TokenSigner, "issuer" | "jwks">,
  serverUrl: string,
): Answer | undefined {
  // Keys change rarely; kube lets caches keep both for an hour.
  const headers = { "Cache-Control": "public, max-age=3600" };
  if (path === DISCOVERY_PATH) {
    return {
      code: 200,
      headers,
      body: {
        issuer: issuer.issuer(),
        jwks_uri: `${serverUrl.replace(/\/$/, "")}${JWKS_PATH}`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["ES256"],
      },
    };
  }
  if (path === JWKS_PATH) {
    return { code: 200, headers, body: issuer.jwks(), contentType: "application/jwk-set+json" };
  }
  return undefined;
}
