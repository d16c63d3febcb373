// Reads a request body before the decision, bounded: policy and the audit record must see exactly the bytes that
// will be forwarded, and an oversized body is refused (413) instead of being streamed past the checks. How the bytes
// are read (media types, YAML 1.1, strict JSON) is classify/body.ts.
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";

export type BodyResult =
  | { ok: true; body: Buffer | undefined }
  | { ok: false; tooLarge: boolean; timedOut?: boolean; error: string };

/**
 * `limit` in bytes (limits.maxRequestBodyBytes); `timeoutSeconds` (limits.requestTimeoutSeconds), when given, bounds
 * how long the body may take to arrive, so a client sending it a byte at a time cannot hold a request open.
 */
export function readBody(
  req: IncomingMessage | Http2ServerRequest,
  limit: number,
  timeoutSeconds?: number,
): Promise<BodyResult> {
  const method = req.method ?? "GET";
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    req.resume();
    return Promise.resolve({
      ok: false,
      tooLarge: true,
      error: `the request body of ${declared} bytes exceeds ${limit} bytes`,
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
    const timer = timeoutSeconds
      ? setTimeout(() => {
          if (done) return;
          done = true;
          req.pause();
          resolve({
            ok: false,
            tooLarge: false,
            timedOut: true,
            error: `the request body did not arrive within ${timeoutSeconds} s (${size} bytes received)`,
          });
        }, timeoutSeconds * 1000)
      : undefined;
    timer?.unref();
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        clearTimeout(timer);
        resolve({ ok: false, tooLarge: true, error: `the request body exceeds ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok: true, body: size ? Buffer.concat(chunks, size) : undefined });
    });
    req.on("error", (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok: false, tooLarge: false, error: err.message });
    });
  });
}
