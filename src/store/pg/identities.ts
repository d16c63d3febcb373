// The PostgreSQL tables of identities and their credentials: the same semantics as the SQLite engine
// (src/store/identities.ts), which the store contract pins for both.
//
// Security stance: only SHA-256 hashes of tokens are stored, found by index and re-compared in constant time; every
// authentication path goes through the one `usable` check shared with SQLite, so a revocation written by any replica
// refuses the very next request on every replica (each request reads the database). Changes that must see a
// consistent identity row lock it (SELECT … FOR UPDATE); two replicas creating the same name meet at the unique
// index and one gets AlreadyExists. "Last used" is advisory and may fail quietly.
import { randomUUID } from "node:crypto";
import type { Credential, CredentialOptions, Identity, IdentityUpdate } from "../../identity/types.ts";
import { StatusError } from "../../shared/status.ts";
import { generateToken, hashToken, isTokenHash, tokenHashesEqual } from "../../shared/tokens.ts";
import { usable } from "../identities.ts";
import { credentialFromRow, identityFromRow } from "../rows.ts";
import type { Store } from "../types.ts";
import { type Db, isUniqueViolation, type Param, type Sql } from "./db.ts";

type Found = { identity: Identity; credential: Credential };

export class PgIdentityTables {
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

  async #identityByName(sql: Sql, name: string, lock = false): Promise<Identity | undefined> {
    const [row] = await sql(`SELECT * FROM identities WHERE name = $1${lock ? " FOR UPDATE" : ""}`, [name]);
    return row ? identityFromRow(row) : undefined;
  }

  async #credential(sql: Sql, id: string): Promise<Credential | undefined> {
    const [row] = await sql("SELECT * FROM credentials WHERE id = $1", [id]);
    return row ? credentialFromRow(row) : undefined;
  }

  async #insertCredential(
    sql: Sql,
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
      createdAt: this.#iso(),
      revokedAt: null,
      expiresAt: opts.expiresAt ?? null,
      lastUsedAt: null,
      scopes: opts.scopes ?? {},
      serial: opts.serial ?? null,
    };
    await sql(
      `INSERT INTO credentials (id, identity_id, kind, token_hash, name, created_at, expires_at, scopes_json, serial)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
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

  async #issueToken(sql: Sql, identityId: string, opts: CredentialOptions) {
    const token = generateToken();
    return {
      credential: await this.#insertCredential(sql, identityId, "token", hashToken(token), opts),
      token,
    };
  }

  async identityCreate(input: Parameters<Store["identityCreate"]>[0]): ReturnType<Store["identityCreate"]> {
    const exists = () =>
      StatusError.of("AlreadyExists", `identity "${input.name}" already exists`, {
        name: input.name,
        kind: "identities",
      });
    try {
      return await this.#db.tx(async (sql) => {
        if (await this.#identityByName(sql, input.name)) throw exists();
        const id = randomUUID();
        await sql(
          `INSERT INTO identities (id, name, kind, groups_json, labels_json, created_at, owner, description, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
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
          ],
        );
        const { credential, token } = await this.#issueToken(sql, id, input.token ?? {});
        const identity = await this.#identityByName(sql, input.name);
        if (!identity) throw new Error("store: identity vanished inside its own transaction");
        return { identity, token, credential };
      });
    } catch (err) {
      // Two creates racing past the existence check (on one replica or two) meet at the unique index.
      if (isUniqueViolation(err)) throw exists();
      throw err;
    }
  }

  identityGet(name: string): Promise<Identity | undefined> {
    return this.#identityByName(this.#db.sql, name);
  }

  async identityList(): Promise<Identity[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    return (await this.#db.sql('SELECT * FROM identities ORDER BY name COLLATE "C"')).map(identityFromRow);
  }

  identityRevoke(name: string): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await this.#identityByName(sql, name, true);
      if (!identity) return undefined;
      const now = this.#iso();
      // coalesce keeps the first revocation time when an identity is revoked twice.
      await sql("UPDATE identities SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", [
        now,
        identity.id,
      ]);
      await sql("UPDATE credentials SET revoked_at = coalesce(revoked_at, $1) WHERE identity_id = $2", [
        now,
        identity.id,
      ]);
      return this.#identityByName(sql, name);
    });
  }

  #refuseRevoked(identity: Identity, what: string): void {
    if (identity.state === "revoked") {
      throw StatusError.of(
        "Conflict",
        `identity "${identity.name}" is revoked; revocation is permanent, so it cannot be ${what}`,
        { name: identity.name, kind: "identities" },
      );
    }
  }

  identityUpdate(name: string, update: IdentityUpdate): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await this.#identityByName(sql, name, true);
      if (!identity) return undefined;
      this.#refuseRevoked(identity, "changed");
      const sets: string[] = [];
      const params: Param[] = [];
      const set = (column: string, value: Param) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
      };
      if (update.groups !== undefined) set("groups_json", JSON.stringify(update.groups));
      if (update.labels !== undefined) set("labels_json", JSON.stringify(update.labels));
      if (update.owner !== undefined) set("owner", update.owner);
      if (update.description !== undefined) set("description", update.description);
      if (update.expiresAt !== undefined) set("expires_at", update.expiresAt);
      if (sets.length) {
        params.push(identity.id);
        await sql(`UPDATE identities SET ${sets.join(", ")} WHERE id = $${params.length}`, params);
      }
      return this.#identityByName(sql, name);
    });
  }

  identitySetDisabled(name: string, disabled: boolean): Promise<Identity | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await this.#identityByName(sql, name, true);
      if (!identity) return undefined;
      this.#refuseRevoked(identity, disabled ? "disabled" : "enabled");
      if (disabled) {
        await sql("UPDATE identities SET disabled_at = coalesce(disabled_at, $1) WHERE id = $2", [
          this.#iso(),
          identity.id,
        ]);
      } else await sql("UPDATE identities SET disabled_at = NULL WHERE id = $1", [identity.id]);
      return this.#identityByName(sql, name);
    });
  }

  credentialCreate(identityName: string, opts: CredentialOptions = {}) {
    return this.#db.tx(async (sql) => {
      // Locked, so a revocation on another replica cannot slip in between the check and the insert.
      const identity = await this.#identityByName(sql, identityName, true);
      if (!identity || identity.state === "revoked") return undefined;
      return this.#issueToken(sql, identity.id, opts);
    });
  }

  async credentialAddCertificate(
    identityName: string,
    cert: { fingerprint: string; serial: string; expiresAt: string; name?: string },
  ): Promise<Credential | undefined> {
    if (!isTokenHash(cert.fingerprint))
      throw new Error("store: a certificate fingerprint is a SHA-256 in hex");
    return this.#db.tx(async (sql) => {
      const identity = await this.#identityByName(sql, identityName, true);
      if (!identity || identity.state === "revoked") return undefined;
      return this.#insertCredential(sql, identity.id, "certificate", cert.fingerprint, {
        name: cert.name ?? `certificate ${cert.serial}`,
        expiresAt: cert.expiresAt,
        serial: cert.serial,
      });
    });
  }

  credentialGet(credentialId: string): Promise<Credential | undefined> {
    return this.#credential(this.#db.sql, credentialId);
  }

  async credentialList(identityName: string): Promise<Credential[] | undefined> {
    const identity = await this.#identityByName(this.#db.sql, identityName);
    if (!identity) return undefined;
    const rows = await this.#db.sql(
      "SELECT * FROM credentials WHERE identity_id = $1 ORDER BY created_at, seq",
      [identity.id],
    );
    return rows.map(credentialFromRow);
  }

  async credentialExpireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined> {
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) throw StatusError.of("BadRequest", `expiry "${expiresAt}" is not a time`);
    return this.#db.tx(async (sql) => {
      const [row] = await sql("SELECT * FROM credentials WHERE id = $1 FOR UPDATE", [credentialId]);
      if (!row) return undefined;
      const credential = credentialFromRow(row);
      // Only ever earlier: an overlap window must not extend a credential that was due to expire sooner.
      if (credential.expiresAt === null || Date.parse(credential.expiresAt) > at) {
        await sql("UPDATE credentials SET expires_at = $1 WHERE id = $2", [
          new Date(at).toISOString(),
          credentialId,
        ]);
      }
      return this.#credential(sql, credentialId);
    });
  }

  async credentialRevoke(credentialId: string): Promise<Credential | undefined> {
    const [row] = await this.#db.sql(
      "UPDATE credentials SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING *",
      [this.#iso(), credentialId],
    );
    return row ? credentialFromRow(row) : undefined;
  }

  authenticateToken(tokenHash: string): Promise<Found | undefined> {
    return this.#authenticateByHash("token", tokenHash);
  }

  authenticateCertificate(fingerprint: string): Promise<Found | undefined> {
    return this.#authenticateByHash("certificate", fingerprint);
  }

  async authenticateCredentialId(credentialId: string): Promise<Found | undefined> {
    const [row] = await this.#db.sql("SELECT * FROM credentials WHERE id = $1", [credentialId]);
    return row ? this.#check(credentialFromRow(row)) : undefined;
  }

  async #authenticateByHash(kind: Credential["kind"], hash: string): Promise<Found | undefined> {
    if (!isTokenHash(hash)) return undefined;
    const [row] = await this.#db.sql("SELECT * FROM credentials WHERE token_hash = $1", [hash]);
    // The index lookup found the row; the constant-time re-compare keeps the final decision free of early exits.
    if (!row || !tokenHashesEqual(String(row.token_hash), hash) || row.kind !== kind) return undefined;
    return this.#check(credentialFromRow(row));
  }

  async #check(credential: Credential): Promise<Found | undefined> {
    const [identityRow] = await this.#db.sql("SELECT * FROM identities WHERE id = $1", [
      credential.identityId,
    ]);
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
      await this.#db.sql(
        `WITH c AS (UPDATE credentials SET last_used_at = $1 WHERE id = $2)
         UPDATE identities SET last_used_at = $1 WHERE id = $3`,
        [iso, credential.id, identity.id],
      );
      identity.lastUsedAt = iso;
      credential.lastUsedAt = iso;
    } catch {
      // Advisory only: an unwritable store is caught at the audit step, which fails closed.
    }
  }
}
