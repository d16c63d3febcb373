// A WebSocket frame reader (RFC 6455 §5.2) over raw socket bytes, for accounting a port-forward tunnel the gateway
// relays as bytes: it yields the payloads of data frames (unmasked), across arbitrary chunk boundaries.
//
// Read-only and bounded: it never changes what is relayed; a frame header it cannot read, or a payload above the
// limit, stops it for good (the caller then notes the stream as unreadable).

const MAX_PAYLOAD = 64 * 1024 * 1024;

export class WsFrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #failed: string | undefined;

  get failed(): string | undefined {
    return this.#failed;
  }

  /** Feeds bytes; returns the data frames' payloads completed by them (opcodes 0, 1, 2; control frames skipped). */
  push(chunk: Buffer): Buffer[] {
    if (this.#failed) return [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const opcode = (b[0] as number) & 0x0f;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(MAX_PAYLOAD)) {
          this.#failed = "a WebSocket frame above the accounting limit";
          return out;
        }
        len = Number(big);
        at = 10;
      }
      if (len > MAX_PAYLOAD) {
        this.#failed = "a WebSocket frame above the accounting limit";
        return out;
      }
      const keyAt = at;
      if (masked) at += 4;
      if (b.length < at + len) break;
      if (opcode <= 2) {
        const payload = Buffer.from(b.subarray(at, at + len));
        if (masked) {
          for (let i = 0; i < payload.length; i++)
            payload[i] = (payload[i] as number) ^ (b[keyAt + (i & 3)] as number);
        }
        out.push(payload);
      }
      this.#buf = b.subarray(at + len);
    }
    return out;
  }
}
