// A minimal protobuf wire-format reader: varints and length-delimited fields, nothing more.
//
// kubectl's typed clients POST review and token bodies as protobuf; the simulator decodes just enough of them to
// answer. Fail closed: a truncated varint, a length that runs past the buffer or a wire type we do not know throws
// a 400 BadRequest StatusError instead of guessing.
import { StatusError } from "../status.ts";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export interface Field {
  number: number;
  wireType: number;
  /** For varints: the value (exact up to 2^53). */
  varint: number;
  /** For length-delimited fields: the payload; for fixed32/64: the raw bytes. */
  bytes: Buffer;
}

function malformed(why: string): StatusError {
  return StatusError.of("BadRequest", `malformed protobuf body: ${why}`);
}

function readVarint(buf: Buffer, start: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = start; i < buf.length && i < start + 10; i++) {
    const byte = buf[i] as number;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      // A 10-byte varint is a negative int32/int64 in two's complement (protobuf sign-extends them to 64 bits).
      if (i - start === 9) return [Number(BigInt.asIntN(64, readBigVarint(buf, start))), i + 1];
      return [value, i + 1];
    }
  }
  throw malformed("truncated varint");
}

function readBigVarint(buf: Buffer, start: number): bigint {
  let value = 0n;
  for (let i = 0; i < 10; i++) value |= BigInt((buf[start + i] as number) & 0x7f) << BigInt(7 * i);
  return value;
}

/** Splits one message into its fields, in wire order (repeated fields appear several times). */
export function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (number === 0) throw malformed("field number 0");
    pos = afterKey;
    let field: Field;
    switch (wireType) {
      case WIRE_VARINT: {
        const [value, next] = readVarint(buf, pos);
        field = { number, wireType, varint: value, bytes: Buffer.alloc(0) };
        pos = next;
        break;
      }
      case WIRE_BYTES: {
        const [length, next] = readVarint(buf, pos);
        if (next + length > buf.length) throw malformed(`field ${number} runs past the end of the message`);
        field = { number, wireType, varint: 0, bytes: buf.subarray(next, next + length) };
        pos = next + length;
        break;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wireType === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > buf.length) throw malformed(`field ${number} runs past the end of the message`);
        field = { number, wireType, varint: 0, bytes: buf.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      default:
        throw malformed(`unsupported wire type ${wireType} for field ${number}`);
    }
    fields.push(field);
  }
  return fields;
}

/** A decoded message with typed accessors; the last occurrence wins for singular fields, as in protobuf. */
export class Message {
  readonly fields: Field[];
  constructor(buf: Buffer) {
    this.fields = readFields(buf);
  }
  private last(n: number, wireType: number): Field | undefined {
    let found: Field | undefined;
    for (const f of this.fields) {
      if (f.number !== n) continue;
      if (f.wireType !== wireType)
        throw malformed(`field ${n} has wire type ${f.wireType}, expected ${wireType}`);
      found = f;
    }
    return found;
  }
  has(n: number): boolean {
    return this.fields.some((f) => f.number === n);
  }
  bytes(n: number): Buffer | undefined {
    return this.last(n, WIRE_BYTES)?.bytes;
  }
  string(n: number): string | undefined {
    return this.last(n, WIRE_BYTES)?.bytes.toString("utf8");
  }
  strings(n: number): string[] {
    return this.fields
      .filter((f) => f.number === n && f.wireType === WIRE_BYTES)
      .map((f) => f.bytes.toString("utf8"));
  }
  int(n: number): number | undefined {
    return this.last(n, WIRE_VARINT)?.varint;
  }
  bool(n: number): boolean | undefined {
    const v = this.int(n);
    return v === undefined ? undefined : v !== 0;
  }
  message(n: number): Message | undefined {
    const f = this.last(n, WIRE_BYTES);
    return f ? new Message(f.bytes) : undefined;
  }
  messages(n: number): Message[] {
    return this.fields
      .filter((f) => f.number === n && f.wireType === WIRE_BYTES)
      .map((f) => new Message(f.bytes));
  }
}

// Encoding helpers: tests hand-encode fixtures from the .proto field numbers with these.
function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function encodeVarintField(n: number, value: number): Buffer {
  return Buffer.concat([varint(n * 8 + WIRE_VARINT), varint(value)]);
}

export function encodeBytesField(n: number, value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([varint(n * 8 + WIRE_BYTES), varint(bytes.length), bytes]);
}
