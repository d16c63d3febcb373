// The identity service a gateway runs: the authenticator chain, session credential and client certificate issue,
// and cutting off live streams when an identity or credential stops being valid (DESIGN.md invariant 9).
//
// Security stance: the store is changed first and streams closed second, so even if closing fails the identity is
// already refused on the next request. Expiry needs no store change: a timer closes streams whose principal expired
// (checked every second), and the store refuses expired credentials on the next request by itself. An identity's
// expiry moved later moves its streams' deadlines with it, but never past their credential's, session's or workload
// token's own expiry (deadlines.ts); where that is unknown the deadline stays.
//
// Audit (src/identity/audit.ts): a session credential or certificate is chained as an `identity.*` note before it
// is handed out (no note, no secret); streams closed by a cut-off or expiry are a `stream.closed` note written after,
// never delaying the close.

import type { AuditStore } from "../audit/types.ts";
import {
  conflict,
  forbiddenHere,
  internalError,
  invalid,
  justificationInvalid,
  notFound,
} from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { checkJustification } from "../shared/justification.ts";
import type { Logger } from "../shared/log.ts";
import { identityNote, noteAfter } from "./audit.ts";
import type { Authenticator, AuthInput, AuthResult } from "./authenticate.ts";
import { authenticatorChain } from "./authenticate.ts";
import { certificateAuthenticator, sessionAuthenticator, tokenAuthenticator } from "./authenticators.ts";
import { DEFAULT_CERT_DAYS, type IdentityCa, type IssuedCertificate, loadIdentityCa } from "./ca.ts";
import { CredentialLimits, newDeadline } from "./deadlines.ts";
import { delegationHint } from "./delegation.ts";
import {
  DEFAULT_SESSION_SECONDS,
  loadSessionSigner,
  MAX_SESSION_SECONDS,
  type SessionSigner,
} from "./session.ts";
import type { LiveStream, StreamRegistry } from "./streams.ts";
import type { Credential, DelegationStore, Identity, IdentityStore } from "./types.ts";

/** The store shares the identity service uses. */
type IdentityServiceStore = IdentityStore & DelegationStore & AuditStore;

export interface IdentityServiceOptions {
  dataDir: string;
  store: IdentityServiceStore;
  streams: StreamRegistry;
  log: Logger;
  now?: () => number;
  /** Further links after the built-in ones (workload identities). */
  extraAuthenticators?: Authenticator[];
}

export interface SessionRequest {
  ttlSeconds?: number;
  reason?: string;
  onBehalfOf?: string;
}

export interface IssuedSession {
  token: string;
  expiresAt: string;
  sessionId: string;
  justification: string | null;
  onBehalfOf: string | null;
}

export interface IdentityService {
  authenticate(input: AuthInput): Promise<AuthResult>;
  /** PEM of the identity CA: the TLS server asks clients for certificates it issued. */
  readonly caPem: string;
  issueSession(identity: Identity, credential: Credential, request: SessionRequest): Promise<IssuedSession>;
  /** `actor` is who asked (for the audit note; "airlock" when unknown). */
  issueCertificate(
    identityName: string,
    validDays?: number,
    actor?: string,
  ): Promise<{ credential: Credential; issued: IssuedCertificate }>;
  /** Closes the identity's live streams, each with an audit note naming `why`. */
  cutOffIdentity(identity: Identity, why: string): number;
  cutOffCredential(credential: Credential, why: string): number;
  /** An identity's expiry changed: close now if it passed, else make sure its streams close when it does. */
  expiryChanged(identity: Identity): void;
  /** Closes what runs on behalf of `human` by `agentId` (a delegation ended), each with an audit note. */
  cutOffDelegation(delegation: { human: string; agentId: string }, why: string): number;
  close(): void;
}

