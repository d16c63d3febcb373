// Masking counts per rule: what the audit event and the Warning header report. Counts only, never values.

export type MaskCounts = Map<string, number>;

export function addCount(counts: MaskCounts, rule: string, n = 1): void {
  counts.set(rule, (counts.get(rule) ?? 0) + n);
}

export function totalCount(counts: MaskCounts): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

/** A plain object, sorted by rule name, for audit events and logs. */
export function countsRecord(counts: MaskCounts): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
