// Reading and decoding request bodies: the size limit, the media types kube-apiserver accepts, and the protobuf
// envelope (handed to the auth module's decoder).
//
// Failure stance: over 3 MiB → 413 before the rest is read; an unknown Content-Type → 415; unparseable JSON or YAML
// → 400. A body is never half-accepted.
import type { IncomingMessage } from "node:http";
import { StatusError } from "../status.ts";
import { parseYamlAsApiserver } from "./yaml.ts";

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const tooLarge = () =>
    StatusError.of("RequestEntityTooLarge", "Request entity too large: limit is 3145728");
  if (Number(req.headers["content-length"] ?? 0) > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_TYPES: Record<string, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+cbor": "apply",
};

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function patchTypeOf(contentType: string | undefined): PatchType {
  const type = PATCH_TYPES[mediaType(contentType)];
  if (!type || mediaType(contentType) === "application/apply-patch+cbor") {
    throw StatusError.of(
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${Object.keys(
        PATCH_TYPES,
      )
        .filter((t) => !t.endsWith("cbor"))
        .join(", ")}`,
    );
  }
  return type;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw StatusError.of(
      "BadRequest",
      `the body of the request could not be decoded: ${(err as Error).message}`,
    );
  }
}

function parseYamlText(text: string): unknown {
  try {
    return parseYamlAsApiserver(text);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw StatusError.of("BadRequest", `error decoding YAML: ${(err as Error).message}`);
  }
}

/** Decodes a DeleteOptions body (JSON or YAML, as the apiserver negotiates it). */
export function decodeOptionsBody(contentType: string | undefined, body: Buffer): unknown {
  const type = mediaType(contentType);
  if (type === "application/yaml") return parseYamlText(body.toString("utf8"));
  if (type === "application/json" || type === "") return parseJson(body.toString("utf8"));
  throw StatusError.of(
    "UnsupportedMediaType",
    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
  );
}

/** Decodes a create/update body; `decodeProtobuf` reads the `k8s\0` envelope. */
export function decodeObjectBody(
  contentType: string | undefined,
  body: Buffer,
  decodeProtobuf: (b: Buffer) => unknown,
): unknown {
  const type = mediaType(contentType);
  if (type === "application/json" || (type === "" && body.length > 0))
    return parseJson(body.toString("utf8"));
  if (type === "application/yaml") return parseYamlText(body.toString("utf8"));
  if (type === "application/vnd.kubernetes.protobuf") return decodeProtobuf(body);
  throw StatusError.of(
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
  );
}

/** Decodes a PATCH body according to its patch type (apply configurations are YAML, of which JSON is a subset). */
export function decodePatchBody(type: PatchType, body: Buffer): unknown {
  const text = body.toString("utf8");
  return type === "apply" ? parseYamlText(text) : parseJson(text);
}

/** A body that must be a JSON object (not an array, string or null). */
export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw StatusError.of("BadRequest", `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
