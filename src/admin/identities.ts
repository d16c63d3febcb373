// Admin API routes of the identity lifecycle and its credentials: update, disable/enable, tokens (issue, rotate
// with an overlap window), client certificates, credential revocation, and the session-credential exchange.
//
// Security stance: the store changes first, then live streams are cut off (src/identity/service.ts), so a failure
// to close streams never leaves a credential working. Secrets (tokens, private keys) are in the 201 answer only,
// never in a listing: credentials are listed without their hashes. The session exchange is the one route an agent
// may call ("self" access), and only with its own long-lived token; the admin token has no identity to trade.
//
// Audit (src/identity/audit.ts): every change is an `identity.*` note naming who did it. Changes that give access
// are noted first — enable and update before the store changes (a note that fails leaves the identity as it was),
// a new token after it is stored but before it is shown (a note that fails revokes it unseen). Changes that take
// access away (disable, credential revocation) are committed and cut off first, then noted; a failed note is logged.
import { z } from "zod";
import {
  type AuditWriter,
  credentialDetail,
  identityNote,
  type NoteLog,
  noteAfter,
} from "../identity/audit.ts";
import type { IdentityService } from "../identity/service.ts";
import type { Credential, Principal } from "../identity/types.ts";
import {
  badRequest,
  conflict,
  internalError,
  invalid as invalidStatus,
  notFound as missing,
  notEnabled,
  unauthorized,
} from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import type { Store } from "../store/types.ts";
import { readJsonBody, sendJson } from "./http.ts";
import { buildKubeconfig } from "./kubeconfig.ts";
import {
  type credentialScopes,
  group,
  identityName,
  invalid,
  labels,
  namespaceName,
  rfc3339,
  tokenOptions,
} from "./schemas.ts";

export type IdentityRouteId =
  | "updateIdentity"
  | "disableIdentity"
  | "enableIdentity"
  | "listCredentials"
  | "createToken"
  | "rotateToken"
  | "revokeCredential"
  | "issueCertificate"
  | "createSession";

const time = rfc3339;

export const updateIdentityRequest = z.strictObject({
  groups: z.array(group).max(64).optional(),
  labels: labels.optional(),
  owner: identityName.nullable().optional(),
  description: z.string().max(1024).optional(),
  expiresAt: time.nullable().optional(),
  defaultNamespace: namespaceName.nullable().optional(),
});
export const tokenRequest = z.strictObject(tokenOptions);
export const rotateRequest = z.strictObject({
  ...tokenOptions,
  /** The token to replace; may be omitted when the identity has exactly one usable token. */
  credentialId: z.string().uuid().optional(),
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86400)
    .default(3600),
});
export const certificateRequest = z.strictObject({ validDays: z.number().int().min(1).max(365).optional() });
export const sessionRequest = z.strictObject({
  ttlSeconds: z.number().int().min(60).max(3600).optional(),
  reason: z.string().max(256).optional(),
  onBehalfOf: identityName.optional(),
});

export interface IdentityCall {
  req: import("node:http").IncomingMessage;
  res: import("node:http").ServerResponse;
  params: Record<string, string>;
  principal: Principal | undefined;
}

/** A credential as the API shows it: everything but the hash. */
export function publicCredential(c: Credential): Omit<Credential, "tokenHash"> {
  const { tokenHash: _hash, ...rest } = c;
  return rest;
}

/** An owner must be an existing human identity (the person accountable for an agent). */
export async function checkOwner(store: Store, owner: string | null | undefined): Promise<void> {
  if (owner === undefined || owner === null) return;
  const human = await store.identities.get(owner);
  if (human?.kind !== "human") {
    throw new StatusError(
      invalidStatus(`owner "${owner}" is not a human identity; an owner is the human accountable`, {
        kind: "identities",
        causes: [{ type: "FieldValueInvalid", field: "owner", message: "must name a human identity" }],
      }),
    );
  }
}

