// The Kubernetes remote-command channel protocol (exec, attach and the WebSocket port-forward) as pure functions:
// subprotocol choice, frame encoding and decoding, and the Status objects the error channel carries.
//
// Every WebSocket message is binary: byte 0 is the channel, the rest is payload (§2.8). v5 adds channel 255, a
// half-close whose one-byte payload names the channel. Failure stance: an unknown or empty frame decodes to
// `{ kind: "invalid" }` and the session ignores it; nothing here throws on peer input.

/** The remote-command subprotocols the simulator speaks, best first. */
export const EXEC_PROTOCOLS = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
] as const;

/** The WebSocket port-forward subprotocols: SPDY tunnelled in WebSocket (kubectl ≥ 1.31) and the channel form. */
export const PORTFORWARD_SPDY_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
export const PORTFORWARD_CHANNEL_PROTOCOLS = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "channel.k8s.io",
] as const;

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/**
 * The first protocol the client offered that we support: the client's order wins, as in kube-apiserver's wsstream
 * (it walks the offered list and takes the first it knows). Undefined when there is no overlap.
 */
export function chooseProtocol(offered: Iterable<string>, supported: readonly string[]): string | undefined {
  for (const p of offered) {
    if (supported.includes(p)) return p;
  }
  return undefined;
}

/** What a protocol version can do. */
export interface ProtocolFeatures {
  /** Channel 255 half-close frames (v5). */
  close: boolean;
  /** Channel 4 resize (v3+). */
  resize: boolean;
  /** The error channel carries a metav1.Status JSON (v4+) instead of a plain message. */
  statusJson: boolean;
}

export function protocolFeatures(protocol: string): ProtocolFeatures {
  const version = /^v(\d+)\./.exec(protocol)?.[1];
  const n = version === undefined ? 1 : Number(version);
  return { close: n >= 5, resize: n >= 3, statusJson: n >= 4 };
}

export function encodeFrame(channel: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const frame = Buffer.allocUnsafe(1 + body.length);
  frame[0] = channel;
  frame.set(body, 1);
  return frame;
}

export function encodeClose(channel: number): Buffer {
  return Buffer.from([CHANNEL.close, channel]);
}

export type InboundFrame =
  | { kind: "data"; channel: number; payload: Buffer }
  | { kind: "close"; channel: number }
  | { kind: "invalid"; why: string };

/** Decodes one binary client message. Payload is a view on the message, not a copy. */
export function decodeFrame(message: Buffer, features: ProtocolFeatures): InboundFrame {
  if (message.length === 0) return { kind: "invalid", why: "empty message" };
  const channel = message[0] as number;
  if (channel === CHANNEL.close) {
    if (!features.close) return { kind: "invalid", why: "close frame before v5" };
    const target = message[1];
    if (target === undefined) return { kind: "invalid", why: "close frame without a channel" };
    return { kind: "close", channel: target };
  }
  return { kind: "data", channel, payload: message.subarray(1) };
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** Parses a resize payload `{"Width":100,"Height":30}\n`; undefined for anything that is not two sane sizes. */
export function parseResize(payload: Buffer): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  const ok = (n: unknown): n is number =>
    typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 65535;
  if (!ok(Width) || !ok(Height)) return undefined;
  return { width: Width, height: Height };
}

/** The error-channel Status as the kubelet writes it (no `code`: it is not an HTTP answer). */
export interface ChannelStatus {
  kind?: "Status";
  apiVersion?: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export function exitStatus(argv: readonly string[], exitCode: number): ChannelStatus {
  if (exitCode === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: command '${argv.join(" ")}' exited with ${exitCode}: `,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** What the runtime says when the command cannot be started; kubectl prints `error: <message>` and exits 1. */
export function startFailureStatus(detail: string): ChannelStatus {
  const message = `error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    code: 500,
    details: { causes: [{ message }] },
  };
}

/**
 * The bytes for the error channel in the negotiated protocol: JSON Status on v4+, the bare message before (and
 * nothing at all for success, which is how v1–v3 signal it).
 */
export function encodeStatusPayload(status: ChannelStatus, features: ProtocolFeatures): Buffer | undefined {
  if (features.statusJson) return Buffer.from(JSON.stringify(status), "utf8");
  if (status.status === "Success") return undefined;
  return Buffer.from(status.message ?? "error", "utf8");
}
