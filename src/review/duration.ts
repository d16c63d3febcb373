// Durations as reviewers and operators write them: 90s, 30m, 1h, 2d, 1h30m. Pure.
const DURATION = /^(?:\d+[smhd])+$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, or undefined when `text` is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g))
    total += Number(n) * (UNIT_SECONDS[unit ?? ""] ?? 0);
  return total;
}
