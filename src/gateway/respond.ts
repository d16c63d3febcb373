// The one boundary where refusals become responses: a Kubernetes Status as JSON, on an HTTP response or, for an
// upgrade request that is refused before any protocol switch, written raw on the socket and then closed.
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { Status } from "../shared/status.ts";

export type AnyResponse = ServerResponse | Http2ServerResponse;

/** writeHead on either response kind (their overloads do not unify in TypeScript). */
export function writeHead(res: AnyResponse, code: number, headers: Record<string, string | string[]>): void {
  (res as ServerResponse).writeHead(code, headers);
}

/** True when the client's side of the response is closed or destroyed (nothing more can be written to it). */
export function clientGone(res: AnyResponse): boolean {
  const r = res as {
    destroyed?: boolean;
    closed?: boolean;
    writableEnded?: boolean;
    stream?: { destroyed?: boolean; closed?: boolean };
  };
  // An HTTP/2 response has neither `destroyed` nor `closed`: its stream says whether the client reset it or left.
  const stream = r.stream;
  return (
    r.destroyed === true ||
    r.closed === true ||
    r.writableEnded === true ||
    stream?.destroyed === true ||
    stream?.closed === true
  );
}

export function sendStatus(
  res: AnyResponse,
  status: Status,
  extraHeaders: Record<string, string> = {},
): number {
  const body = Buffer.from(JSON.stringify(status));
  if (!res.headersSent) {
    writeHead(res, status.code, {
      "content-type": "application/json",
      "content-length": String(body.length),
      "cache-control": "no-store",
      ...extraHeaders,
    });
  }
  res.end(body);
  return body.length;
}

const REASON_PHRASES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  413: "Payload Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Answers an upgrade request with a plain HTTP response carrying a Status, then closes the connection. */
export function sendStatusOnSocket(socket: Duplex, status: Status): number {
  const body = Buffer.from(JSON.stringify(status));
  const head =
    `HTTP/1.1 ${status.code} ${REASON_PHRASES[status.code] ?? "Error"}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${body.length}\r\n` +
    "Cache-Control: no-store\r\n" +
    "Connection: close\r\n\r\n";
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
  else socket.destroy();
  return body.length;
}
