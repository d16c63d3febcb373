// authenticate: the request's credential → Principal, through a chain of authenticators. Each one looks at the
// request and answers "not mine" (undefined), a principal, or a refusal; the first that claims the request decides.
// Today: API tokens, session credentials, mTLS client certificates (src/identity/authenticators.ts); workload
// identities slot in as further links.
//
// Fail closed: a request no link claims is 401, and so is one a link claims but cannot verify. Tokens are hashed or
// verified at once and never kept, logged or forwarded.
import type { X509Certificate } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { TLSSocket } from "node:tls";
import { unauthorized } from "../kube/refusals.ts";
import type { Status } from "../kube/status.ts";
import type { Principal } from "./types.ts";

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: Status };

/** What an authenticator may look at. */
export interface AuthInput {
  headers: IncomingHttpHeaders;
  /** The client certificate presented in the TLS handshake, if any (not yet verified). */
  peerCertificate?: X509Certificate;
}

/** One link of the chain: undefined means "not mine, ask the next". */
export type Authenticator = (input: AuthInput) => Promise<AuthResult | undefined>;

export const UNAUTHORIZED = unauthorized(
  "Unauthorized: airlock needs a valid identity credential (Authorization: Bearer <token>, or an Airlock client certificate)",
);

/** Composes authenticators; the result never answers "not mine". */
export function authenticatorChain(links: Authenticator[]): (input: AuthInput) => Promise<AuthResult> {
  return async (input) => {
    for (const link of links) {
      const result = await link(input);
      if (result) return result;
    }
    return { ok: false, status: UNAUTHORIZED };
  };
}

/** The client certificate of a request, over HTTP/1.1 or HTTP/2; undefined when none was presented. */
export function peerCertificateOf(req: IncomingMessage | Http2ServerRequest): X509Certificate | undefined {
  const socket = (req as Http2ServerRequest).stream?.session?.socket ?? req.socket;
  const tls = socket as Partial<TLSSocket> | undefined;
  try {
    return tls?.getPeerX509Certificate?.() ?? undefined;
  } catch {
    return undefined;
  }
}
