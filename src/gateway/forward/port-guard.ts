// forward (port-forward): the per-stream port check. A port-forward tunnel is relayed as bytes, but every connection
// kubectl opens inside it names its pod port in a SPDY SYN_STREAM header; the rule that allowed the port-forward names
// the ports it may reach (`ports:`), so each stream to another port is refused.
//
// Fail closed: the client's bytes are held until the WebSocket frame that carries them is complete and checked, so a
// SYN_STREAM to an unlisted port never reaches the cluster (frame bytes before it may; the cluster cannot act on a
// partial SPDY frame). A frame, SPDY frame or header block that cannot be read ends the tunnel. In the channel
// protocol (client libraries) the ports are those of the query, which the decision already checked; without them the
// tunnel is refused.
import { SpdyFrameReader } from "../../shared/spdy/frames.ts";
import { decodeHeaderBlock, HeaderInflater } from "../../shared/spdy/headers.ts";

/** A WebSocket frame above this is refused rather than buffered. */
const MAX_FRAME = 16 * 1024 * 1024;

export type GuardResult = { ok: true; forward: Buffer } | { ok: false; reason: string };

export interface PortGuard {
  /** Client bytes in; the bytes that may be forwarded now (whole checked frames), or the refusal. */
  check(chunk: Buffer): GuardResult;
}

export function portGuard(
  protocol: string,
  allowed: readonly number[],
  queryPorts: readonly number[],
): PortGuard {
  if (!protocol.startsWith("SPDY/3.1+")) {
    const outside = queryPorts.filter((p) => !allowed.includes(p));
    const reason =
      queryPorts.length === 0
        ? "a port-forward in the channel protocol must name its ports in the query"
        : outside.length
          ? `port ${outside.join(", ")} is not allowed (allowed: ${allowed.join(", ")})`
          : undefined;
    return { check: (chunk) => (reason ? { ok: false, reason } : { ok: true, forward: chunk }) };
  }
  return new SpdyPortGuard(allowed);
}

class SpdyPortGuard implements PortGuard {
  readonly #allowed: readonly number[];
  readonly #spdy = new SpdyFrameReader();
  readonly #inflater = new HeaderInflater();
  #pending: Buffer = Buffer.alloc(0);
  /** Chunks received after #pending, joined only once the next frame can be whole (no copy per chunk). */
  #tail: Buffer[] = [];
  #tailBytes = 0;
  /** Bytes the next frame needs in all (its header says so), or 0 when not known yet. */
  #need = 0;
  #failed: string | undefined;

  constructor(allowed: readonly number[]) {
    this.#allowed = allowed;
  }

  check(chunk: Buffer): GuardResult {
    if (this.#failed) return { ok: false, reason: this.#failed };
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    if (this.#pending.length + this.#tailBytes < this.#need) return { ok: true, forward: Buffer.alloc(0) };
    this.#pending = Buffer.concat([this.#pending, ...this.#tail]);
    this.#tail = [];
    this.#tailBytes = 0;
    this.#need = 0;
    const ready: Buffer[] = [];
    for (;;) {
      const frame = this.#nextFrame();
      if (frame === "incomplete") break;
      if (typeof frame === "string") return this.#fail(frame);
      if (frame.payload) {
        const refused = this.#inspect(frame.payload);
        if (refused) return this.#fail(refused);
      }
      ready.push(frame.raw);
    }
    return { ok: true, forward: ready.length === 1 ? (ready[0] as Buffer) : Buffer.concat(ready) };
  }

  #fail(reason: string): GuardResult {
    this.#failed = reason;
    this.#pending = Buffer.alloc(0);
    this.#tail = [];
    return { ok: false, reason };
  }

  /** The next whole WebSocket frame: its raw bytes and, for data frames, the unmasked payload. */
  #nextFrame(): { raw: Buffer; payload?: Buffer } | "incomplete" | string {
    const b = this.#pending;
    if (b.length < 2) return "incomplete";
    const opcode = (b[0] as number) & 0x0f;
    const masked = ((b[1] as number) & 0x80) !== 0;
    let len = (b[1] as number) & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return "incomplete";
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return "incomplete";
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_FRAME)) return "a WebSocket frame above the port-forward limit";
      len = Number(big);
      at = 10;
    }
    if (len > MAX_FRAME) return "a WebSocket frame above the port-forward limit";
    const maskAt = at;
    if (masked) at += 4;
    if (b.length < at + len) {
      this.#need = at + len;
      return "incomplete";
    }
    const raw = b.subarray(0, at + len);
    this.#pending = b.subarray(at + len);
    if (opcode > 2) return { raw }; // control frames carry no tunnel bytes
    const payload = Buffer.from(b.subarray(at, at + len));
    if (masked)
      for (let i = 0; i < payload.length; i++)
        payload[i] = (payload[i] as number) ^ (b[maskAt + (i % 4)] as number);
    return { raw, payload };
  }

  /** Feeds tunnel bytes to the SPDY reader; a refusal reason when a stream names a port outside the list. */
  #inspect(bytes: Buffer): string | undefined {
    const { frames, error } = this.#spdy.push(bytes);
    for (const f of frames) {
      if (f.type !== "syn_stream" && f.type !== "headers") continue;
      // Every client header block advances the shared zlib context, so each is inflated.
      const inflated = this.#inflater.inflate(f.headerBlock);
      if (!inflated.ok) return `a port-forward header block could not be read: ${inflated.error}`;
      const decoded = decodeHeaderBlock(inflated.block);
      if (!decoded.ok) return `a port-forward header block could not be read: ${decoded.error}`;
      if (f.type === "headers") continue;
      const ports = decoded.headers.get("port") ?? [];
      const text = ports.length === 1 ? (ports[0] as string) : "";
      const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
      if (!this.#allowed.includes(port)) {
        return `a connection to port ${text || "(none)"} is not allowed (allowed: ${this.#allowed.join(", ")})`;
      }
    }
    return error ? `the port-forward stream could not be read: ${error}` : undefined;
  }
}
