// Pure helpers of the end-to-end benchmark: percentiles, per-watch memory, and the Markdown table rows that
// docs/benchmarks.md shows. No IO here, so the arithmetic the published figures rest on has table tests
// (test/bench/stats.test.ts).

/** The p-quantile (0..1) of the samples by the nearest-rank method; NaN for no samples. Does not modify `samples`. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** Bytes of memory per open watch: the growth from `before` to `after` spread over `watches`, never negative. */
export function perWatchBytes(before: number, after: number, watches: number): number {
  if (watches <= 0) throw new RangeError("watches must be positive");
  return Math.max(0, after - before) / watches;
}

/** Milliseconds, with enough digits to see sub-millisecond differences. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value < 10) return value.toFixed(3);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

export function kib(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : "n/a";
}

export function rate(perSecond: number): string {
  return Number.isFinite(perSecond) ? Math.round(perSecond).toLocaleString("en-US") : "n/a";
}

/** A Markdown table: a header row, the separator, then one row per entry. Cells are escaped for pipes. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
