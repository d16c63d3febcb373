// Reads a request body before the decision, bounded: policy and the audit record must see exactly the bytes that
// will be forwarded, and an oversized body is refused (413) instead of being streamed past the checks.
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { parse as parseYaml } from "yaml";

export type BodyResult =
  | { ok: true; body: Buffer | undefined }
  | { ok: false; tooLarge: boolean; error: string };

export function readBody(req: IncomingMessage | Http2ServerRequest, limit: number): Promise<BodyResult> {
  const method = req.method ?? "GET";
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    req.resume();
    return Promise.resolve({
      ok: false,
      tooLarge: true,
      error: `request body of ${declared} bytes exceeds ${limit}`,
    });
  }
  if (
    !["POST", "PUT", "PATCH", "DELETE"].includes(method) &&
    !req.headers["content-length"] &&
    !req.headers["transfer-encoding"]
  ) {
    return Promise.resolve({ ok: true, body: undefined });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ ok: false, tooLarge: true, error: `request body exceeds ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve({ ok: true, body: size ? Buffer.concat(chunks, size) : undefined });
    });
    req.on("error", (err) => {
      if (done) return;
      done = true;
      resolve({ ok: false, tooLarge: false, error: err.message });
    });
  });
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The parsed body of a write, for policy and audit. JSON and YAML bodies must parse (fail closed: the gateway does not
 * forward what it cannot read as the cluster would); protobuf and other binary bodies pass as `undefined` — they are
 * only sent by kubectl's typed paths (reviews, token requests), and the policy engine treats an unknown body as such.
 */
export function parseBody(body: Buffer | undefined, contentType: string | undefined): ParsedBody {
  if (!body?.length) return { ok: true, value: undefined };
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  try {
    if (type === "application/apply-patch+yaml" || type === "application/yaml") {
      return { ok: true, value: parseYaml(body.toString("utf8")) };
    }
    if (type.endsWith("json")) return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch (err) {
    return {
      ok: false,
      error: `the request body is not valid ${type}: ${(err as Error).message.split("\n")[0]}`,
    };
  }
  return { ok: true, value: undefined };
}
