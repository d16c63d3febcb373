// The hash chain: how one audit record is encoded, linked to the previous one, and checked. Pure functions; the
// store calls `linkRecord` inside its write transaction and the verifier calls `checkRecord` on what it reads back.
//
// A record's `body` is the canonical JSON (canonical.ts) of {v, seq, type, ref, time, prev, data}; its hash is
// SHA-256 over the body's UTF-8 bytes. Because `prev` (the previous record's hash) is inside the body, altering,
// removing or inserting any record breaks the link of the record after it.
//
// A request is two records: "request" when it is begun (the write-ahead record: who, what, decision) and
// "request.completed" when it ends (status, bytes, duration). Both are chained, so the completion is covered too and
// the begin record is durable before forwarding. Other events (reviews, identities, policies, sessions) are notes:
// one record each, with a dotted type such as "review.approved".

import { canonicalJson, type JsonValue, sha256Hex } from "./canonical.ts";
import type { AuditCompletion, AuditEvent } from "./types.ts";

export const CHAIN_VERSION = 1;
/** The `prev` of the first record ever written. */
export const GENESIS_HASH = "0".repeat(64);

export const REQUEST = "request";
export const REQUEST_COMPLETED = "request.completed";
/** Note types: lower-case dotted words; "request*" is reserved for the request records. */
export const NOTE_TYPE = /^(?!request(\.|$))[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export interface ChainHead {
  seq: number;
  hash: string;
}

/** One chained record as stored. `body` is the exact text that was hashed. */
export interface ChainRecord {
  seq: number;
  type: string;
  ref: string;
  time: string;
  body: string;
  prevHash: string;
  hash: string;
}

export interface RecordBody {
  v: number;
  seq: number;
  type: string;
  ref: string;
  time: string;
  prev: string;
  data: { [key: string]: JsonValue };
}

/** Builds the next record after `head` (undefined head = the genesis). */
export function linkRecord(
  head: ChainHead,
  type: string,
  ref: string,
  time: string,
  data: { [key: string]: JsonValue },
): ChainRecord {
  const seq = head.seq + 1;
  const body = canonicalJson({ v: CHAIN_VERSION, seq, type, ref, time, prev: head.hash, data });
  return { seq, type, ref, time, body, prevHash: head.hash, hash: sha256Hex(body) };
}

/** The immutable part of a request's audit event: everything known before forwarding. */
export function requestBeginData(event: AuditEvent): { [key: string]: JsonValue } {
  // Fields other parts add to the event over time are read optionally, so older events hash the same way.
  const e = event as AuditEvent & { justification?: string | null; onBehalfOf?: string | null };
  return {
    id: e.id,
    time: e.time,
    identityId: e.identityId,
    identityName: e.identityName,
    identityKind: e.identityKind,
    identityGroups: e.identityGroups ?? null,
    credentialId: e.credentialId,
    sourceAddress: e.sourceAddress,
    userAgent: e.userAgent,
    kubectlCommand: e.kubectlCommand,
    kubectlSession: e.kubectlSession,
    cluster: e.cluster,
    method: e.method,
    path: e.path,
    verb: e.verb,
    apiGroup: e.apiGroup,
    apiVersion: e.apiVersion,
    namespace: e.namespace,
    resource: e.resource,
    subresource: e.subresource,
    name: e.name,
    execCommand: e.execCommand,
    decision: e.decision,
    policy: e.policy,
    rule: e.rule,
    reason: e.reason,
    justification: e.justification ?? null,
    onBehalfOf: e.onBehalfOf ?? null,
    // Present only when set, so events written before sessions existed hash as they did.
    ...(e.sessionId ? { sessionId: e.sessionId } : {}),
  };
}

export interface CompletionData {
  [key: string]: JsonValue;
  beginSeq: number;
  status: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  completedAt: string;
  /** The reason given at completion, or null when the begin record's reason stands. */
  reason: string | null;
}

/** The data of a `request.completed` record: one definition for every store engine, checked by verify. */
export function requestCompletedData(
  beginSeq: number,
  completion: AuditCompletion,
  completedAt: string,
): CompletionData {
  return {
    beginSeq,
    status: completion.status,
    bytesIn: completion.bytesIn,
    bytesOut: completion.bytesOut,
    durationMs: completion.durationMs,
    completedAt,
    reason: completion.reason ?? null,
  };
}

export type RecordProblem = { ok: true; body: RecordBody } | { ok: false; message: string };

/** Checks one stored record against itself and the previous hash: the body hashes to `hash` and links to `prev`. */
export function checkRecord(record: ChainRecord, expectedSeq: number, prevHash: string): RecordProblem {
  if (record.seq !== expectedSeq) {
    return record.seq > expectedSeq
      ? { ok: false, message: `records ${expectedSeq}..${record.seq - 1} were removed` }
      : { ok: false, message: `seq ${record.seq} appears out of order (expected ${expectedSeq})` };
  }
  let body: RecordBody;
  try {
    body = JSON.parse(record.body) as RecordBody;
  } catch {
    return { ok: false, message: "its body is not JSON (altered)" };
  }
  if (sha256Hex(record.body) !== record.hash)
    return { ok: false, message: "its body does not match its hash (altered)" };
  if (canonicalJson(body) !== record.body)
    return { ok: false, message: "its body is not canonical (altered)" };
  if (
    body.seq !== record.seq ||
    body.type !== record.type ||
    body.ref !== record.ref ||
    body.time !== record.time
  ) {
    return { ok: false, message: "its columns differ from its hashed body (altered)" };
  }
  if (body.prev !== prevHash || record.prevHash !== prevHash) {
    return {
      ok: false,
      message:
        "it does not link to the record before it (that record was altered, or one was inserted or removed)",
    };
  }
  return { ok: true, body };
}
