// The SQLite tables of identities and their credentials (API tokens and client certificates).
//
// Security stance: tokens are never stored, only SHA-256 hashes (invariant 7), found by index and re-compared in
// constant time. Every authentication path (token, certificate, a session credential's parent) goes through one
// check, `#usable`, so revoked, disabled and expired identities and credentials fail the same way everywhere, on
// the very next request. "Last used" is advisory and may fail quietly (see sqlite.ts).
import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { Credential, CredentialOptions, Identity, IdentityUpdate } from "../identity/types.ts";
import { StatusError } from "../shared/status.ts";
import { generateToken, hashToken, isTokenHash, tokenHashesEqual } from "../shared/tokens.ts";
import { credentialFromRow, identityFromRow } from "./rows.ts";
import type { Store } from "./types.ts";

type Row = Record<string, unknown>;
type Found = { identity: Identity; credential: Credential };

/** True when the identity and credential may authenticate at `now` (epoch ms). Pure. */
export function usable(identity: Identity, credential: Credential, now: number): boolean {
  if (identity.state !== "active" || credential.revokedAt !== null) return false;
  if (identity.expiresAt !== null && Date.parse(identity.expiresAt) <= now) return false;
  if (credential.expiresAt !== null && Date.parse(credential.expiresAt) <= now) return false;
  return true;
}

export class SqliteIdentityTables {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #lastUsedResolutionMs: number;

  constructor(db: DatabaseSync, now: () => number, lastUsedResolutionMs: number) {
    this.#db = db;
    this.#now = now;
    this.#lastUsedResolutionMs = lastUsedResolutionMs;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  readonly #cache = new Map<string, StatementSync>();

  /** Statements prepared once per SQL text: preparing was a measurable share of every request (bench profile). */
  #statement(sql: string): StatementSync {
    let statement = this.#cache.get(sql);
    if (!statement) {
      // Bounded: the SQL texts are literals or built from a fixed set of filters.
      if (this.#cache.size >= 256) this.#cache.clear();
      statement = this.#db.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params) as Row | undefined;
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#statement(sql).run(...params).changes);
  }

  #identityByName(name: string): Identity | undefined {
    const row = this.#get("SELECT * FROM identities WHERE name = ?", name);
    return row ? identityFromRow(row) : undefined;
  }

  #credential(id: string): Credential | undefined {
    const row = this.#get("SELECT * FROM credentials WHERE id = ?", id);
    return row ? credentialFromRow(row) : undefined;
  }

