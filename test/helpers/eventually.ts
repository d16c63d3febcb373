// The one way tests wait for something that happens on its own time (a watch line, an audit record, a controller):
// poll a probe until it yields, under a deadline, and on timeout fail with what was awaited and the last value seen,
// so a failure says more than "timed out". Wait for events (once(emitter, ...), a promise) where there is one; poll
// only state that announces nothing.
import { inspect } from "node:util";

export interface EventuallyOptions<T> {
  /** How long to keep trying before failing (default 10 s). */
  timeoutMs?: number;
  /** The longest pause between tries (default 50 ms); pauses start at 1 ms and double, so quick things stay quick. */
  intervalMs?: number;
  /** When the probe's value counts as arrived; default: anything but undefined, null and false. */
  until?: (value: T) => boolean;
}

const arrived = (value: unknown): boolean => value !== undefined && value !== null && value !== false;

/**
 * Calls `probe` until its value counts as arrived and returns that value. A probe that throws has not arrived yet
 * (the error is kept as the last value seen). `what` names the awaited thing in the failure message.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: EventuallyOptions<T> = {},
): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const done = opts.until ?? arrived;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (let pause = 1; ; pause = Math.min(pause * 2, intervalMs)) {
    try {
      const value = await probe();
      if (done(value)) return value as Exclude<T, undefined | null | false>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen(last)}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

function seen(last: { value: unknown } | { error: unknown }): string {
  const text =
    "error" in last
      ? `the probe last threw: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
      : `last value seen: ${inspect(last.value, { depth: 4, breakLength: Number.POSITIVE_INFINITY })}`;
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length - 2000} more characters)` : text;
}

/** Waits until the text `read()` returns (a child's output so far) matches `pattern`; returns that text. */
export function eventuallyMatches(read: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return eventually(`output matching ${pattern}`, read, { timeoutMs, until: (text) => pattern.test(text) });
}
