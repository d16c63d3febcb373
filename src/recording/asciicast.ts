// asciicast v2 (the format `asciinema play` reads), as pure functions: the header line, event lines, a tolerant
// reader, a strict format check, and the playback schedule `airlock session play` follows.
//
// A recording is newline-delimited JSON: one header object, then `[time, type, data]` arrays with time in seconds
// since the start. Types: "o" output (what the client received), "i" input (what the client typed), "r" resize
// ("WxH"), "m" marker (Airlock writes `exit N` when the command ends). Every line is complete JSON on its own, so
// a file cut short by a crash still plays: the reader drops a torn last line and nothing else.

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds when the recording started. */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
  [key: string]: unknown;
}

export type EventType = "o" | "i" | "r" | "m";
export type AsciicastEvent = [number, EventType, string];

export const EVENT_TYPES: ReadonlySet<string> = new Set(["o", "i", "r", "m"]);

export function headerLine(header: AsciicastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** Seconds with microsecond precision: enough for replay, short enough to keep lines small. */
export function eventLine(seconds: number, type: EventType, data: string): string {
  return `[${Math.max(0, seconds).toFixed(6)},${JSON.stringify(type)},${JSON.stringify(data)}]\n`;
}

export interface ParsedAsciicast {
  header: AsciicastHeader | undefined;
  events: AsciicastEvent[];
  /** True when the last line was incomplete (the writer died mid-line) and was dropped. */
  torn: boolean;
}

/** Reads a recording, dropping a torn last line; lines that are not events are skipped, not fatal. */
export function parseAsciicast(text: string): ParsedAsciicast {
  const lines = text.split("\n");
  let torn = false;
  // A complete file ends with "\n", so the last element is "". Anything else there is a torn write.
  const last = lines.pop();
  if (last !== undefined && last !== "") torn = true;
  let header: AsciicastHeader | undefined;
  const events: AsciicastEvent[] = [];
  for (const [i, line] of lines.entries()) {
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (i === 0 && isHeader(value)) {
      header = value;
      continue;
    }
    if (isEvent(value)) events.push(value);
  }
  return { header, events, torn };
}

function isHeader(v: unknown): v is AsciicastHeader {
  return (
    typeof v === "object" && v !== null && !Array.isArray(v) && (v as { version?: unknown }).version === 2
  );
}

function isEvent(v: unknown): v is AsciicastEvent {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    typeof v[0] === "number" &&
    typeof v[1] === "string" &&
    EVENT_TYPES.has(v[1]) &&
    typeof v[2] === "string"
  );
}

/** A strict check of a complete asciicast v2 file: every problem, by line number (1-based). */
export function checkAsciicast(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith("\n")) problems.push("the file does not end with a newline");
  const lines = text.split("\n").slice(0, -1);
  if (lines.length === 0) return ["the file is empty"];
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? "");
  } catch {
    return ["line 1: the header is not JSON"];
  }
  if (!isHeader(header)) problems.push("line 1: the header has no version 2");
  else {
    for (const field of ["width", "height"] as const) {
      if (!Number.isInteger(header[field]) || header[field] <= 0)
        problems.push(`line 1: ${field} is not a positive integer`);
    }
    if (header.timestamp !== undefined && !Number.isInteger(header.timestamp))
      problems.push("line 1: timestamp is not an integer");
  }
  let previous = 0;
  for (let i = 1; i < lines.length; i++) {
    let value: unknown;
    try {
      value = JSON.parse(lines[i] ?? "");
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      continue;
    }
    if (!isEvent(value)) {
      problems.push(`line ${i + 1}: not a [time, "o"|"i"|"r"|"m", data] event`);
      continue;
    }
    const [t, type, data] = value;
    if (t < previous) problems.push(`line ${i + 1}: time ${t} goes back (previous ${previous})`);
    if (t < 0) problems.push(`line ${i + 1}: negative time`);
    previous = t;
    if (type === "r" && !/^\d+x\d+$/.test(data)) problems.push(`line ${i + 1}: resize "${data}" is not WxH`);
  }
  return problems;
}

export interface PlaybackStep {
  /** Milliseconds to wait before writing. */
  delayMs: number;
  data: string;
}

/**
 * The output steps of a replay: "o" events with their delays divided by `speed`, and pauses longer than
 * `idleLimitSeconds` cut down to it (asciinema's --idle-time-limit). Input events are not replayed: the terminal
 * echo is already in the output.
 */
export function playbackSchedule(
  events: AsciicastEvent[],
  speed = 1,
  idleLimitSeconds?: number,
): PlaybackStep[] {
  const steps: PlaybackStep[] = [];
  let previous = 0;
  for (const [t, type, data] of events) {
    if (type !== "o") continue;
    let gap = Math.max(0, t - previous);
    previous = t;
    if (idleLimitSeconds !== undefined && gap > idleLimitSeconds) gap = idleLimitSeconds;
    steps.push({ delayMs: (gap * 1000) / speed, data });
  }
  return steps;
}

/** How many bytes at the end of `bytes` begin a UTF-8 character that is not complete yet (0–3). */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