export async function createIdentityService(opts: IdentityServiceOptions): Promise<IdentityService> {
  const now = opts.now ?? Date.now;
  const [signer, ca]: [SessionSigner, IdentityCa] = await Promise.all([
    loadSessionSigner(opts.dataDir),
    loadIdentityCa(opts.dataDir),
  ]);
  const { store, streams, log } = opts;
  const chain = authenticatorChain([
    tokenAuthenticator(store),
    sessionAuthenticator(store, signer, now),
    certificateAuthenticator(store, ca, now),
    ...(opts.extraAuthenticators ?? []),
  ]);
  const streamsClosed = (
    subject: string,
    count: number,
    reason: string,
    detail: Record<string, string> = {},
  ) => {
    if (count === 0) return;
    void noteAfter(
      store,
      { type: "stream.closed", actor: "airlock", subject, detail: { ...detail, streams: count, reason } },
      log,
    );
  };
  const limits = new CredentialLimits();
  const authenticate = async (input: AuthInput): Promise<AuthResult> => {
    const result = await chain(input);
    if (result.ok) limits.note(result.principal);
    return result;
  };
  const timer = setInterval(() => {
    limits.prune(now());
    const closed = streams.closeExpired(now());
    if (closed) log.info({ closedStreams: closed }, "credentials expired; live streams closed");
    streamsClosed("expiry", closed, "its credential or identity expired");
    // A quarter-second sweep: invariant 9 allows one second from expiry to closed stream, and a one-second sweep
    // would use all of it before the close itself.
  }, 250);
  timer.unref();

  // Earlier deadlines take effect at once; later ones only after the store confirms the credential still lasts
  // (rotation may have shortened it since). Each moved stream's limit is carried to its new deadline, so the next
  // change finds it again.
  const moveDeadlines = (identityId: string, identityMs: number): Promise<void> => {
    const later: [LiveStream, number, number][] = [];
    for (const stream of streams.ofIdentity(identityId)) {
      const current = stream.expiresAtMs;
      const limit =
        current === undefined ? Number.POSITIVE_INFINITY : limits.limitOf(stream.credentialId, current);
      const next = newDeadline(current, identityMs, limit);
      if (next === current) continue;
      if (next !== undefined && (current === undefined || next < current)) {
        stream.expiresAtMs = next;
        if (limit !== undefined) limits.carry(stream.credentialId, next, limit);
      } else if (limit !== undefined) later.push([stream, current ?? Number.POSITIVE_INFINITY, limit]);
    }
    if (later.length === 0) return Promise.resolve();
    return (async () => {
      const ends = new Map<string, number>();
      for (const [stream, was, limit] of later) {
        const id = stream.credentialId ?? "";
        let end = ends.get(id);
        if (end === undefined) {
          const credential = id.startsWith("workload:") ? undefined : await store.credentials.get(id);
          end = credential?.expiresAt ? Date.parse(credential.expiresAt) : Number.POSITIVE_INFINITY;
          ends.set(id, end);
        }
        // A change made meanwhile (a shorter expiry, a newer move) wins over this one.
        if (stream.expiresAtMs !== (was === Number.POSITIVE_INFINITY ? undefined : was)) continue;
        const capped = Math.min(limit, end);
        const next = newDeadline(was, identityMs, capped);
        if (next === undefined) delete stream.expiresAtMs;
        else {
          stream.expiresAtMs = next;
          limits.carry(stream.credentialId, next, capped);
        }
      }
    })();
  };

  const service: IdentityService = {
    authenticate,
    caPem: ca.caPem,
    async issueSession(identity, credential, request) {
      const ttl = Math.min(Math.max(request.ttlSeconds ?? DEFAULT_SESSION_SECONDS, 60), MAX_SESSION_SECONDS);
      let onBehalfOf: string | undefined;
      let delegationEnds: string | undefined;
      let delegationId: string | undefined;
      if (request.onBehalfOf !== undefined) {
        // Consent first (issue 15): naming a human needs an active delegation from that human to this identity.
        const human = await store.identities.get(request.onBehalfOf);
        if (human?.kind !== "human" || human.state !== "active") {
          throw new StatusError(
            invalid(
              `on-behalf-of "${request.onBehalfOf}" is not an active human identity; delegation names a human`,
            ),
          );
        }
        const [delegation] = await store.delegations.list({
          agent: identity.name,
          human: human.name,
          activeAt: new Date(now()).toISOString(),
        });
        if (!delegation) {
          throw new StatusError(
            forbiddenHere(
              `acting on behalf of "${human.name}" is forbidden: there is no active delegation from ${human.name} to ${identity.name}; ${delegationHint(human.name, identity.name)}`,
            ),
          );
        }
        onBehalfOf = human.name;
        delegationEnds = delegation.expiresAt;
        delegationId = delegation.id;
      }
      // A session never outlives the credential or identity it was traded for, nor the delegation it acts under.
      const nowMs = now();
      const limits = [identity.expiresAt, credential.expiresAt, delegationEnds ?? null]
        .filter((t): t is string => t !== null)
        .map((t) => Math.floor((Date.parse(t) - nowMs) / 1000));
      const ttlSeconds = Math.max(1, Math.min(ttl, ...limits));
      // The reason is untrusted text held to the one shape (src/shared/justification.ts): refused, never cleaned,
      // so what the caller typed is what every audit event of the session records.
      let justification: string | undefined;
      if (request.reason !== undefined) {
        const checked = checkJustification(request.reason);
        if (!checked.ok) throw new StatusError(justificationInvalid("the session's reason", checked.why));
        justification = checked.value;
      }
      const { token, claims } = signer.issue({
        identityId: identity.id,
        credentialId: credential.id,
        ttlSeconds,
        nowMs,
        ...(justification ? { reason: justification } : {}),
        ...(onBehalfOf ? { onBehalfOf } : {}),
        ...(delegationId ? { delegationId } : {}),
      });
      const expiresAt = new Date(claims.exp * 1000).toISOString();
      // Written before the token leaves: a session that cannot be recorded is never handed out.
      await store.audit.note(
        identityNote("session.issued", identity.name, identity, {
          credential: credential.id,
          sessionId: claims.sid,
          expiresAt,
          justification: justification ?? null,
          onBehalfOf: onBehalfOf ?? null,
        }),
      );
      log.info(
        {
          identity: identity.name,
          credentialId: credential.id,
          sessionId: claims.sid,
          expiresAt: claims.exp,
        },
        "session credential issued",
      );
      return {
        token,
        expiresAt,
        sessionId: claims.sid,
        justification: justification ?? null,
        onBehalfOf: onBehalfOf ?? null,
      };
    },
    async issueCertificate(identityName, validDays = DEFAULT_CERT_DAYS, actor = "airlock") {
      const identity = await store.identities.get(identityName);
      if (!identity)
        throw new StatusError(
          notFound(`identity "${identityName}" not found`, {
            name: identityName,
            kind: "identities",
          }),
        );
      if (identity.state === "revoked")
        throw new StatusError(conflict(`identity "${identityName}" is revoked`));
      const issued = ca.issue(identity.name, validDays);
      const credential = await store.credentials.addCertificate(identity.name, {
        fingerprint: issued.fingerprint,
        serial: issued.serial,
        expiresAt: issued.expiresAt,
      });
      if (!credential) throw new StatusError(conflict(`identity "${identityName}" is revoked`));
      try {
        await store.audit.note(
          identityNote("certificate.issued", actor, identity, {
            credential: credential.id,
            serial: issued.serial,
            expiresAt: issued.expiresAt,
          }),
        );
      } catch (err) {
        // Not recorded, so not handed out: the certificate is revoked before anyone holds its key.
        await store.credentials.revoke(credential.id).catch(() => {});
        log.error({ identity: identity.name, err: (err as Error).message }, "audit note failed");
        throw new StatusError(
          internalError(
            `the certificate for identity "${identityName}" could not be recorded in the audit log; it was revoked and not issued`,
          ),
        );
      }
      return { credential, issued };
    },
    cutOffIdentity(identity, why) {
      // A human cut off ends what agents do on their behalf too: delegated sessions' streams and held requests.
      const closed =
        streams.closeIdentity(identity.id, why) +
        (identity.kind === "human" ? streams.closeOnBehalfOf(identity.name, undefined, why) : 0);
      streamsClosed(identity.name, closed, why, { identityId: identity.id });
      log.info(
        { identity: identity.name, closedStreams: closed, why },
        "identity cut off; live streams closed",
      );
      return closed;
    },
    cutOffCredential(credential, why) {
      const closed = streams.closeCredential(credential.id, why);
      // Another replica's cut-off may name the credential by id alone.
      streamsClosed(credential.identityId ?? "credential", closed, why, { credential: credential.id });
      log.info(
        { credentialId: credential.id, closedStreams: closed, why },
        "credential cut off; live streams closed",
      );
      return closed;
    },
    cutOffDelegation(delegation, why) {
      const closed = streams.closeOnBehalfOf(delegation.human, delegation.agentId, why);
      streamsClosed(delegation.human, closed, why, { onBehalfOf: delegation.human });
      log.info(
        { onBehalfOf: delegation.human, closedStreams: closed, why },
        "delegation cut off; live streams closed",
      );
      return closed;
    },
    expiryChanged(identity) {
      const at = identity.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(identity.expiresAt);
      if (at <= now()) {
        service.cutOffIdentity(identity, `identity ${identity.name} expired`);
        return;
      }
      moveDeadlines(identity.id, at).catch((err: unknown) =>
        log.warn({ identity: identity.name, error: (err as Error).message }, "stream deadlines not moved"),
      );
    },
    close() {
      clearInterval(timer);
    },
  };
  return service;
}
