// The admin REST API under /airlock/v1/: identities and audit, for the CLI and the console.
//
// Security stance: every route but the OpenAPI document needs a token (401 otherwise); agents are refused (403);
// humans read, and change identities only in airlock:admins (auth.ts). Every error is a Kubernetes Status, built at
// one boundary; unexpected failures answer a generic 500 and never echo internals or tokens. Revocation is committed
// to the store before `onRevoke` runs, so even if closing live streams fails the identity is already cut off.
// Identity and policy changes are chained audit notes (identities.ts, policies.ts): a new identity is noted before
// its token is shown (a failed note revokes it unseen); a revocation is noted after it took effect, never blocked.
import type { IncomingMessage, ServerResponse } from "node:http";
import { identityNote, type NoteLog, noteAfter } from "../identity/audit.ts";
import type { IdentityService } from "../identity/service.ts";
import type { Identity, Principal } from "../identity/types.ts";
import { internalError, methodNotAllowed, notFound as missing } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import type { ReviewService } from "../review/service.ts";
import type { Store } from "../store/types.ts";
import type { Upstream } from "../upstream/types.ts";
import {
  AGENT_ROUTE_IDS,
  type AgentAdminOptions,
  type AgentRouteId,
  agentHandlers,
  describeAgentRoute,
} from "./agents.ts";
import {
  AUDIT_ROUTE_IDS,
  type AuditApiOptions,
  type AuditRouteId,
  auditHandlers,
  describeAuditRoute,
} from "./audit.ts";
import { authenticateAdmin, authorize, UNAUTHENTICATED } from "./auth.ts";
import { type ClusterRouteId, clusterHandlers, describeClusterRoute } from "./clusters.ts";
import {
  DELEGATION_ROUTE_IDS,
  type DelegationRouteId,
  delegationHandlers,
  describeDelegationRoute,
} from "./delegations.ts";
import { readJsonBody, sendJson, sendStatus } from "./http.ts";
import {
  checkOwner,
  describeIdentityRoute,
  IDENTITY_ROUTE_IDS,
  type IdentityRouteId,
  identityHandlers,
} from "./identities.ts";
import { buildKubeconfig } from "./kubeconfig.ts";
import { openApiDocument } from "./openapi.ts";
import { describePolicyRoute, type PolicyRouteId, policyHandlers } from "./policies.ts";
import { describeReviewRoute, type ReviewRouteId, reviewHandlers } from "./reviews.ts";
import { ADMIN_PREFIX, matchRoute, type RouteId } from "./routes.ts";
import { createIdentityRequest, invalid } from "./schemas.ts";
import { describeSessionRoute, SESSION_ROUTE_IDS, type SessionRouteId, sessionHandlers } from "./sessions.ts";

export interface AdminApiOptions {
  store: Store;
  /** The gateway's clock for expiry arithmetic (rotation overlaps); the store judges expiry by the same one. */
  now?: () => number;
  /** SHA-256 hex of the bootstrap admin token (shared/tokens.ts hashToken). */
  adminTokenHash: string;
  /** The gateway's public base URL, written into kubeconfigs and the OpenAPI document. */
  gatewayUrl: string;
  /** The CA that signed the gateway's certificate, written into kubeconfigs. */
  caPem: string;
  /** Called after an identity is revoked, to close its live streams (DESIGN.md invariant 9). */
  onRevoke?: (identity: Identity) => void | Promise<void>;
  /** Reviews (approve, deny, grants); without it the review routes answer 404. */
  reviews?: ReviewService | undefined;
  /** The policy engine (policy.files); without it the policy routes answer 404. */
  policies?: PolicyEngine | undefined;
  /** Session credentials, client certificates and cutting off streams; without it those routes answer 503. */
  identities?: IdentityService | undefined;
  /** The audit signing key's public half, for verify and pubkey; without it those routes answer 503. */
  audit?: AuditApiOptions | undefined;
  /** <dataDir>/recordings, where recording files are read from; without it recordings answer 404. */
  recordingsDir?: string | undefined;
  /** The gateway's clusters, for the connection test and the cluster list; without it that route answers 404. */
  upstreams?: { get(name: string): Upstream | undefined; all?(): Upstream[] } | undefined;
  /** Tunnel clusters' agents (src/server/agents.ts); without it join tokens and revocation answer 404. */
  agents?: AgentAdminOptions | undefined;
  /** Where unexpected errors go (the answer to the client stays generic). */
  onError?: (err: unknown) => void;
  /** Where audit notes that failed after the fact (revocations) are reported; defaults to onError. */
  log?: NoteLog;
}

