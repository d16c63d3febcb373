// Canonical JSON for hashing and signing: object keys sorted by UTF-16 code unit, no whitespace, integers and
// strings exactly as JSON.stringify writes them. For the values audit records hold (strings, safe integers, booleans,
// null, arrays, plain objects) this is RFC 8785 (JCS), so any JCS library reproduces the bytes we hash.
//
// Fail closed: a value that has no single canonical form (undefined, NaN, fractions, bigint, class instances) throws
// rather than being encoded ambiguously — a record we cannot hash reproducibly must not enter the chain.
import { createHash } from "node:crypto";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      // Fractions have several shortest forms across languages; the audit schema only needs integers.
      if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON: ${value} is not a safe integer`);
      return String(value);
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i]);
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new Error("canonical JSON: not a plain object");
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
      const keys = Object.keys(record).sort();
      let out = "{";
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += `${out.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new Error(`canonical JSON: a ${typeof value} cannot be encoded`);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
