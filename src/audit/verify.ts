// `airlock audit verify`: walks the chain in seq order and checks every link, every checkpoint signature, and every
// request event row against its chained records. Read-only; works on a live store or on a copied SQLite file.
//
// What it detects (docs/audit.md): a record or event row altered (hash, link or field mismatch), removed (seq gap,
// a chained event whose row is gone, records cut from the start without a sealing checkpoint or from the end before
// a checkpoint), inserted (a row no chained record accounts for, a record that does not link), and rewritten ranges
// (valid-looking links that a signed checkpoint contradicts). Records written after the last checkpoint are
// protected by the hash links only: whoever can write the database can truncate them unnoticed, which is why
// checkpoints are frequent and can be shipped to a sink.
import type { KeyObject } from "node:crypto";
import { canonicalJson } from "./canonical.ts";
import {
  type CompletionData,
  checkRecord,
  GENESIS_HASH,
  REQUEST,
  REQUEST_COMPLETED,
  requestBeginData,
} from "./chain.ts";
import { checkCheckpoint } from "./checkpoint.ts";
import type { AuditCheckpoint, AuditEvent, AuditRecord, AuditStore } from "./types.ts";

export type ProblemKind = "altered" | "removed" | "inserted" | "checkpoint";

export interface VerifyProblem {
  kind: ProblemKind;
  /** The chain record (or checkpoint, for kind "checkpoint") the problem is at. */
  seq?: number;
  /** The request id or record ref. */
  id?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** The first record checked and the last; 0 when the chain is empty. */
  fromSeq: number;
  toSeq: number;
  records: number;
  checkpoints: number;
  /** The newest checkpoint that verified: everything up to its chainSeq is signed. */
  signedThrough: number;
  problems: VerifyProblem[];
}

const PAGE = 1000;

function beginWithoutReason(event: AuditEvent): string {
  const { reason: _reason, ...rest } = requestBeginData(event);
  return canonicalJson(rest);
}

