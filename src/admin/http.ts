// Request and response plumbing for the admin API: bounded JSON bodies in, JSON and Status out.
//
// Every answer carries `Cache-Control: no-store` because some carry a freshly minted token. Bodies are capped and
// must be declared JSON, so a browser form post (text/plain, urlencoded) cannot drive the API cross-site.
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, tooLarge, unsupportedMediaType } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";

export const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export { sendStatus } from "../kube/status.ts";

/** Reads and parses a JSON request body, refusing what is not declared JSON, too large or malformed. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new StatusError(
      unsupportedMediaType(`the request body must be application/json (got "${type || "none"}")`),
    );
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw bodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw bodyTooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StatusError(badRequest(`the request body is not valid JSON: ${(err as Error).message}`));
  }
}

function bodyTooLarge(): StatusError {
  return new StatusError(tooLarge(`the request body is larger than ${MAX_BODY_BYTES} bytes`));
}
