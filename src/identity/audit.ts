// Identity changes as chained audit notes (`identity.<change>`, `stream.closed`; docs/audit.md "Notes").
//
// Security stance: a note names who acted (actor) and which identity (subject) with ids and settings — never a
// token, a key, a certificate or a hash of one. Changes that give access (created, enabled, updated, a token,
// certificate or session issued) are recorded before the secret is handed out or the change is made, and fail the
// change when the note cannot be written; changes that take access away (revoked, disabled, a credential revoked,
// streams closed) take effect first and are noted after: a failed note is logged, never blocking the cut-off.
import type { AuditNote, AuditNotes } from "../audit/types.ts";
import type { Credential, Identity } from "./types.ts";

export type AuditWriter = AuditNotes;

export interface NoteLog {
  error(obj: object, msg: string): void;
}

export type IdentityChange =
  | "created"
  | "updated"
  | "disabled"
  | "enabled"
  | "revoked"
  | "token.issued"
  | "token.rotated"
  | "credential.revoked"
  | "certificate.issued"
  | "session.issued";

export type NoteDetail = Record<string, string | number | boolean | null | string[] | Record<string, string>>;

export function identityNote(
  change: IdentityChange,
  actor: string,
  identity: Pick<Identity, "name" | "id">,
  detail: NoteDetail = {},
): AuditNote {
  return {
    type: `identity.${change}`,
    actor,
    subject: identity.name,
    detail: { identityId: identity.id, ...detail },
  };
}

/** What a note says of a credential: its id, kind, name, expiry and scopes (never its hash). */
export function credentialDetail(c: Credential): NoteDetail {
  const detail: NoteDetail = { credential: c.id, kind: c.kind, name: c.name, expiresAt: c.expiresAt };
  if (c.scopes.clusters) detail.clusters = c.scopes.clusters;
  if (c.scopes.readOnly) detail.readOnly = true;
  if (c.serial) detail.serial = c.serial;
  return detail;
}

/** Writes a note that must not block what it records (revocations, cut-offs); failures are logged. */
export async function noteAfter(audit: AuditWriter, note: AuditNote, log: NoteLog): Promise<void> {
  try {
    await audit.audit.note(note);
  } catch (err) {
    log.error({ note: note.type, subject: note.subject, err: (err as Error).message }, "audit note failed");
  }
}
