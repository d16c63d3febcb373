// The audit tables' rows and statement texts (audit.ts): row mappers, the search cursor, and the SQL the chained
// writes run, shared by both engines.
import type { AuditCheckpoint, AuditRecord } from "../audit/types.ts";
import { badRequest } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { AUDIT_COLUMNS } from "./rows.ts";
import { marks, type Param, type Row } from "./sql.ts";

export const num = (v: unknown): number => Number(v);
export const recordFromRow = (row: Row): AuditRecord => ({
  seq: num(row.seq),
  type: String(row.type),
  ref: String(row.ref),
  time: String(row.time),
  body: String(row.body),
  prevHash: String(row.prev_hash),
  hash: String(row.hash),
});

export const checkpointFromRow = (row: Row): AuditCheckpoint => ({
  seq: num(row.seq),
  chainSeq: num(row.chain_seq),
  chainHash: String(row.chain_hash),
  time: String(row.time),
  reason: String(row.reason) as AuditCheckpoint["reason"],
  keyId: String(row.key_id),
  prevHash: String(row.prev_hash),
  body: String(row.body),
  signature: String(row.signature),
});

export function timeMs(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new StatusError(badRequest(`${what} "${text}" is not a date`));
  return ms;
}

export function encodeCursor(timeMs: number, seq: number): string {
  return Buffer.from(`${timeMs}.${seq}`).toString("base64url");
}

export function decodeCursor(cursor: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new StatusError(badRequest("the cursor is not one this server issued"));
  return [Number(m[1]), Number(m[2])];
}

export const EVENT_COLUMNS = [...AUDIT_COLUMNS.map(([column]) => column), "chain_seq"];
export const INSERT_EVENT = `INSERT INTO audit_events (${EVENT_COLUMNS.join(", ")}) VALUES (${marks(EVENT_COLUMNS.length)})`;
export const COMPLETE_EVENT = `UPDATE audit_events SET status = ?, bytes_in = ?, bytes_out = ?, duration_ms = ?,
    completed_at = ?, reason = coalesce(?, reason)
  WHERE id = ? AND completed_at IS NULL RETURNING chain_seq`;
export const INSERT_CHECKPOINT = `INSERT INTO audit_checkpoints
  (seq, chain_seq, chain_hash, time, reason, key_id, prev_hash, body, signature) VALUES (${marks(9)})`;

export const checkpointParams = (cp: AuditCheckpoint): Param[] => [
  cp.seq,
  cp.chainSeq,
  cp.chainHash,
  cp.time,
  cp.reason,
  cp.keyId,
  cp.prevHash,
  cp.body,
  cp.signature,
];

export const seqOrUndefined = (row: Row | undefined): number | undefined =>
  row?.seq === null || row?.seq === undefined ? undefined : num(row.seq);
