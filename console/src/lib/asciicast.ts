// asciicast v2 for the in-page player: a tolerant reader (a torn last line from a killed gateway is dropped) and the
// position in time of each event. Pure.
export interface CastHeader {
  width: number;
  height: number;
  timestamp?: number;
  title?: string;
}

export interface CastEvent {
  time: number;
  type: string;
  data: string;
}

export interface Cast {
  header: CastHeader;
  /** Output ("o") and resize ("r") events in time order: what the viewer saw. */
  output: CastEvent[];
  /** Input events ("i"): what was typed (shown separately; the terminal echo is in the output already). */
  input: CastEvent[];
  /** The last event's time (seconds). */
  duration: number;
  /** Exit status if the recording ends with a marker or a status event that says so. */
  exit: string | undefined;
}

export function parseCast(text: string): Cast {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  let header: CastHeader = { width: 80, height: 24 };
  const output: CastEvent[] = [];
  const input: CastEvent[] = [];
  let exit: string | undefined;
  let last = 0;
  lines.forEach((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return; // a torn line (only ever the last one) is skipped
    }
    if (i === 0 && value && typeof value === "object" && !Array.isArray(value)) {
      const h = value as Record<string, unknown>;
      header = {
        width: typeof h.width === "number" && h.width > 0 ? Math.min(h.width, 500) : 80,
        height: typeof h.height === "number" && h.height > 0 ? Math.min(h.height, 200) : 24,
        ...(typeof h.timestamp === "number" ? { timestamp: h.timestamp } : {}),
        ...(typeof h.title === "string" ? { title: h.title } : {}),
      };
      return;
    }
    if (!Array.isArray(value) || value.length < 3) return;
    const [time, type, data] = value as [unknown, unknown, unknown];
    if (typeof time !== "number" || typeof type !== "string" || typeof data !== "string") return;
    const event = { time: Math.max(time, last), type, data };
    last = event.time;
    if (type === "o" || type === "r") output.push(event);
    else if (type === "i") input.push(event);
    else if (type === "x" || (type === "m" && /exit/i.test(data))) exit = data;
  });
  return { header, output, input, duration: last, exit };
}

/** How many output events have happened by time `t` (binary search). */
export function eventsUntil(events: readonly CastEvent[], t: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid]?.time ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