export interface AdminApi {
  /** True for paths this API serves (everything under /airlock/v1/). */
  handles(pathname: string): boolean;
  /** The caller, from the Authorization header: the admin, a human or an agent; undefined without a valid token. */
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  /** Answers one request. Without a principal every route but the OpenAPI document answers 401. */
  handle(req: IncomingMessage, res: ServerResponse, principal: Principal | undefined): Promise<void>;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  principal: Principal | undefined;
}

export function createAdminApi(opts: AdminApiOptions): AdminApi {
  const { store } = opts;
  const openapi = JSON.stringify(openApiDocument(opts.gatewayUrl));

  const notFound = (name: string) =>
    new StatusError(missing(`identity "${name}" not found`, { name, kind: "identities" }));

  const log: NoteLog = opts.log ?? {
    error: (obj, msg) => opts.onError?.(new Error(`${msg}: ${JSON.stringify(obj)}`)),
  };
  const actor = (principal: Principal | undefined) => principal?.name ?? "unknown";

  const forReviews = reviewHandlers(opts.reviews);
  // Review routes are never public, so the router has authenticated the principal before they run.
  const reviewRoute =
    (id: ReviewRouteId) =>
    (call: Call): Promise<void> => {
      if (!call.principal) throw new StatusError(UNAUTHENTICATED);
      return forReviews[id]({ ...call, principal: call.principal });
    };

  const forIdentities = identityHandlers({
    store,
    identities: opts.identities,
    gatewayUrl: opts.gatewayUrl,
    caPem: opts.caPem,
    log,
    ...(opts.now ? { now: opts.now } : {}),
  });

  const handlers: Record<RouteId, (call: Call) => Promise<void>> = {
    ...forIdentities,
    ...auditHandlers(store, opts.audit),
    ...policyHandlers(opts.policies, { audit: store }),
    ...sessionHandlers(store, opts.recordingsDir),
    ...clusterHandlers(opts.upstreams),
    ...agentHandlers({
      agents: opts.agents,
      upstreams: opts.upstreams,
      note: (note) => store.audit.note(note),
      log,
    }),
    ...delegationHandlers({
      store,
      log,
      cutOff: opts.identities ? (d, why) => opts.identities?.cutOffDelegation(d, why) : undefined,
      reviews: opts.reviews,
    }),
    listReviews: reviewRoute("listReviews"),
    getReview: reviewRoute("getReview"),
    approveReview: reviewRoute("approveReview"),
    denyReview: reviewRoute("denyReview"),
    listGrants: reviewRoute("listGrants"),
    revokeGrant: reviewRoute("revokeGrant"),
    async listIdentities({ res }) {
      sendJson(res, 200, { items: await store.identities.list() });
    },
    async createIdentity({ req, res, principal }) {
      const body = await readJsonBody(req);
      const parsed = createIdentityRequest.safeParse(body);
      if (!parsed.success) {
        const name =
          typeof (body as { name?: unknown })?.name === "string" ? (body as { name: string }).name : "";
        throw new StatusError(invalid("identities", name, parsed.error));
      }
      await checkOwner(store, parsed.data.owner);
      const { identity, token, credential } = await store.identities.create(parsed.data);
      // Noted before the token is shown; when the note fails the identity is revoked unseen (its name stays taken).
      const note = identityNote("created", actor(principal), identity, {
        kind: identity.kind,
        groups: identity.groups,
        labels: identity.labels,
        owner: identity.owner,
        expiresAt: identity.expiresAt,
        credential: credential.id,
      });
      try {
        await store.audit.note(note);
      } catch (err) {
        await store.identities.revoke(identity.name).catch(() => {});
        log.error(
          { note: note.type, subject: identity.name, err: (err as Error).message },
          "audit note failed",
        );
        throw new StatusError(
          internalError(
            `identity "${identity.name}" could not be recorded in the audit log; it was revoked and its token not shown`,
          ),
        );
      }
      const kubeconfig = buildKubeconfig({
        server: opts.gatewayUrl,
        caPem: opts.caPem,
        identity: identity.name,
        token,
      });
      sendJson(res, 201, { identity, token, kubeconfig });
    },
    async getIdentity({ res, params }) {
      const name = params.name ?? "";
      const identity = await store.identities.get(name);
      if (!identity) throw notFound(name);
      sendJson(res, 200, identity);
    },
    async revokeIdentity({ res, params, principal }) {
      const name = params.name ?? "";
      const identity = await store.identities.revoke(name);
      if (!identity) throw notFound(name);
      let cutOffFailed: unknown;
      try {
        await opts.onRevoke?.(identity);
      } catch (err) {
        cutOffFailed = err ?? new Error("cut-off failed");
      }
      // Revocation is in force and its streams closed already; its note comes after and never blocks either.
      await noteAfter(
        store,
        identityNote("revoked", actor(principal), identity, { streamsCutOff: cutOffFailed === undefined }),
        log,
      );
      if (cutOffFailed !== undefined) {
        const err = cutOffFailed;
        opts.onError?.(err);
        throw new StatusError(
          internalError(
            `identity "${name}" is revoked and its tokens no longer work, but closing its live streams failed; ` +
              "retry the revoke",
          ),
        );
      }
      sendJson(res, 200, identity);
    },
    async openapi({ res }) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(openapi);
    },
  };

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    principal: Principal | undefined,
  ): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "https://airlock.invalid");
      const match = matchRoute(req.method ?? "GET", url.pathname);
      if (match.kind === "notFound") {
        throw new StatusError(
          missing(`the admin API has no ${url.pathname}; see ${ADMIN_PREFIX}openapi.json`),
        );
      }
      if (match.kind === "methodNotAllowed") {
        sendStatus(res, methodNotAllowed(`${req.method} is not allowed on ${url.pathname}`), {
          allow: match.allow.join(", "),
        });
        return;
      }
      const { route, params } = match;
      if (route.access !== "public") {
        if (!principal) {
          sendStatus(res, UNAUTHENTICATED, { "www-authenticate": 'Bearer realm="airlock"' });
          return;
        }
        const allowed = authorize(principal, route.access, describe(route.id, params.name ?? params.id));
        if (!allowed.ok) throw new StatusError(allowed.status);
      }
      await handlers[route.id]({ req, res, url, params, principal });
    } catch (err) {
      if (!(err instanceof StatusError)) opts.onError?.(err);
      const status =
        err instanceof StatusError ? err.status : internalError("internal error in the admin API");
      if (res.headersSent) res.destroy();
      else sendStatus(res, status);
    }
  }

  return {
    handles: (pathname) => pathname.startsWith(ADMIN_PREFIX),
    authenticate: (req) => authenticateAdmin(store, opts.adminTokenHash, req.headers),
    handle,
  };
}

