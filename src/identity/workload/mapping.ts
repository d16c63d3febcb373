// Mapping rules: a verified workload subject → the name of the Airlock identity it acts as, and that identity →
// the request's Principal. Pure.
//
// Security stance: first matching rule wins and no match is a refusal. Globs are anchored at both ends and know only
// `*` (which also matches `:` and `/`, so write namespaces and account ids out in full). The principal's credential
// id names the issuer and subject (`workload:<issuer>:<subject>`), never the token.

import { setCredentialLimit } from "../deadlines.ts";
import type { Identity, Principal } from "../types.ts";
import type { MappingRule } from "./config.ts";

/** What an issuer verified about a token. */
export interface VerifiedSubject {
  /** The issuer's configured name. */
  issuer: string;
  subject: string;
  /** OIDC claims (strings only are matched). */
  claims?: Record<string, unknown>;
  /** When the token stops being valid (ms since the epoch). */
  expiresAt?: number;
}

/** `*` matches any run of characters (including none); everything else literally; whole-string. */
export function globMatch(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last))
    return false;
  let pos = first.length;
  const end = value.length - last.length;
  for (const mid of parts.slice(1, -1)) {
    const at = value.indexOf(mid, pos);
    if (at < 0 || at + mid.length > end) return false;
    pos = at + mid.length;
  }
  return true;
}

/** The identity name of the first rule that matches, or undefined. */
export function mapSubject(rules: readonly MappingRule[], verified: VerifiedSubject): string | undefined {
  for (const rule of rules) {
    if (rule.issuer !== verified.issuer || !globMatch(rule.subject, verified.subject)) continue;
    const claims = rule.claims ?? {};
    const ok = Object.entries(claims).every(([k, pattern]) => {
      const v = verified.claims?.[k];
      return typeof v === "string" && globMatch(pattern, v);
    });
    if (ok) return rule.identity;
  }
  return undefined;
}

/** Active and not expired: the same rule the store applies to tokens (revoked > disabled > expired). */
export function identityUsable(identity: Identity, now: number): boolean {
  if (identity.state !== "active") return false;
  return identity.expiresAt === null || Date.parse(identity.expiresAt) > now;
}

export function workloadCredentialId(verified: VerifiedSubject): string {
  return `workload:${verified.issuer}:${verified.subject}`;
}

export function workloadPrincipal(identity: Identity, verified: VerifiedSubject): Principal {
  const principal: Principal = {
    identityId: identity.id,
    kind: identity.kind,
    name: identity.name,
    groups: [...identity.groups],
    labels: { ...identity.labels },
    credentialId: workloadCredentialId(verified),
  };
  const times = [identity.expiresAt ? Date.parse(identity.expiresAt) : undefined, verified.expiresAt].filter(
    (t): t is number => t !== undefined && !Number.isNaN(t),
  );
  // Streams opened with a workload token close when the token (or the identity) expires, as sessions do.
  if (times.length) principal.expiresAt = new Date(Math.min(...times)).toISOString();
  setCredentialLimit(principal, verified.expiresAt);
  return principal;
}
