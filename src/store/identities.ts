// The identities table and authentication against it, written once for both engines (sql.ts).
//
// Security stance: tokens are never stored, only SHA-256 hashes (invariant 7), found by index and re-compared in
// constant time. Every authentication path (token, certificate, a session credential's parent) goes through one
// check, `usable`, so revoked, disabled and expired identities and credentials fail the same way everywhere, on the
// very next request — on every replica, since each request reads the database. Changes that must see a consistent
// identity row lock it (dialect.forUpdate); two creates racing past the existence check (on one replica or two) meet
// at the unique index and one gets AlreadyExists. "Last used" is advisory and may fail quietly: an unwritable store
// must still refuse requests with 503 at the audit step rather than 401 at authentication.
import { randomUUID } from "node:crypto";
import type {
  Credential,
  CredentialOptions,
  Identity,
  IdentityTable,
  IdentityUpdate,
} from "../identity/types.ts";
import { alreadyExists, conflict } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { generateToken, hashToken, isTokenHash, tokenHashesEqual } from "../shared/tokens.ts";
import { credentialFromRow, identityFromRow } from "./rows.ts";
import { type Db, type Param, relaxedTx, type Sql } from "./sql.ts";

type Found = { identity: Identity; credential: Credential };

export interface NewIdentity {
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
}

/** True when the identity and credential may authenticate at `now` (epoch ms). Pure. */
export function usable(identity: Identity, credential: Credential, now: number): boolean {
  if (identity.state !== "active" || credential.revokedAt !== null) return false;
  if (identity.expiresAt !== null && Date.parse(identity.expiresAt) <= now) return false;
  if (credential.expiresAt !== null && Date.parse(credential.expiresAt) <= now) return false;
  return true;
}

/** The identity named `name`; `lock` holds its row until the transaction ends. */
export async function identityByName(
  db: Db,
  sql: Sql,
  name: string,
  lock = false,
): Promise<Identity | undefined> {
  const row = await sql.get(`SELECT * FROM identities WHERE name = ?${lock ? db.dialect.forUpdate : ""}`, [
    name,
  ]);
  return row ? identityFromRow(row) : undefined;
}

