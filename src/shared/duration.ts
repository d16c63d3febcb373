// Durations in policies and the CLI: `30s`, `10m`, `1h`, `2d`, `1h30m`. Pure.
const DURATION = /^(?:\d+(?:ms|[smhd]))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|[smhd])/g))
    total += Number(n) * (UNIT_MS[unit ?? ""] ?? 0);
  return total;
}