export async function verifyAuditLog(
  store: AuditStore,
  publicKey: KeyObject,
  range: { fromSeq?: number; toSeq?: number } = {},
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const checkpoints = await store.audit.checkpoints();
  const valid: AuditCheckpoint[] = [];
  let previous: AuditCheckpoint | undefined;
  for (const cp of checkpoints) {
    const result = checkCheckpoint(cp, previous, publicKey);
    if (result.ok) valid.push(cp);
    else
      problems.push({ kind: "checkpoint", seq: cp.seq, message: `checkpoint ${cp.seq}: ${result.message}` });
    previous = cp;
  }
  const signedAt = new Map<number, AuditCheckpoint[]>();
  for (const cp of valid) signedAt.set(cp.chainSeq, [...(signedAt.get(cp.chainSeq) ?? []), cp]);

  const first = (await store.audit.records({ afterSeq: 0, limit: 1 }))[0];
  const firstSeq = first?.seq ?? 0;
  // Where the walk starts, and the hash the first walked record must link to.
  let expectedSeq = firstSeq;
  let prev = GENESIS_HASH;
  if (firstSeq > 1) {
    const seal = valid.find((cp) => cp.chainSeq === firstSeq - 1);
    if (seal) prev = seal.chainHash;
    else {
      problems.push({
        kind: "removed",
        seq: 1,
        message: `records 1..${firstSeq - 1} were removed without a sealing checkpoint`,
      });
      prev = first?.prevHash ?? GENESIS_HASH;
    }
  }
  if (range.fromSeq !== undefined && range.fromSeq > firstSeq) {
    const anchor = valid.filter((cp) => cp.chainSeq < range.fromSeq! && cp.chainSeq >= firstSeq).pop();
    if (anchor) {
      expectedSeq = anchor.chainSeq + 1;
      prev = anchor.chainHash;
    }
  }
  const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  let lastSigned = 0;
  let lastSeq = 0;
  let count = 0;
  let lastGoodCheckpointSeq = expectedSeq - 1;
  const pending = new Map<string, { beginSeq: number; reason: unknown }>();

  if (first) {
    let after = expectedSeq - 1;
    for (;;) {
      const page = await store.audit.records({ afterSeq: after, toSeq, limit: PAGE });
      if (page.length === 0) break;
      const ids = page.filter((r) => r.type === REQUEST || r.type === REQUEST_COMPLETED).map((r) => r.ref);
      const rows = new Map((await store.audit.eventsByIds([...new Set(ids)])).map((e) => [e.id, e]));
      for (const record of page) {
        count++;
        const checked = checkRecord(record, expectedSeq, prev);
        if (!checked.ok) {
          const kind = /removed/.test(checked.message) && record.seq > expectedSeq ? "removed" : "altered";
          const seq = kind === "removed" ? expectedSeq : record.seq;
          problems.push({
            kind,
            seq,
            id: record.ref,
            message: `seq ${record.seq} (${record.type} ${record.ref}): ${checked.message}`,
          });
          // Its row cannot be judged against a record that is itself broken; do not report it twice.
          if (record.type === REQUEST_COMPLETED) pending.delete(record.ref);
        } else {
          checkRow(record, checked.body.data, rows.get(record.ref), firstSeq, pending, problems);
        }
        for (const cp of signedAt.get(record.seq) ?? []) {
          if (cp.chainHash === record.hash) {
            lastSigned = Math.max(lastSigned, record.seq);
            lastGoodCheckpointSeq = record.seq;
          } else {
            problems.push({
              kind: "altered",
              seq: lastGoodCheckpointSeq + 1,
              message: `records ${lastGoodCheckpointSeq + 1}..${record.seq} were rewritten: checkpoint ${cp.seq} signed another hash for seq ${record.seq}`,
            });
          }
        }
        expectedSeq = record.seq + 1;
        prev = record.hash;
        lastSeq = record.seq;
      }
      after = page[page.length - 1]?.seq ?? after;
    }
  }
  if (range.toSeq === undefined) {
    const beyond = valid.filter(
      (cp) => cp.chainSeq > lastSeq && cp.reason !== "retention" && cp.chainSeq > firstSeq - 1,
    );
    const newest = beyond[beyond.length - 1];
    if (newest) {
      problems.push({
        kind: "removed",
        seq: lastSeq + 1,
        message: `records ${lastSeq + 1}..${newest.chainSeq} were removed: checkpoint ${newest.seq} covers up to seq ${newest.chainSeq}`,
      });
    }
    // Requests begun but never completed: their rows must still look uncompleted.
    const open = await store.audit.eventsByIds([...pending.keys()]);
    const completedRows = open.filter((event) => {
      const begun = pending.get(event.id);
      return event.completedAt !== null || event.status !== null || event.reason !== begun?.reason;
    });
    // On a live gateway a request may complete after the walk ended: its completion record then lies past lastSeq
    // (the next walk checks it) — a row completed with a chained record, not one altered without it.
    const completedLater = new Set<string>();
    if (completedRows.length > 0) {
      for (let after = lastSeq; ; ) {
        const page = await store.audit.records({ afterSeq: after, limit: PAGE });
        if (page.length === 0) break;
        for (const r of page) if (r.type === REQUEST_COMPLETED) completedLater.add(r.ref);
        after = page[page.length - 1]?.seq ?? after;
      }
    }
    for (const event of completedRows) {
      const begun = pending.get(event.id);
      if (!completedLater.has(event.id)) {
        problems.push({
          kind: "altered",
          seq: begun?.beginSeq,
          id: event.id,
          message: `event ${event.id}: completion fields were set without a chained completion record`,
        });
      }
    }
    for (const id of await store.audit.unchained(20)) {
      problems.push({
        kind: "inserted",
        id,
        message: `event ${id} is in the audit table but in no chained record (inserted)`,
      });
    }
  }
  problems.sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER));
  return {
    ok: problems.length === 0,
    fromSeq: count ? Math.max(firstSeq, range.fromSeq ?? 0, 1) : 0,
    toSeq: lastSeq,
    records: count,
    checkpoints: valid.length,
    signedThrough: lastSigned,
    problems,
  };
}

function checkRow(
  record: AuditRecord,
  data: Record<string, unknown>,
  row: AuditEvent | undefined,
  firstSeq: number,
  pending: Map<string, { beginSeq: number; reason: unknown }>,
  problems: VerifyProblem[],
): void {
  const at = { seq: record.seq, id: record.ref };
  if (record.type === REQUEST) {
    if (!row) {
      problems.push({
        kind: "removed",
        ...at,
        message: `event ${record.ref} (seq ${record.seq}) was removed from the audit table`,
      });
      return;
    }
    const { reason, ...chained } = data;
    if (beginWithoutReason(row) !== canonicalJson(chained)) {
      problems.push({
        kind: "altered",
        ...at,
        message: `event ${record.ref} (seq ${record.seq}) differs from its chained record (altered)`,
      });
    }
    pending.set(record.ref, { beginSeq: record.seq, reason });
  } else if (record.type === REQUEST_COMPLETED) {
    const c = data as CompletionData;
    const begun = pending.get(record.ref);
    pending.delete(record.ref);
    if (!row) {
      // The begin record was pruned by retention (it sits before the sealed start): the row went with it.
      if (c.beginSeq < firstSeq) return;
      problems.push({
        kind: "removed",
        ...at,
        message: `event ${record.ref} (completed at seq ${record.seq}) was removed from the audit table`,
      });
      return;
    }
    const reason = c.reason ?? begun?.reason ?? row.reason;
    const same =
      row.status === c.status &&
      row.bytesIn === c.bytesIn &&
      row.bytesOut === c.bytesOut &&
      row.durationMs === c.durationMs &&
      row.completedAt === c.completedAt &&
      row.reason === reason;
    if (!same) {
      problems.push({
        kind: "altered",
        ...at,
        message: `event ${record.ref}: its completion differs from the chained record at seq ${record.seq} (altered)`,
      });
    }
  }
}
