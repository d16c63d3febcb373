// Identities, credentials, principals and delegations, and the store's share of them (src/store implements it).

/** Who is calling: the result of authentication. */
export interface Principal {
  identityId: string;
  kind: "agent" | "human" | "admin";
  name: string;
  groups: string[];
  labels: Record<string, string>;
  credentialId: string;
  justification?: string;
  /** Delegation: the human on whose behalf an agent acts (a claim of its session credential). */
  onBehalfOf?: string;
  /** What the credential may do beyond policy (src/identity/scopes.ts); absent = unrestricted. */
  scopes?: CredentialScopes;
  /** When this principal stops being valid (identity, credential or session expiry, the earliest); live streams close then. */
  expiresAt?: string;
  /** A session credential's own id, when the principal came from one (its parent is `credentialId`). */
  sessionId?: string;
  /** The human accountable for this identity (Identity.owner); N-of-M approvals count one vote per person. */
  owner?: string;
  /** The namespace MCP tools use when a call names none (Identity.defaultNamespace). */
  defaultNamespace?: string;
}

/** Limits a credential carries on top of policy. */
export interface CredentialScopes {
  /** Only these clusters; absent = any. */
  clusters?: string[];
  /** Only get, list, watch and non-mutating discovery. */
  readOnly?: boolean;
}

export type IdentityState = "active" | "disabled" | "revoked";

/** An identity as stored (never the token itself, only its hash). */
export interface Identity {
  id: string;
  name: string;
  kind: "agent" | "human";
  groups: string[];
  labels: Record<string, string>;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The human identity accountable for an agent. */
  owner: string | null;
  description: string;
  /** After this time the identity authenticates no more (and its live streams close). */
  expiresAt: string | null;
  disabledAt: string | null;
  /** revoked (permanent) > disabled (reversible) > active. Expiry is separate: see expiresAt. */
  state: IdentityState;
  /** The namespace MCP tools use when a call names none; null: "default". A convenience, never a permission. */
  defaultNamespace: string | null;
}

export interface Credential {
  id: string;
  identityId: string;
  /** token: an API token; certificate: an mTLS client certificate issued by Airlock's identity CA. */
  kind: "token" | "certificate";
  /** SHA-256, hex: of the token for tokens, of the DER certificate for certificates. High-entropy inputs, so a fast hash is the right tool. */
  tokenHash: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  scopes: CredentialScopes;
  /** A certificate's serial number (hex). */
  serial: string | null;
}

export interface CredentialOptions {
  name?: string;
  expiresAt?: string | null;
  scopes?: CredentialScopes;
}

export interface IdentityUpdate {
  groups?: string[];
  labels?: Record<string, string>;
  owner?: string | null;
  description?: string;
  expiresAt?: string | null;
  defaultNamespace?: string | null;
}

/** The identities table (store.identities): identities, and authentication against their credentials. */
export interface IdentityTable {
  create(input: {
    name: string;
    kind: "agent" | "human";
    groups: string[];
    labels?: Record<string, string>;
    owner?: string | null;
    description?: string;
    expiresAt?: string | null;
    defaultNamespace?: string | null;
    /** Options of the first token. */
    token?: CredentialOptions;
  }): Promise<{
    identity: Identity;
    token: string;
    credential: Credential;
  }>;
  get(name: string): Promise<Identity | undefined>;
  list(): Promise<Identity[]>;
  revoke(name: string): Promise<Identity | undefined>;
  /** Changes groups, labels, owner, description or expiry; undefined when unknown. A revoked identity is not changed (Conflict). */
  update(name: string, update: IdentityUpdate): Promise<Identity | undefined>;
  /** Disables (reversibly) or re-enables an identity; undefined when unknown. A revoked identity stays revoked (Conflict). */
  setDisabled(name: string, disabled: boolean): Promise<Identity | undefined>;
  /**
   * Looks up an API token by its SHA-256; only when the token, its credential and its identity are all usable now
   * (not revoked, disabled or expired). Marks it used.
   */
  authenticateToken(tokenHash: string): Promise<{ identity: Identity; credential: Credential } | undefined>;
  /** As authenticateToken, for a client certificate by the SHA-256 of its DER. */
  authenticateCertificate(
    fingerprint: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined>;
  /** As authenticateToken, by credential id: the check a session credential makes of its parent on every request. */
  authenticateCredentialId(
    credentialId: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined>;
}

/** The credentials table (store.credentials): API tokens (hashes only) and client certificates. */
export interface CredentialTable {
  /** Issues another token for an active identity (rotation). Undefined when the identity is unknown or revoked. */
  create(
    identityName: string,
    opts?: CredentialOptions,
  ): Promise<{ credential: Credential; token: string } | undefined>;
  /** Records an issued client certificate (by the SHA-256 of its DER) as a credential. Undefined as create. */
  addCertificate(
    identityName: string,
    cert: { fingerprint: string; serial: string; expiresAt: string; name?: string },
  ): Promise<Credential | undefined>;
  get(credentialId: string): Promise<Credential | undefined>;
  /** The identity's credentials, oldest first (never a token). Undefined when the identity is unknown. */
  list(identityName: string): Promise<Credential[] | undefined>;
  /** Brings a credential's expiry forward to `expiresAt` (never later than it was): rotation's overlap window. */
  expireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined>;
  /** Revokes one credential; the identity's other credentials keep working. Undefined when it is unknown. */
  revoke(credentialId: string): Promise<Credential | undefined>;
}

/** The store's share of identities and credentials: what identity/ needs of it. */
export interface IdentityStore {
  identities: IdentityTable;
  credentials: CredentialTable;
}

/** Who asked for a reviewed request: the identity, the credential it used and the human it acted for. */
export interface ReviewRequester {
  identityId: string;
  name: string;
  kind: string;
  groups: string[];
  /** The credential that sent the request (a token or certificate; a session credential's parent). */
  credentialId?: string;
  /** The session credential, when the request came with one. */
  sessionId?: string;
  /** The human the requester acted for (delegation), when its session credential names one. */
  onBehalfOf?: string | null;
  /** The human accountable for the requesting identity. */
  owner?: string | null;
  /** When the requester's principal stopped being valid (identity, credential or session expiry, the earliest). */
  expiresAt?: string | null;
}

/** A human's consent that an identity (usually an agent) may act on their behalf, until it expires or is revoked. */
export interface Delegation {
  id: string;
  /** The human who delegates, by name and id. */
  human: string;
  humanId: string;
  /** The identity that may act for the human (named by `onBehalfOf` in its session credentials). */
  agent: string;
  agentId: string;
  /** Who created it: the human themself or an admin. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** The delegations table (store.delegations). */
export interface DelegationTable {
  create(delegation: Delegation): Promise<void>;
  get(id: string): Promise<Delegation | undefined>;
  /** Newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  list(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]>;
  /** Revokes one (the first revocation is kept). Undefined when it is unknown. */
  revoke(id: string, by: string): Promise<Delegation | undefined>;
}

export interface DelegationStore {
  delegations: DelegationTable;
}