async function parse<T>(call: IdentityCall, schema: z.ZodType<T>, kind: string): Promise<T> {
  const body = call.req.headers["content-length"] === "0" ? {} : await readJsonBody(call.req);
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new StatusError(invalid(kind, call.params.name ?? "", parsed.error));
  return parsed.data;
}

function tokenOpts(body: {
  name?: string | undefined;
  expiresAt?: string | undefined;
  scopes?: z.infer<typeof credentialScopes> | undefined;
}) {
  const opts: { name?: string; expiresAt?: string; scopes?: { clusters?: string[]; readOnly?: boolean } } =
    {};
  if (body.name !== undefined) opts.name = body.name;
  if (body.expiresAt !== undefined) opts.expiresAt = new Date(body.expiresAt).toISOString();
  if (body.scopes !== undefined) {
    opts.scopes = {};
    if (body.scopes.clusters !== undefined) opts.scopes.clusters = body.scopes.clusters;
    if (body.scopes.readOnly) opts.scopes.readOnly = true;
  }
  return opts;
}

/** Who made a change, for its audit note. */
export function actorOf(principal: Principal | undefined): string {
  return principal?.name ?? "unknown";
}

/**
 * Chains the note of a credential just stored and not yet shown; when that fails the credential is revoked unseen
 * and the call fails (no note, no secret).
 */
export async function noteIssued(
  store: Store & AuditWriter,
  note: Parameters<AuditWriter["audit"]["note"]>[0],
  credentialId: string,
  log: NoteLog,
): Promise<void> {
  try {
    await store.audit.note(note);
  } catch (err) {
    await store.credentials.revoke(credentialId).catch(() => {});
    log.error({ note: note.type, subject: note.subject, err: (err as Error).message }, "audit note failed");
    throw new StatusError(
      internalError(
        `${note.type} for "${note.subject}" could not be recorded in the audit log; the credential was revoked unseen`,
      ),
    );
  }
}