  #insertCredential(
    identityId: string,
    kind: Credential["kind"],
    hash: string,
    opts: CredentialOptions & { serial?: string },
  ): Credential {
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
    this.#run(
      `INSERT INTO credentials (id, identity_id, kind, token_hash, name, created_at, expires_at, scopes_json, serial)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      credential.id,
      identityId,
      kind,
      hash,
      credential.name,
      credential.createdAt,
      credential.expiresAt,
      JSON.stringify(credential.scopes),
      credential.serial,
    );
    return credential;
  }

  #issueToken(identityId: string, opts: CredentialOptions): { credential: Credential; token: string } {
    const token = generateToken();
    return { credential: this.#insertCredential(identityId, "token", hashToken(token), opts), token };
  }

  async identityCreate(input: Parameters<Store["identityCreate"]>[0]): ReturnType<Store["identityCreate"]> {
    return this.#transaction(() => {
      if (this.#identityByName(input.name)) {
        throw StatusError.of("AlreadyExists", `identity "${input.name}" already exists`, {
          name: input.name,
          kind: "identities",
        });
      }
      const id = randomUUID();
      this.#run(
        `INSERT INTO identities (id, name, kind, groups_json, labels_json, created_at, owner, description, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.name,
        input.kind,
        JSON.stringify([...input.groups]),
        JSON.stringify({ ...(input.labels ?? {}) }),
        this.#iso(),
        input.owner ?? null,
        input.description ?? "",
        input.expiresAt ?? null,
      );
      const { credential, token } = this.#issueToken(id, input.token ?? {});
      const identity = this.#identityByName(input.name);
      if (!identity) throw new Error("store: identity vanished inside its own transaction");
      return { identity, token, credential };
    });
  }

  async identityGet(name: string): Promise<Identity | undefined> {
    return this.#identityByName(name);
  }

  async identityList(): Promise<Identity[]> {
    return (this.#db.prepare("SELECT * FROM identities ORDER BY name").all() as Row[]).map(identityFromRow);
  }

  async identityRevoke(name: string): Promise<Identity | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(name);
      if (!identity) return undefined;
      const now = this.#iso();
      // coalesce keeps the first revocation time when an identity is revoked twice.
      this.#run("UPDATE identities SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", now, identity.id);
      this.#run(
        "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE identity_id = ?",
        now,
        identity.id,
      );
      return this.#identityByName(name);
    });
  }

  #refuseRevoked(identity: Identity, what: string): void {
    if (identity.state === "revoked") {
      throw StatusError.of(
        "Conflict",
        `identity "${identity.name}" is revoked; revocation is permanent, so it cannot be ${what}`,
        {
          name: identity.name,
          kind: "identities",
        },
      );
    }
  }

  async identityUpdate(name: string, update: IdentityUpdate): Promise<Identity | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(name);
      if (!identity) return undefined;
      this.#refuseRevoked(identity, "changed");
      const sets: string[] = [];
      const params: SQLInputValue[] = [];
      const set = (column: string, value: SQLInputValue) => {
        sets.push(`${column} = ?`);
        params.push(value);
      };
      if (update.groups !== undefined) set("groups_json", JSON.stringify(update.groups));
      if (update.labels !== undefined) set("labels_json", JSON.stringify(update.labels));
      if (update.owner !== undefined) set("owner", update.owner);
      if (update.description !== undefined) set("description", update.description);
      if (update.expiresAt !== undefined) set("expires_at", update.expiresAt);
      if (sets.length)
        this.#run(`UPDATE identities SET ${sets.join(", ")} WHERE id = ?`, ...params, identity.id);
      return this.#identityByName(name);
    });
  }

  async identitySetDisabled(name: string, disabled: boolean): Promise<Identity | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(name);
      if (!identity) return undefined;
      this.#refuseRevoked(identity, disabled ? "disabled" : "enabled");
      if (disabled)
        this.#run(
          "UPDATE identities SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?",
          this.#iso(),
          identity.id,
        );
      else this.#run("UPDATE identities SET disabled_at = NULL WHERE id = ?", identity.id);
      return this.#identityByName(name);
    });
  }

  async credentialCreate(
    identityName: string,
    opts: CredentialOptions = {},
  ): Promise<{ credential: Credential; token: string } | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(identityName);
      if (!identity || identity.state === "revoked") return undefined;
      return this.#issueToken(identity.id, opts);
    });
  }

  async credentialAddCertificate(
    identityName: string,
    cert: { fingerprint: string; serial: string; expiresAt: string; name?: string },
  ): Promise<Credential | undefined> {
    if (!isTokenHash(cert.fingerprint))
      throw new Error("store: a certificate fingerprint is a SHA-256 in hex");
    return this.#transaction(() => {
      const identity = this.#identityByName(identityName);
      if (!identity || identity.state === "revoked") return undefined;
      return this.#insertCredential(identity.id, "certificate", cert.fingerprint, {
        name: cert.name ?? `certificate ${cert.serial}`,
        expiresAt: cert.expiresAt,
        serial: cert.serial,
      });
    });
  }

  async credentialGet(credentialId: string): Promise<Credential | undefined> {
    return this.#credential(credentialId);
  }

  async credentialList(identityName: string): Promise<Credential[] | undefined> {
    const identity = this.#identityByName(identityName);
    if (!identity) return undefined;
    const rows = this.#db
      .prepare("SELECT * FROM credentials WHERE identity_id = ? ORDER BY created_at, rowid")
      .all(identity.id) as Row[];
    return rows.map(credentialFromRow);
  }

  async credentialExpireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined> {
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) throw StatusError.of("BadRequest", `expiry "${expiresAt}" is not a time`);
    return this.#transaction(() => {
      const credential = this.#credential(credentialId);
      if (!credential) return undefined;
      // Only ever earlier: an overlap window must not extend a credential that was due to expire sooner.
      if (credential.expiresAt === null || Date.parse(credential.expiresAt) > at) {
        this.#run(
          "UPDATE credentials SET expires_at = ? WHERE id = ?",
          new Date(at).toISOString(),
          credentialId,
        );
      }
      return this.#credential(credentialId);
    });
  }

  async credentialRevoke(credentialId: string): Promise<Credential | undefined> {
    return this.#transaction(() => {
      this.#run(
        "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
        this.#iso(),
        credentialId,
      );
      return this.#credential(credentialId);
    });
  }

  async authenticateToken(tokenHash: string): Promise<Found | undefined> {
    return this.#authenticateByHash("token", tokenHash);
  }

  async authenticateCertificate(fingerprint: string): Promise<Found | undefined> {
    return this.#authenticateByHash("certificate", fingerprint);
  }

  async authenticateCredentialId(credentialId: string): Promise<Found | undefined> {
    const row = this.#get("SELECT * FROM credentials WHERE id = ?", credentialId);
    return row ? this.#check(row) : undefined;
  }

  #authenticateByHash(kind: Credential["kind"], hash: string): Found | undefined {
    if (!isTokenHash(hash)) return undefined;
    const row = this.#get("SELECT * FROM credentials WHERE token_hash = ?", hash);
    // The index lookup found the row; the constant-time re-compare keeps the final decision free of early exits.
    if (!row || !tokenHashesEqual(String(row.token_hash), hash) || row.kind !== kind) return undefined;
    return this.#check(row);
  }

  #check(credentialRow: Row): Found | undefined {
    const credential = credentialFromRow(credentialRow);
    const identityRow = this.#get("SELECT * FROM identities WHERE id = ?", credential.identityId);
    if (!identityRow) return undefined;
    const identity = identityFromRow(identityRow);
    if (!usable(identity, credential, this.#now())) return undefined;
    this.#markUsed(identity, credential);
    return { identity, credential };
  }

  #markUsed(identity: Identity, credential: Credential): void {
    const now = this.#now();
    const last = credential.lastUsedAt !== null ? Date.parse(credential.lastUsedAt) : Number.NaN;
    if (!Number.isNaN(last) && now - last < this.#lastUsedResolutionMs) return;
    const iso = new Date(now).toISOString();
    try {
      this.#transaction(() => {
        this.#run("UPDATE credentials SET last_used_at = ? WHERE id = ?", iso, credential.id);
        this.#run("UPDATE identities SET last_used_at = ? WHERE id = ?", iso, identity.id);
      });
      identity.lastUsedAt = iso;
      credential.lastUsedAt = iso;
    } catch {
      // Advisory only: an unwritable store is caught at the audit step, which fails closed.
    }
  }
}