/** Inserts a credential row (a token's hash or a certificate's fingerprint). */
export async function insertCredential(
  sql: Sql,
  now: () => number,
  identityId: string,
  kind: Credential["kind"],
  hash: string,
  opts: CredentialOptions & { serial?: string },
): Promise<Credential> {
  const credential: Credential = {
    id: randomUUID(),
    identityId,
    kind,
    tokenHash: hash,
    name: opts.name ?? "",
    createdAt: new Date(now()).toISOString(),
    revokedAt: null,
    expiresAt: opts.expiresAt ?? null,
    lastUsedAt: null,
    scopes: opts.scopes ?? {},
    serial: opts.serial ?? null,
  };
  await sql.run(
    `INSERT INTO credentials (id, identity_id, kind, token_hash, name, created_at, expires_at, scopes_json, serial)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      credential.id,
      identityId,
      kind,
      hash,
      credential.name,
      credential.createdAt,
      credential.expiresAt,
      JSON.stringify(credential.scopes),
      credential.serial,
    ],
  );
  return credential;
}

/** A new API token for the identity: the token (shown once) and its credential (holding only the hash). */
export async function issueToken(
  sql: Sql,
  now: () => number,
  identityId: string,
  opts: CredentialOptions,
): Promise<{ credential: Credential; token: string }> {
  const token = generateToken();
  return { credential: await insertCredential(sql, now, identityId, "token", hashToken(token), opts), token };
}

export function refuseRevoked(identity: Identity, what: string): void {
  if (identity.state === "revoked") {
    throw new StatusError(
      conflict(`identity "${identity.name}" is revoked; revocation is permanent, so it cannot be ${what}`, {
        name: identity.name,
        kind: "identities",
      }),
    );
  }
}

export class IdentityTables implements IdentityTable {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #lastUsedResolutionMs: number;

  constructor(db: Db, now: () => number, lastUsedResolutionMs: number) {
    this.#db = db;
    this.#now = now;
    this.#lastUsedResolutionMs = lastUsedResolutionMs;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  async create(input: NewIdentity): Promise<{ identity: Identity; token: string; credential: Credential }> {
    const exists = () => new StatusError(alreadyExists("identities", input.name, "identity"));
    try {
      return await this.#db.tx(async (sql) => {
        if (await identityByName(this.#db, sql, input.name)) throw exists();
        const id = randomUUID();
        await sql.run(
          `INSERT INTO identities (id, name, kind, groups_json, labels_json, created_at, owner, description, expires_at,
             default_namespace)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            id,
            input.name,
            input.kind,
            JSON.stringify([...input.groups]),
            JSON.stringify({ ...(input.labels ?? {}) }),
            this.#iso(),
            input.owner ?? null,
            input.description ?? "",
            input.expiresAt ?? null,
            input.defaultNamespace ?? null,
          ],
        );
        const { credential, token } = await issueToken(sql, this.#now, id, input.token ?? {});
        const identity = await identityByName(this.#db, sql, input.name);
        if (!identity) throw new Error("store: identity vanished inside its own transaction");
        return { identity, token, credential };
      });
    } catch (err) {
      if (this.#db.dialect.isUniqueViolation(err)) throw exists();
      throw err;
    }
  }

  get(name: string): Promise<Identity | undefined> {
    return identityByName(this.#db, this.#db, name);
  }

  async list(): Promise<Identity[]> {
    return (await this.#db.all(`SELECT * FROM identities ORDER BY name${this.#db.dialect.byteOrder}`)).map(
      identityFromRow,
    );
  }

  revoke(name: string): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await identityByName(this.#db, sql, name, true);
      if (!identity) return undefined;
      const now = this.#iso();
      // coalesce keeps the first revocation time when an identity is revoked twice.
      await sql.run("UPDATE identities SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", [
        now,
        identity.id,
      ]);
      await sql.run("UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE identity_id = ?", [
        now,
        identity.id,
      ]);
      return identityByName(this.#db, sql, name);
    });
  }

  /** Changes groups, labels, owner, description or expiry; undefined when unknown; Conflict when revoked. */
  update(name: string, update: IdentityUpdate): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await identityByName(this.#db, sql, name, true);
      if (!identity) return undefined;
      refuseRevoked(identity, "changed");
      const sets: string[] = [];
      const params: Param[] = [];
      const set = (column: string, value: Param) => {
        sets.push(`${column} = ?`);
        params.push(value);
      };
      if (update.groups !== undefined) set("groups_json", JSON.stringify(update.groups));
      if (update.labels !== undefined) set("labels_json", JSON.stringify(update.labels));
      if (update.owner !== undefined) set("owner", update.owner);
      if (update.description !== undefined) set("description", update.description);
      if (update.expiresAt !== undefined) set("expires_at", update.expiresAt);
      if (update.defaultNamespace !== undefined) set("default_namespace", update.defaultNamespace);
      if (sets.length)
        await sql.run(`UPDATE identities SET ${sets.join(", ")} WHERE id = ?`, [...params, identity.id]);
      return identityByName(this.#db, sql, name);
    });
  }

  /** Disables (reversibly) or re-enables an identity; undefined when unknown; a revoked one stays revoked. */
  setDisabled(name: string, disabled: boolean): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await identityByName(this.#db, sql, name, true);
      if (!identity) return undefined;
      refuseRevoked(identity, disabled ? "disabled" : "enabled");
      if (disabled) {
        await sql.run("UPDATE identities SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?", [
          this.#iso(),
          identity.id,
        ]);
      } else await sql.run("UPDATE identities SET disabled_at = NULL WHERE id = ?", [identity.id]);
      return identityByName(this.#db, sql, name);
    });
  }

  /** An API token by its SHA-256, only when token, credential and identity are usable now. Marks it used. */
  authenticateToken(tokenHash: string): Promise<Found | undefined> {
    return this.#authenticateByHash("token", tokenHash);
  }

  /** As authenticateToken, for a client certificate by the SHA-256 of its DER. */
  authenticateCertificate(fingerprint: string): Promise<Found | undefined> {
    return this.#authenticateByHash("certificate", fingerprint);
  }

  /** As authenticateToken, by credential id: the check a session credential makes of its parent on every request. */
  async authenticateCredentialId(credentialId: string): Promise<Found | undefined> {
    const row = await this.#db.get("SELECT * FROM credentials WHERE id = ?", [credentialId]);
    return row ? this.#check(credentialFromRow(row)) : undefined;
  }

  async #authenticateByHash(kind: Credential["kind"], hash: string): Promise<Found | undefined> {
    if (!isTokenHash(hash)) return undefined;
    const row = await this.#db.get("SELECT * FROM credentials WHERE token_hash = ?", [hash]);
    // The index lookup found the row; the constant-time re-compare keeps the final decision free of early exits.
    if (!row || !tokenHashesEqual(String(row.token_hash), hash) || row.kind !== kind) return undefined;
    return this.#check(credentialFromRow(row));
  }

  async #check(credential: Credential): Promise<Found | undefined> {
    const identityRow = await this.#db.get("SELECT * FROM identities WHERE id = ?", [credential.identityId]);
    if (!identityRow) return undefined;
    const identity = identityFromRow(identityRow);
    if (!usable(identity, credential, this.#now())) return undefined;
    await this.#markUsed(identity, credential);
    return { identity, credential };
  }

  async #markUsed(identity: Identity, credential: Credential): Promise<void> {
    const now = this.#now();
    const last = credential.lastUsedAt !== null ? Date.parse(credential.lastUsedAt) : Number.NaN;
    if (!Number.isNaN(last) && now - last < this.#lastUsedResolutionMs) return;
    const iso = new Date(now).toISOString();
    try {
      // Advisory (a display field): committed without an fsync on the event loop (relaxedTx).
      await relaxedTx(this.#db, async (sql) => {
        await sql.run("UPDATE credentials SET last_used_at = ? WHERE id = ?", [iso, credential.id]);
        await sql.run("UPDATE identities SET last_used_at = ? WHERE id = ?", [iso, identity.id]);
      });
      identity.lastUsedAt = iso;
      credential.lastUsedAt = iso;
    } catch {
      // Advisory only: an unwritable store is caught at the audit step, which fails closed.
    }
  }
}
