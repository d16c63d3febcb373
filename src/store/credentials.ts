// The credentials table (API tokens and client certificates of an identity), written once for both engines.
//
// Security stance: only hashes are stored (identities.ts); an expiry is only ever brought forward, so a rotation's
// overlap window cannot extend a credential that was due to expire sooner; revocation keeps the first time. A new
// credential locks its identity's row, so a revocation on another replica cannot slip in between check and insert.
import type { Credential, CredentialOptions, CredentialTable } from "../identity/types.ts";
import { badRequest } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { isTokenHash } from "../shared/tokens.ts";
import { identityByName, insertCredential, issueToken } from "./identities.ts";
import { credentialFromRow } from "./rows.ts";
import type { Db, Sql } from "./sql.ts";

export class CredentialTables implements CredentialTable {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async #credential(sql: Sql, id: string): Promise<Credential | undefined> {
    const row = await sql.get("SELECT * FROM credentials WHERE id = ?", [id]);
    return row ? credentialFromRow(row) : undefined;
  }

  /** Issues another token for an active identity (rotation); undefined when it is unknown or revoked. */
  create(
    identityName: string,
    opts: CredentialOptions = {},
  ): Promise<{ credential: Credential; token: string } | undefined> {
    return this.#db.tx(async (sql) => {
      const identity = await identityByName(this.#db, sql, identityName, true);
      if (!identity || identity.state === "revoked") return undefined;
      return issueToken(sql, this.#now, identity.id, opts);
    });
  }

  /** Records an issued client certificate (by the SHA-256 of its DER) as a credential; undefined as create. */
  async addCertificate(
    identityName: string,
    cert: { fingerprint: string; serial: string; expiresAt: string; name?: string },
  ): Promise<Credential | undefined> {
    if (!isTokenHash(cert.fingerprint))
      throw new Error("store: a certificate fingerprint is a SHA-256 in hex");
    return this.#db.tx(async (sql) => {
      const identity = await identityByName(this.#db, sql, identityName, true);
      if (!identity || identity.state === "revoked") return undefined;
      return insertCredential(sql, this.#now, identity.id, "certificate", cert.fingerprint, {
        name: cert.name ?? `certificate ${cert.serial}`,
        expiresAt: cert.expiresAt,
        serial: cert.serial,
      });
    });
  }

  get(credentialId: string): Promise<Credential | undefined> {
    return this.#credential(this.#db, credentialId);
  }

  /** The identity's credentials, oldest first (never a token); undefined when the identity is unknown. */
  async list(identityName: string): Promise<Credential[] | undefined> {
    const identity = await identityByName(this.#db, this.#db, identityName);
    if (!identity) return undefined;
    const rows = await this.#db.all(
      `SELECT * FROM credentials WHERE identity_id = ? ORDER BY created_at, ${this.#db.dialect.insertionOrder}`,
      [identity.id],
    );
    return rows.map(credentialFromRow);
  }

  /** Brings a credential's expiry forward to `expiresAt` (never later than it was): rotation's overlap window. */
  async expireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined> {
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) throw new StatusError(badRequest(`expiry "${expiresAt}" is not a time`));
    return this.#db.tx(async (sql) => {
      const row = await sql.get(`SELECT * FROM credentials WHERE id = ?${this.#db.dialect.forUpdate}`, [
        credentialId,
      ]);
      if (!row) return undefined;
      const credential = credentialFromRow(row);
      if (credential.expiresAt === null || Date.parse(credential.expiresAt) > at) {
        await sql.run("UPDATE credentials SET expires_at = ? WHERE id = ?", [
          new Date(at).toISOString(),
          credentialId,
        ]);
      }
      return this.#credential(sql, credentialId);
    });
  }

  /** Revokes one credential; the identity's others keep working. Undefined when it is unknown. */
  async revoke(credentialId: string): Promise<Credential | undefined> {
    const row = await this.#db.get(
      "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *",
      [new Date(this.#now()).toISOString(), credentialId],
    );
    return row ? credentialFromRow(row) : undefined;
  }
}
