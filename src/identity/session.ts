// Session credentials: short-lived bearer tokens the gateway signs itself (HMAC-SHA256 with a key kept in the data
// directory), traded for a long-lived token at POST /airlock/v1/credentials/session.
//
//   airlock-session.<base64url(JSON claims)>.<base64url(HMAC-SHA256 over "airlock-session.<claims>")>
//
// Security stance: verification is stateless (signature in constant time, then expiry) and then the parent
// credential is looked up on every request, so revoking or disabling the identity or the parent credential cuts
// its sessions off at once. Claims are not secret (the holder can read them); the signature is what counts. Any
// malformed token is refused, never partially trusted.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const SESSION_PREFIX = "airlock-session.";
/** Sessions are minutes, not hours: the point is that a leaked one is soon worthless. */
export const DEFAULT_SESSION_SECONDS = 15 * 60;
export const MAX_SESSION_SECONDS = 60 * 60;

export interface SessionClaims {
  v: 1;
  /** Session id. */
  sid: string;
  /** Identity id and the parent credential's id. */
  sub: string;
  cred: string;
  /** Issued at / expires at, epoch seconds. */
  iat: number;
  exp: number;
  reason?: string;
  obo?: string;
  /** The delegation the session acts under (with `obo`): the session works only while that delegation stands. */
  dlg?: string;
}

export type SessionVerdict =
  | { ok: true; claims: SessionClaims }
  | { ok: false; error: "malformed" | "signature" | "expired" };

export class SessionSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error("a session signing key has at least 32 bytes");
    this.#key = key;
  }

  #mac(payload: string): Buffer {
    return createHmac("sha256", this.#key).update(`${SESSION_PREFIX}${payload}`).digest();
  }

  /** Signs new claims for the parent credential; `nowMs` is the issue time. */
  issue(input: {
    identityId: string;
    credentialId: string;
    ttlSeconds: number;
    nowMs: number;
    reason?: string;
    onBehalfOf?: string;
    delegationId?: string;
  }): { token: string; claims: SessionClaims } {
    const iat = Math.floor(input.nowMs / 1000);
    const claims: SessionClaims = {
      v: 1,
      sid: randomUUID(),
      sub: input.identityId,
      cred: input.credentialId,
      iat,
      exp: iat + Math.max(1, Math.floor(input.ttlSeconds)),
    };
    if (input.reason) claims.reason = input.reason;
    if (input.onBehalfOf) claims.obo = input.onBehalfOf;
    if (input.delegationId) claims.dlg = input.delegationId;
    const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
    return { token: `${SESSION_PREFIX}${payload}.${this.#mac(payload).toString("base64url")}`, claims };
  }

  /** Checks signature and expiry. Pure apart from the key; the parent credential check is the caller's. */
  verify(token: string, nowMs: number): SessionVerdict {
    if (!token.startsWith(SESSION_PREFIX)) return { ok: false, error: "malformed" };
    const parts = token.slice(SESSION_PREFIX.length).split(".");
    const [payload, mac] = parts;
    if (parts.length !== 2 || !payload || !mac || !/^[A-Za-z0-9_-]+$/.test(payload + mac)) {
      return { ok: false, error: "malformed" };
    }
    const given = Buffer.from(mac, "base64url");
    const want = this.#mac(payload);
    if (given.length !== want.length || !timingSafeEqual(given, want))
      return { ok: false, error: "signature" };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return { ok: false, error: "malformed" };
    }
    if (!isClaims(claims)) return { ok: false, error: "malformed" };
    if (claims.exp * 1000 <= nowMs) return { ok: false, error: "expired" };
    return { ok: true, claims };
  }
}

function isClaims(v: unknown): v is SessionClaims {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    c.v === 1 &&
    typeof c.sid === "string" &&
    typeof c.sub === "string" &&
    typeof c.cred === "string" &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    (c.reason === undefined || typeof c.reason === "string") &&
    (c.obo === undefined || typeof c.obo === "string") &&
    (c.dlg === undefined || typeof c.dlg === "string")
  );
}

/** Loads DATA_DIR/session.key, creating it (32 random bytes, mode 0600) on first start. */
export async function loadSessionSigner(dataDir: string): Promise<SessionSigner> {
  const path = join(dataDir, "session.key");
  if (!existsSync(path))
    await writeFile(path, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      },
    );
  await chmod(path, 0o600);
  const key = Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  return new SessionSigner(key);
}
