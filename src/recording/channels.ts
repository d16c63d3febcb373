// The remote-command channel protocol (wire protocol §2.8) read from the recorder's side, as pure functions:
// which channel a WebSocket message is on and its payload (binary v1–v5 and the base64 text variants), the
// terminal size in a resize message, and the exit code in the error channel's Status.
//
// Never throws on what a peer sent: a message the recorder cannot read is reported as undefined and the recorder
// notes it; relaying is the bridge's job, and masking has already failed closed on unreadable server frames.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

export interface ChannelMessage {
  channel: number;
  payload: Buffer;
}

export function decodeChannelMessage(
  data: Buffer | string,
  binary: boolean,
  base64: boolean,
): ChannelMessage | undefined {
  if (base64) {
    const text = typeof data === "string" ? data : data.toString("latin1");
    if (binary || text.length === 0) return undefined;
    const channel = text.charCodeAt(0) - 0x30;
    const body = text.slice(1);
    if (channel < 0 || channel > 9 || !/^[A-Za-z0-9+/]*=*$/.test(body)) return undefined;
    return { channel, payload: Buffer.from(body, "base64") };
  }
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (bytes.length === 0) return undefined;
  return { channel: bytes[0] as number, payload: bytes.subarray(1) };
}

/** `{"Width":100,"Height":30}` → { width, height }; undefined when it is not a sane size. */
export function parseResize(payload: Buffer): { width: number; height: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  if (!Number.isInteger(Width) || !Number.isInteger(Height)) return undefined;
  const width = Width as number;
  const height = Height as number;
  if (width <= 0 || height <= 0 || width > 10_000 || height > 10_000) return undefined;
  return { width, height };
}

/**
 * The exit code a Status on the error channel stands for: Success → 0, NonZeroExitCode → its ExitCode cause,
 * any other Failure → undefined (the command did not report a code: kubectl prints the message instead).
 */
export function exitCodeOf(payload: Buffer): { code: number | undefined; message: string } {
  const text = payload.toString("utf8");
  let status: { status?: unknown; message?: unknown; reason?: unknown; details?: { causes?: unknown } };
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    return { code: undefined, message: text.slice(0, 500) };
  }
  if (status.status === "Success") return { code: 0, message: "" };
  const message = typeof status.message === "string" ? status.message : "";
  const causes = Array.isArray(status.details?.causes) ? (status.details.causes as unknown[]) : [];
  for (const cause of causes) {
    const c = cause as { reason?: unknown; message?: unknown };
    if (c.reason === "ExitCode" && typeof c.message === "string" && /^\d+$/.test(c.message)) {
      return { code: Number(c.message), message };
    }
  }
  return { code: undefined, message };
}
