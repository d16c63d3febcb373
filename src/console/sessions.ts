// Console sign-in sessions: a random cookie value traded for a human identity's token, and the CSRF token that every
// state-changing request made with that cookie must repeat in a header.
//
// Security stance: the session holds no token, only the credential id it was opened with, and every use re-checks
// that credential in the store (so revoking or disabling the human ends the console session on its next request).
// Cookie values are 256-bit random and looked up by their SHA-256; the CSRF token is compared in constant time.
// Sessions live in the store (SQLite or PostgreSQL), so a restart keeps them and every replica on one database
// knows them (issue 16 §7); the store holds only the cookie's SHA-256. Idle and absolute lifetimes are bounded, and so
// is the table (stale sessions are dropped at each sign-in, then the oldest past the limit).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ConsoleSessionTable } from "../store/types.ts";

export const SESSION_COOKIE = "__Host-airlock-session";
export const CSRF_HEADER = "x-airlock-csrf";

export interface ConsoleSession {
  credentialId: string;
  identityName: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
  maxSessions: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  idleMs: 2 * 60 * 60 * 1000,
  absoluteMs: 12 * 60 * 60 * 1000,
  maxSessions: 10_000,
};

const digest = (value: string): string => createHash("sha256").update(value).digest("hex");

/** The value of one cookie in a Cookie header, or undefined. Duplicates are refused (a planted cookie). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}

export function csrfMatches(expected: string, got: string | undefined): boolean {
  if (!got) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The part of the store sessions live in (src/store/replica-state.ts). */
export interface ConsoleSessionStore {
  consoleSessions: ConsoleSessionTable;
}

export class ConsoleSessions {
  readonly limits: SessionLimits;
  readonly #store: ConsoleSessionStore;
  readonly #now: () => number;
  /** Last use is written at most this often per session (idle is idle; the idle lifetime is hours). */
  readonly #touchEveryMs: number;

  constructor(store: ConsoleSessionStore, limits: Partial<SessionLimits> = {}, now: () => number = Date.now) {
    this.#store = store;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.#now = now;
    this.#touchEveryMs = Math.min(60_000, Math.floor(this.limits.idleMs / 4));
  }

  /** Opens a session; returns the cookie value (shown to the browser only) and the session. */
  async open(
    credentialId: string,
    identityName: string,
  ): Promise<{ cookie: string; session: ConsoleSession }> {
    const cookie = randomBytes(32).toString("base64url");
    const now = this.#now();
    const session: ConsoleSession = {
      credentialId,
      identityName,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.#store.consoleSessions.create(
      {
        digest: digest(cookie),
        credentialId,
        identityName,
        csrfToken: session.csrfToken,
        createdMs: now,
        lastSeenMs: now,
      },
      {
        seenSinceMs: now - this.limits.idleMs,
        createdSinceMs: now - this.limits.absoluteMs,
        max: this.limits.maxSessions,
      },
    );
    return { cookie, session };
  }

  /** The live session for a cookie value, refreshed; expired sessions are dropped. */
  async find(cookie: string | undefined): Promise<ConsoleSession | undefined> {
    if (!cookie || cookie.length > 128) return undefined;
    const key = digest(cookie);
    const row = await this.#store.consoleSessions.get(key);
    if (!row) return undefined;
    const now = this.#now();
    if (now - row.lastSeenMs > this.limits.idleMs || now - row.createdMs > this.limits.absoluteMs) {
      await this.#store.consoleSessions.delete(key);
      return undefined;
    }
    if (now - row.lastSeenMs >= this.#touchEveryMs) await this.#store.consoleSessions.touch(key, now);
    return {
      credentialId: row.credentialId,
      identityName: row.identityName,
      csrfToken: row.csrfToken,
      createdAt: row.createdMs,
      lastSeenAt: now,
    };
  }

  async close(cookie: string | undefined): Promise<void> {
    if (cookie && cookie.length <= 128) await this.#store.consoleSessions.delete(digest(cookie));
  }

  /** Ends every session opened with these credentials (the identity was revoked). */
  async closeCredential(credentialId: string): Promise<void> {
    await this.#store.consoleSessions.deleteForCredential(credentialId);
  }

  /** Seconds until the absolute lifetime ends, for the cookie's Max-Age. */
  maxAgeSeconds(): number {
    return Math.floor(this.limits.absoluteMs / 1000);
  }
}
