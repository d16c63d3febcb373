// A schema-driven protobuf → JSON decoder for Kubernetes API objects: each message type is a small table of field
// number → JSON name and type, transcribed from k8s.io/api and apimachinery generated.proto.
//
// The JSON it produces is what Go's encoding/json would print for the same object: scalars that are not pointers
// (`optional` in Go terms is a *T) are dropped when zero, as `omitempty` drops them; pointer scalars keep a zero
// value; message fields are always kept (a Go struct is never omitted), so `resources: {}` and `strategy: {}` appear
// as they do in `kubectl create --dry-run -o yaml`. Fail closed: a field number the table does not know, carrying a
// non-zero value, is 415 UnsupportedMediaType naming the message and field, never silently dropped.

import { type Field, Message, WIRE_BYTES, WIRE_VARINT } from "../auth/protowire.ts";
import { failure, StatusError } from "../status.ts";

/** Scalar kinds, and the apimachinery types with a custom JSON form. */
export type Scalar = "string" | "int" | "bool" | "bytes" | "quantity" | "intOrString" | "time" | "rawJson";

/** A field: its JSON name and type (a scalar, or the name of another message in the schema table). */
export interface FieldSpec {
  name: string;
  type: Scalar | `msg:${string}`;
  /** repeated field → JSON array */
  list?: boolean;
  /** map<string, T> → JSON object (entries are messages {1: key, 2: value}) */
  map?: boolean;
  /** a Go pointer (or a field without omitempty): a zero value is kept, not dropped */
  ptr?: boolean;
  /** an embedded Go struct: its fields are merged into the parent's JSON object */
  inline?: boolean;
}

export type MessageSchema = Record<number, FieldSpec>;
export type SchemaTable = Record<string, MessageSchema>;

type Json = Record<string, unknown>;

/** Compact field-spec constructors, so the tables read like the .proto files they come from. */
export const str = (name: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type: "string",
  ...flags,
});
export const int = (name: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type: "int",
  ...flags,
});
export const bool = (name: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type: "bool",
  ...flags,
});
export const strs = (name: string): FieldSpec => ({ name, type: "string", list: true });
export const strMap = (name: string): FieldSpec => ({ name, type: "string", map: true });
export const msg = (name: string, message: string, flags: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type: `msg:${message}`,
  ...flags,
});
export const msgs = (name: string, message: string): FieldSpec => msg(name, message, { list: true });

function unsupported(message: string): StatusError {
  return new StatusError(failure("UnsupportedMediaType", message));
}

function isZeroField(f: Field): boolean {
  return f.wireType === WIRE_VARINT ? f.varint === 0 : f.bytes.length === 0;
}

function expectWire(f: Field, wireType: number, where: string) {
  if (f.wireType !== wireType) {
    throw StatusError.of(
      "BadRequest",
      `malformed protobuf body: field ${f.number} of ${where} has wire type ${f.wireType}, expected ${wireType}`,
    );
  }
}

function timeOf(m: Message): string | undefined {
  const seconds = m.int(1) ?? 0;
  if (seconds === 0) return undefined; // Go's zero time marshals as null; leave it out.
  return new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Decodes one value of a field; `undefined` means "absent in the JSON form". */
function scalarValue(table: SchemaTable, spec: FieldSpec, f: Field, where: string): unknown {
  switch (spec.type) {
    case "string":
      expectWire(f, WIRE_BYTES, where);
      return f.bytes.toString("utf8");
    case "bytes":
      expectWire(f, WIRE_BYTES, where);
      return f.bytes.toString("base64");
    case "rawJson":
      expectWire(f, WIRE_BYTES, where);
      return f.bytes.length === 0 ? undefined : JSON.parse(new Message(f.bytes).string(1) ?? "null");
    case "int":
      expectWire(f, WIRE_VARINT, where);
      return f.varint;
    case "bool":
      expectWire(f, WIRE_VARINT, where);
      return f.varint !== 0;
    case "quantity":
      expectWire(f, WIRE_BYTES, where);
      return new Message(f.bytes).string(1) ?? "";
    case "intOrString": {
      expectWire(f, WIRE_BYTES, where);
      const m = new Message(f.bytes);
      return (m.int(1) ?? 0) === 1 ? (m.string(3) ?? "") : (m.int(2) ?? 0);
    }
    case "time":
      expectWire(f, WIRE_BYTES, where);
      return timeOf(new Message(f.bytes));
    default:
      expectWire(f, WIRE_BYTES, where);
      return decodeMessage(table, spec.type.slice(4), f.bytes);
  }
}

function isZero(value: unknown): boolean {
  return value === "" || value === 0 || value === false;
}

/** Decodes the bytes of message `name` into its JSON object, as Go's encoding/json would print it. */
export function decodeMessage(table: SchemaTable, name: string, bytes: Buffer): Json {
  const schema = table[name];
  if (!schema) throw unsupported(`the simulator has no protobuf schema for ${name}`);
  const out: Json = {};
  for (const f of new Message(bytes).fields) {
    const spec = schema[f.number];
    if (!spec) {
      if (isZeroField(f)) continue;
      throw unsupported(
        `the simulator does not decode protobuf field ${f.number} of ${name}; send application/json`,
      );
    }
    if (spec.map) {
      expectWire(f, WIRE_BYTES, name);
      const entry = new Message(f.bytes);
      const key = entry.string(1) ?? "";
      const valueField = entry.fields.findLast((e) => e.number === 2);
      const value = valueField
        ? scalarValue(table, spec, valueField, `${name}.${spec.name}`)
        : spec.type === "string" || spec.type === "bytes"
          ? ""
          : {};
      const map = (out[spec.name] ?? {}) as Json;
      map[key] = value;
      out[spec.name] = map;
      continue;
    }
    const value = scalarValue(table, spec, f, name);
    if (spec.list) {
      if (value !== undefined) {
        const list = (out[spec.name] as unknown[] | undefined) ?? [];
        list.push(value);
        out[spec.name] = list;
      }
      continue;
    }
    if (spec.inline && value && typeof value === "object") {
      Object.assign(out, value);
      continue;
    }
    if (value === undefined || (!spec.ptr && isZero(value))) {
      delete out[spec.name];
      continue;
    }
    out[spec.name] = value;
  }
  return out;
}