function describe(id: RouteId, name: string | undefined): string {
  switch (id) {
    case "listIdentities":
      return "listing identities";
    case "createIdentity":
      return "creating identities";
    case "getIdentity":
      return `reading identity "${name}"`;
    case "revokeIdentity":
      return `revoking identity "${name}"`;
    case "openapi":
      return "reading the API description";
    case "listPolicies":
    case "evaluatePolicy":
    case "putPolicy":
    case "deletePolicy":
      return describePolicyRoute(id as PolicyRouteId, name);
    default:
      if ((AUDIT_ROUTE_IDS as readonly string[]).includes(id)) return describeAuditRoute(id as AuditRouteId);
      if (id === "testCluster") return describeClusterRoute(id as ClusterRouteId, name);
      if ((AGENT_ROUTE_IDS as readonly string[]).includes(id))
        return describeAgentRoute(id as AgentRouteId, name);
      if ((DELEGATION_ROUTE_IDS as readonly string[]).includes(id))
        return describeDelegationRoute(id as DelegationRouteId, name);
      if ((SESSION_ROUTE_IDS as readonly string[]).includes(id))
        return describeSessionRoute(id as SessionRouteId, name);
      return (IDENTITY_ROUTE_IDS as readonly string[]).includes(id)
        ? describeIdentityRoute(id as IdentityRouteId, name)
        : describeReviewRoute(id as ReviewRouteId, name);
  }
}