export function identityHandlers(opts: {
  store: Store;
  identities: IdentityService | undefined;
  gatewayUrl: string;
  caPem: string;
  log: NoteLog;
  /** The gateway's clock (the store judges expiry by the same one). */
  now?: () => number;
}): Record<IdentityRouteId, (call: IdentityCall) => Promise<void>> {
  const { store, log } = opts;
  const notFound = (name: string) =>
    new StatusError(missing(`identity "${name}" not found`, { name, kind: "identities" }));
  const service = (): IdentityService => {
    if (!opts.identities)
      throw new StatusError(notEnabled("identity credentials are not enabled on this gateway"));
    return opts.identities;
  };
  const identityOf = async (name: string) => {
    const identity = await store.identities.get(name);
    if (!identity) throw notFound(name);
    return identity;
  };

  return {
    async updateIdentity(call) {
      const name = call.params.name ?? "";
      const body = await parse(call, updateIdentityRequest, "identities");
      await checkOwner(store, body.owner);
      const update: Parameters<Store["identities"]["update"]>[1] = {};
      if (body.groups !== undefined) update.groups = body.groups;
      if (body.labels !== undefined) update.labels = body.labels;
      if (body.owner !== undefined) update.owner = body.owner;
      if (body.description !== undefined) update.description = body.description;
      if (body.defaultNamespace !== undefined) update.defaultNamespace = body.defaultNamespace;
      if (body.expiresAt !== undefined)
        update.expiresAt = body.expiresAt === null ? null : new Date(body.expiresAt).toISOString();
      // Write-ahead: new groups or labels may widen what policy allows, so the change is chained before it is made.
      const before = await identityOf(name);
      if (before.state === "revoked") throw new StatusError(conflict(`identity "${name}" is revoked`));
      await store.audit.note(
        identityNote("updated", actorOf(call.principal), before, {
          ...(update.groups !== undefined ? { groups: update.groups } : {}),
          ...(update.labels !== undefined ? { labels: update.labels } : {}),
          ...(update.owner !== undefined ? { owner: update.owner } : {}),
          ...(update.description !== undefined ? { description: update.description } : {}),
          ...(update.defaultNamespace !== undefined ? { defaultNamespace: update.defaultNamespace } : {}),
          ...(update.expiresAt !== undefined ? { expiresAt: update.expiresAt } : {}),
        }),
      );
      const identity = await store.identities.update(name, update);
      if (!identity) throw notFound(name);
      if (update.expiresAt !== undefined) opts.identities?.expiryChanged(identity);
      sendJson(call.res, 200, identity);
    },
    async disableIdentity(call) {
      const name = call.params.name ?? "";
      const identity = await store.identities.setDisabled(name, true);
      if (!identity) throw notFound(name);
      opts.identities?.cutOffIdentity(identity, `identity ${identity.name} was disabled`);
      await noteAfter(store, identityNote("disabled", actorOf(call.principal), identity), log);
      sendJson(call.res, 200, identity);
    },
    async enableIdentity(call) {
      const name = call.params.name ?? "";
      // Write-ahead: enabling gives access back, so it is chained first.
      const before = await identityOf(name);
      if (before.state === "revoked")
        throw new StatusError(conflict(`identity "${name}" is revoked; it cannot be enabled`));
      await store.audit.note(identityNote("enabled", actorOf(call.principal), before, { was: before.state }));
      const identity = await store.identities.setDisabled(name, false);
      if (!identity) throw notFound(name);
      sendJson(call.res, 200, identity);
    },
    async listCredentials(call) {
      const name = call.params.name ?? "";
      const items = await store.credentials.list(name);
      if (!items) throw notFound(name);
      sendJson(call.res, 200, { items: items.map(publicCredential) });
    },
    async createToken(call) {
      const name = call.params.name ?? "";
      const body = await parse(call, tokenRequest, "tokens");
      const identity = await identityOf(name);
      const created = await store.credentials.create(name, tokenOpts(body));
      if (!created) throw new StatusError(conflict(`identity "${name}" is revoked; it gets no new tokens`));
      const note = identityNote(
        "token.issued",
        actorOf(call.principal),
        identity,
        credentialDetail(created.credential),
      );
      await noteIssued(store, note, created.credential.id, log);
      sendJson(call.res, 201, { credential: publicCredential(created.credential), token: created.token });
    },
    async rotateToken(call) {
      const name = call.params.name ?? "";
      const body = await parse(call, rotateRequest, "tokens");
      const identity = await identityOf(name);
      const now = (opts.now ?? Date.now)();
      const all = (await store.credentials.list(name)) ?? [];
      const live = all.filter(
        (c) =>
          c.kind === "token" &&
          c.revokedAt === null &&
          (c.expiresAt === null || Date.parse(c.expiresAt) > now),
      );
      const old = body.credentialId
        ? live.find((c) => c.id === body.credentialId)
        : live.length === 1
          ? live[0]
          : undefined;
      if (!old) {
        throw new StatusError(
          badRequest(
            body.credentialId
              ? `identity "${name}" has no usable token ${body.credentialId}`
              : `identity "${name}" has ${live.length} usable tokens; name the one to rotate (credentialId)`,
          ),
        );
      }
      const options = tokenOpts(body);
      // The new token inherits the old one's scopes and name unless the request sets them.
      if (!options.scopes && (old.scopes.clusters || old.scopes.readOnly)) options.scopes = old.scopes;
      if (options.name === undefined && old.name) options.name = old.name;
      const created = await store.credentials.create(identity.name, options);
      if (!created) throw new StatusError(conflict(`identity "${name}" is revoked; it gets no new tokens`));
      // The old token is shortened only once the new one is recorded: a failed note leaves the old one as it was.
      const note = identityNote("token.rotated", actorOf(call.principal), identity, {
        ...credentialDetail(created.credential),
        replaced: old.id,
        overlapSeconds: body.overlapSeconds,
      });
      await noteIssued(store, note, created.credential.id, log);
      const replaced = await store.credentials.expireAt(
        old.id,
        new Date(now + body.overlapSeconds * 1000).toISOString(),
      );
      if (replaced && body.overlapSeconds === 0)
        opts.identities?.cutOffCredential(replaced, "its token was rotated");
      sendJson(call.res, 201, {
        credential: publicCredential(created.credential),
        token: created.token,
        replaced: replaced ? publicCredential(replaced) : null,
      });
    },
    async revokeCredential(call) {
      const name = call.params.name ?? "";
      const identity = await identityOf(name);
      const existing = await store.credentials.get(call.params.id ?? "");
      if (!existing || existing.identityId !== identity.id) {
        throw new StatusError(
          missing(`identity "${name}" has no credential ${call.params.id}`, {
            kind: "credentials",
          }),
        );
      }
      const credential = await store.credentials.revoke(existing.id);
      if (!credential) throw new StatusError(missing(`credential ${existing.id} not found`));
      opts.identities?.cutOffCredential(
        credential,
        `credential ${credential.id} of identity ${name} was revoked`,
      );
      const note = identityNote(
        "credential.revoked",
        actorOf(call.principal),
        identity,
        credentialDetail(credential),
      );
      await noteAfter(store, note, log);
      sendJson(call.res, 200, publicCredential(credential));
    },
    async issueCertificate(call) {
      const name = call.params.name ?? "";
      const body = await parse(call, certificateRequest, "certificates");
      const { credential, issued } = await service().issueCertificate(
        name,
        body.validDays,
        actorOf(call.principal),
      );
      const kubeconfig = buildKubeconfig({
        server: opts.gatewayUrl,
        caPem: opts.caPem,
        identity: name,
        clientCertificate: { certPem: issued.certPem, keyPem: issued.keyPem },
      });
      sendJson(call.res, 201, {
        credential: publicCredential(credential),
        certificate: issued.certPem,
        key: issued.keyPem,
        ca: service().caPem,
        kubeconfig,
      });
    },
    async createSession(call) {
      const principal = call.principal;
      if (!principal)
        throw new StatusError(unauthorized("Unauthorized: a session is traded for an identity's token"));
      const body = await parse(call, sessionRequest, "sessions");
      const found = await store.identities.authenticateCredentialId(principal.credentialId);
      if (!found) throw new StatusError(unauthorized("Unauthorized: the token is no longer valid"));
      const request: Parameters<IdentityService["issueSession"]>[2] = {};
      if (body.ttlSeconds !== undefined) request.ttlSeconds = body.ttlSeconds;
      if (body.reason !== undefined) request.reason = body.reason;
      if (body.onBehalfOf !== undefined) request.onBehalfOf = body.onBehalfOf;
      const session = await service().issueSession(found.identity, found.credential, request);
      sendJson(call.res, 201, { identity: found.identity.name, ...session });
    },
  };
}

