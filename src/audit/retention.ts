// Retention by age and size, without breaking verification: before records are deleted, a checkpoint signed with
// the audit key seals the last pruned record ("record N had hash H"), so the remaining chain starts from a signed
// anchor and `audit verify` can tell pruning (sealed) from deletion (unsealed).
//
// `pruneThrough` is the pure decision; `enforceRetention` does it. Fail closed: if the seal cannot be written,
// nothing is deleted (the store refuses a seal that does not match the record it names).

import { buildCheckpoint } from "./checkpoint.ts";
import type { SigningKey } from "./signing.ts";
import type { AuditCheckpoint, AuditStore } from "./types.ts";

export interface RetentionPolicy {
  /** Records older than this are pruned. */
  maxAgeMs?: number;
  /** At most this many chained records are kept (a request is two: begin and completion). */
  maxRecords?: number;
}

/** The last seq to prune (0 = nothing): the larger of what age and size each allow. */
export function pruneThrough(
  policy: RetentionPolicy,
  head: { seq: number },
  lastSeqOlderThanMaxAge: number | undefined,
): number {
  let through = 0;
  if (policy.maxAgeMs !== undefined && lastSeqOlderThanMaxAge !== undefined) through = lastSeqOlderThanMaxAge;
  if (policy.maxRecords !== undefined) through = Math.max(through, head.seq - policy.maxRecords);
  return Math.max(0, Math.min(through, head.seq));
}

export interface RetentionResult {
  through: number;
  records: number;
  events: number;
  seal: AuditCheckpoint;
}

/** Prunes what the policy allows, sealing it first. `exclusive` serialises with the periodic checkpointer. */
export async function enforceRetention(
  store: AuditStore,
  key: SigningKey,
  policy: RetentionPolicy,
  now: number,
  exclusive: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
): Promise<RetentionResult | undefined> {
  return exclusive(async () => {
    const head = await store.audit.head();
    const older =
      policy.maxAgeMs === undefined
        ? undefined
        : await store.audit.lastSeqBefore(new Date(now - policy.maxAgeMs).toISOString());
    const through = pruneThrough(policy, head, older);
    const [record] = await store.audit.records({ afterSeq: through - 1, toSeq: through, limit: 1 });
    if (through === 0 || !record) return undefined; // nothing to prune, or already pruned
    const checkpoints = await store.audit.checkpoints();
    const seal = buildCheckpoint(
      checkpoints[checkpoints.length - 1],
      { seq: record.seq, hash: record.hash },
      new Date(now).toISOString(),
      "retention",
      key,
    );
    const { records, events } = await store.audit.prune(through, seal);
    return { through, records, events, seal };
  });
}
