// Console sign-in sessions: a random cookie value traded for a human identity's token, and the CSRF token that every
// state-changing request made with that cookie must repeat in a header.
//
// Security stance: the session holds no token, only the credential id it was opened with, and every use re-checks
// that credential in the store (so revoking or disabling the human ends the console session on its next request).
// Cookie values are 256-bit random and looked up by their SHA-256; the CSRF token is compared in constant time.
// Sessions live in this process only (a restart signs everyone out; replicas do not share them). Idle and absolute
// lifetimes are bounded, and so is the table (the oldest session is dropped first).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

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

export class ConsoleSessions {
  readonly limits: SessionLimits;
  readonly #now: () => number;
  // Keyed by SHA-256 of the cookie value; Map keeps insertion order, so the first entry is the oldest.
  readonly #byDigest = new Map<string, ConsoleSession>();

  constructor(limits: Partial<SessionLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.#now = now;
  }

  /** Opens a session; returns the cookie value (shown to the browser only) and the session. */
  open(credentialId: string, identityName: string): { cookie: string; session: ConsoleSession } {
    while (this.#byDigest.size >= this.limits.maxSessions) {
      const oldest = this.#byDigest.keys().next().value;
      if (oldest === undefined) break;
      this.#byDigest.delete(oldest);
    }
    const cookie = randomBytes(32).toString("base64url");
    const now = this.#now();
    const session: ConsoleSession = {
      credentialId,
      identityName,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now,
      lastSeenAt: now,
    };
    this.#byDigest.set(digest(cookie), session);
    return { cookie, session };
  }

  /** The live session for a cookie value, refreshed; expired sessions are dropped. */
  find(cookie: string | undefined): ConsoleSession | undefined {
    if (!cookie || cookie.length > 128) return undefined;
    const key = digest(cookie);
    const session = this.#byDigest.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (now - session.lastSeenAt > this.limits.idleMs || now - session.createdAt > this.limits.absoluteMs) {
      this.#byDigest.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  close(cookie: string | undefined): void {
    if (cookie) this.#byDigest.delete(digest(cookie));
  }

  /** Ends every session opened with these credentials (the identity was revoked). */
  closeCredential(credentialId: string): void {
    for (const [key, s] of this.#byDigest) if (s.credentialId === credentialId) this.#byDigest.delete(key);
  }

  get size(): number {
    return this.#byDigest.size;
  }

  /** Seconds until the absolute lifetime ends, for the cookie's Max-Age. */
  maxAgeSeconds(): number {
    return Math.floor(this.limits.absoluteMs / 1000);
  }
}