export function describeIdentityRoute(id: IdentityRouteId, name: string | undefined): string {
  switch (id) {
    case "updateIdentity":
      return `changing identity "${name}"`;
    case "disableIdentity":
      return `disabling identity "${name}"`;
    case "enableIdentity":
      return `enabling identity "${name}"`;
    case "listCredentials":
      return `listing the credentials of identity "${name}"`;
    case "createToken":
    case "rotateToken":
      return `issuing tokens for identity "${name}"`;
    case "revokeCredential":
      return `revoking a credential of identity "${name}"`;
    case "issueCertificate":
      return `issuing a client certificate for identity "${name}"`;
    case "createSession":
      return "creating a session credential";
  }
}

export const IDENTITY_ROUTE_IDS: readonly IdentityRouteId[] = [
  "updateIdentity",
  "disableIdentity",
  "enableIdentity",
  "listCredentials",
  "createToken",
  "rotateToken",
  "revokeCredential",
  "issueCertificate",
  "createSession",
];

/** OpenAPI operations of these routes, by path and method (merged into openapi.ts, which owns the shared paths). */
export function identityOpenApiPaths(): Record<string, Record<string, unknown>> {
  const schema = (s: z.ZodType) => {
    const out = z.toJSONSchema(s, { io: "input" }) as Record<string, unknown>;
    delete out.$schema;
    return out;
  };
  const body = (s: z.ZodType) => ({
    required: false,
    content: { "application/json": { schema: schema(s) } },
  });
  const answer = (description: string) => ({
    description,
    content: { "application/json": { schema: { type: "object" } } },
  });
  const fail = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/Status${c}` }]));
  const name = { name: "name", in: "path", required: true, schema: { type: "string" } };
  const id = { name: "id", in: "path", required: true, schema: { type: "string" } };
  const op = (operationId: IdentityRouteId, summary: string, extra: Record<string, unknown>) => ({
    operationId,
    summary,
    ...extra,
  });
  return {
    "/airlock/v1/identities/{name}": {
      patch: op("updateIdentity", "Change groups, labels, owner, description or expiry", {
        parameters: [name],
        requestBody: body(updateIdentityRequest),
        responses: { "200": answer("The identity"), ...fail(400, 401, 403, 404, 409, 422) },
      }),
    },
    "/airlock/v1/identities/{name}/disable": {
      post: op("disableIdentity", "Disable (reversible): refused on the next request, live streams closed", {
        parameters: [name],
        responses: { "200": answer("The identity"), ...fail(401, 403, 404, 409) },
      }),
    },
    "/airlock/v1/identities/{name}/enable": {
      post: op("enableIdentity", "Enable a disabled identity (never a revoked one)", {
        parameters: [name],
        responses: { "200": answer("The identity"), ...fail(401, 403, 404, 409) },
      }),
    },
    "/airlock/v1/identities/{name}/credentials": {
      get: op("listCredentials", "The identity's tokens and certificates, with expiry, scopes and last use", {
        parameters: [name],
        responses: { "200": answer("Credentials (never a secret or hash)"), ...fail(401, 403, 404) },
      }),
    },
    "/airlock/v1/identities/{name}/tokens": {
      post: op("createToken", "Issue another API token, shown once", {
        parameters: [name],
        requestBody: body(tokenRequest),
        responses: { "201": answer("The credential and its token"), ...fail(401, 403, 404, 409, 422) },
      }),
    },
    "/airlock/v1/identities/{name}/tokens/rotate": {
      post: op(
        "rotateToken",
        "Replace a token: a new one now, the old one expires after the overlap window",
        {
          parameters: [name],
          requestBody: body(rotateRequest),
          responses: {
            "201": answer("The new credential and token, and the replaced one"),
            ...fail(400, 401, 403, 404),
          },
        },
      ),
    },
    "/airlock/v1/identities/{name}/credentials/{id}/revoke": {
      post: op("revokeCredential", "Revoke one credential; its live streams close", {
        parameters: [name, id],
        responses: { "200": answer("The credential"), ...fail(401, 403, 404) },
      }),
    },
    "/airlock/v1/identities/{name}/certificates": {
      post: op(
        "issueCertificate",
        "Issue an mTLS client certificate (key shown once) and a kubeconfig using it",
        {
          parameters: [name],
          requestBody: body(certificateRequest),
          responses: { "201": answer("Certificate, key, CA and kubeconfig"), ...fail(401, 403, 404, 409) },
        },
      ),
    },
    "/airlock/v1/credentials/session": {
      post: op("createSession", "Trade the caller's own token for a short-lived session credential", {
        requestBody: body(sessionRequest),
        responses: { "201": answer("The session token and its expiry"), ...fail(401, 403, 422) },
      }),
    },
  };
}
