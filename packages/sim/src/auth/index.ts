// The simulator's identity: who is calling (bearer tokens), whom they act as (Impersonate-* headers), what they may
// do (system:masters + RBAC from the store), and the review and token endpoints kubectl's `auth` and `create token`
// commands use. The spine calls authenticate → impersonate → authorizer.authorize → (handles ? handle : route).
//
// Fail closed throughout: no credential or an unknown one is `undefined` (the spine answers 401); impersonation and
// authorization refusals are kube's own Forbidden Status; tokens never appear in logs or error messages.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type {
  Authorizer,
  KubeObject,
  ObjectStore,
  ResourceRegistry,
  SimRequest,
  UserInfo,
} from "../contracts.ts";
import { bearerToken, createTokenAuthenticator } from "./authenticator.ts";
import { createAuthorizer } from "./authorizer.ts";
import { type HeaderBag, impersonate } from "./impersonate.ts";
import { decodeProtobuf } from "./protobuf.ts";
import { handleReview } from "./reviews.ts";
import type { TokenSigner } from "./sa-tokens.ts";
import { handleTokenRequest } from "./token-request.ts";

export { ADMIN_USER } from "./authenticator.ts";
export { forbiddenError, forbiddenMessage, forbiddenStatus } from "./forbidden.ts";
export { decodeProtobuf } from "./protobuf.ts";

export interface SimAuth {
  /** undefined → the spine answers 401. */
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /** Returns `user` unchanged without Impersonate-* headers; throws StatusError (403, or kube's 500 for groups without a user). */
  impersonate(user: UserInfo, headers: IncomingHttpHeaders | NodeJS.Dict<string[]>): UserInfo;
  authorizer: Authorizer;
  /** True for the create-only review kinds and serviceaccounts/token. */
  handles(route: SimRequest): boolean;
  handle(route: SimRequest, user: UserInfo, body: KubeObject): KubeObject;
  /** "k8s\0" envelope → JSON-shaped object; 415 for kinds the simulator does not decode. */
  decodeProtobuf(body: Buffer): KubeObject;
  /** The service-account issuer and its public keys, for OIDC discovery (packages/sim/src/oidc.ts). */
  serviceAccountIssuer: Pick<TokenSigner, "issuer" | "jwks">;
}

export interface AuthOptions {
  adminToken: string;
  store: ObjectStore;
  registry: ResourceRegistry;
  /** Holds the service-account signing key and an optional tokens.csv. */
  dir: string;
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
  /** The service-account issuer (`iss`, and the API's default audience); default ISSUER. */
  issuer?: () => string;
}

const REVIEWS: Record<string, string[]> = {
  "authentication.k8s.io": ["selfsubjectreviews", "tokenreviews"],
  "authorization.k8s.io": [
    "selfsubjectaccessreviews",
    "subjectaccessreviews",
    "localsubjectaccessreviews",
    "selfsubjectrulesreviews",
  ],
};

function isTokenRequest(route: SimRequest): boolean {
  return (
    route.apiGroup === "" &&
    route.resource === "serviceaccounts" &&
    route.subresource === "token" &&
    route.name !== ""
  );
}

export function createAuth(opts: AuthOptions): SimAuth {
  const tokens = createTokenAuthenticator(opts);
  const authorizer = createAuthorizer(opts.store, opts.registry);
  return {
    authenticate(req) {
      const token = bearerToken(req.headers.authorization);
      return token === undefined ? undefined : tokens.authenticateToken(token)?.user;
    },
    impersonate(user, headers) {
      return impersonate(user, headers as HeaderBag, authorizer);
    },
    authorizer,
    handles(route) {
      if (!route.resourceRequest || route.verb !== "create") return false;
      if (isTokenRequest(route)) return true;
      return route.subresource === "" && (REVIEWS[route.apiGroup]?.includes(route.resource) ?? false);
    },
    handle(route, user, body) {
      if (isTokenRequest(route))
        return handleTokenRequest({ store: opts.store, registry: opts.registry, tokens }, route, body);
      return handleReview({ authorizer, tokens }, route, user, body);
    },
    decodeProtobuf,
    serviceAccountIssuer: tokens.signer,
  };
}
