// The identity service a gateway runs: the authenticator chain, session credential and client certificate issue,
// and cutting off live streams when an identity or credential stops being valid (DESIGN.md invariant 9).
//
// Security stance: the store is changed first and streams closed second, so even if closing fails the identity is
// already refused on the next request. Expiry needs no store change: a timer closes streams whose principal expired
// (checked every second), and the store refuses expired credentials on the next request by itself.
import type { Authenticator, AuthInput, AuthResult } from "../gateway/authenticate.ts";
import { authenticatorChain } from "../gateway/authenticate.ts";
import type { Credential, Identity, Store } from "../gateway/contracts.ts";
import type { StreamRegistry } from "../gateway/streams.ts";
import type { Logger } from "../shared/log.ts";
import { StatusError } from "../shared/status.ts";
import { certificateAuthenticator, sessionAuthenticator, tokenAuthenticator } from "./authenticators.ts";
import { DEFAULT_CERT_DAYS, type IdentityCa, type IssuedCertificate, loadIdentityCa } from "./ca.ts";
import {
  cleanJustification,
  DEFAULT_SESSION_SECONDS,
  loadSessionSigner,
  MAX_SESSION_SECONDS,
  type SessionSigner,
} from "./session.ts";

export interface IdentityServiceOptions {
  dataDir: string;
  store: Store;
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
  issueCertificate(
    identityName: string,
    validDays?: number,
  ): Promise<{ credential: Credential; issued: IssuedCertificate }>;
  /** Closes the identity's live streams, each with an audit note naming `why`. */
  cutOffIdentity(identity: Identity, why: string): number;
  cutOffCredential(credential: Credential, why: string): number;
  /** An identity's expiry changed: close now if it passed, else make sure its streams close when it does. */
  expiryChanged(identity: Identity): void;
  close(): void;
}

export async function createIdentityService(opts: IdentityServiceOptions): Promise<IdentityService> {
  const now = opts.now ?? Date.now;
  const [signer, ca]: [SessionSigner, IdentityCa] = await Promise.all([
    loadSessionSigner(opts.dataDir),
    loadIdentityCa(opts.dataDir),
  ]);
  const { store, streams, log } = opts;
  const authenticate = authenticatorChain([
    tokenAuthenticator(store),
    sessionAuthenticator(store, signer, now),
    certificateAuthenticator(store, ca, now),
    ...(opts.extraAuthenticators ?? []),
  ]);
  const timer = setInterval(() => {
    const closed = streams.closeExpired(now());
    if (closed) log.info({ closedStreams: closed }, "credentials expired; live streams closed");
  }, 1000);
  timer.unref();

  const service: IdentityService = {
    authenticate,
    caPem: ca.caPem,
    async issueSession(identity, credential, request) {
      const ttl = Math.min(Math.max(request.ttlSeconds ?? DEFAULT_SESSION_SECONDS, 60), MAX_SESSION_SECONDS);
      let onBehalfOf: string | undefined;
      if (request.onBehalfOf !== undefined) {
        const human = await store.identityGet(request.onBehalfOf);
        if (human?.kind !== "human" || human.state !== "active") {
          throw StatusError.of(
            "Invalid",
            `on-behalf-of "${request.onBehalfOf}" is not an active human identity; delegation names a human`,
          );
        }
        onBehalfOf = human.name;
      }
      // A session never outlives the credential or identity it was traded for.
      const nowMs = now();
      const limits = [identity.expiresAt, credential.expiresAt]
        .filter((t): t is string => t !== null)
        .map((t) => Math.floor((Date.parse(t) - nowMs) / 1000));
      const ttlSeconds = Math.max(1, Math.min(ttl, ...limits));
      const justification = cleanJustification(request.reason);
      const { token, claims } = signer.issue({
        identityId: identity.id,
        credentialId: credential.id,
        ttlSeconds,
        nowMs,
        ...(justification ? { reason: justification } : {}),
        ...(onBehalfOf ? { onBehalfOf } : {}),
      });
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
        expiresAt: new Date(claims.exp * 1000).toISOString(),
        sessionId: claims.sid,
        justification: justification ?? null,
        onBehalfOf: onBehalfOf ?? null,
      };
    },
    async issueCertificate(identityName, validDays = DEFAULT_CERT_DAYS) {
      const identity = await store.identityGet(identityName);
      if (!identity)
        throw StatusError.of("NotFound", `identity "${identityName}" not found`, {
          name: identityName,
          kind: "identities",
        });
      if (identity.state === "revoked")
        throw StatusError.of("Conflict", `identity "${identityName}" is revoked`);
      const issued = ca.issue(identity.name, validDays);
      const credential = await store.credentialAddCertificate(identity.name, {
        fingerprint: issued.fingerprint,
        serial: issued.serial,
        expiresAt: issued.expiresAt,
      });
      if (!credential) throw StatusError.of("Conflict", `identity "${identityName}" is revoked`);
      return { credential, issued };
    },
    cutOffIdentity(identity, why) {
      const closed = streams.closeIdentity(identity.id, why);
      log.info(
        { identity: identity.name, closedStreams: closed, why },
        "identity cut off; live streams closed",
      );
      return closed;
    },
    cutOffCredential(credential, why) {
      const closed = streams.closeCredential(credential.id, why);
      log.info(
        { credentialId: credential.id, closedStreams: closed, why },
        "credential cut off; live streams closed",
      );
      return closed;
    },
    expiryChanged(identity) {
      if (identity.expiresAt === null) return;
      const at = Date.parse(identity.expiresAt);
      if (at <= now()) service.cutOffIdentity(identity, `identity ${identity.name} expired`);
      else streams.shortenExpiry(identity.id, at);
    },
    close() {
      clearInterval(timer);
    },
  };
  return service;
}
