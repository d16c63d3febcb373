// The one error shape on the wire: the Kubernetes `Status` object, and the one way it is sent (sendStatus on an HTTP
// response, sendStatusOnSocket on an upgrade request refused before any protocol switch).
//
// kubectl prints `Error from server (<Reason>): <message>`, so every refusal the gateway, the admin API, the console
// or the MCP endpoint sends is a Status built by a named entry of the refusal catalogue (src/kube/refusals.ts, listed
// in docs/errors.md), with the reason and HTTP code taken from there.
import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";

export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
  reason?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never> | { resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Kubernetes StatusReason values and the HTTP code each is sent with. */
export const REASONS = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
  Expired: 410,
} as const;

export type Reason = keyof typeof REASONS;

/** The reason Kubernetes gives a code (client-go reads a 5xx without one as InternalError, a 4xx as BadRequest). */
export function reasonForCode(code: number): Reason {
  for (const [reason, c] of Object.entries(REASONS)) if (c === code) return reason as Reason;
  return code >= 500 ? "InternalError" : "BadRequest";
}

export function isReason(value: unknown): value is Reason {
  return typeof value === "string" && Object.hasOwn(REASONS, value);
}

export function failure(reason: Reason, message: string, details?: StatusDetails, code?: number): Status {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code: code ?? REASONS[reason],
  };
  if (details) status.details = details;
  return status;
}

export function success(details?: StatusDetails): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 };
  if (details) status.details = details;
  return status;
}

/** An exception that carries a Status; thrown inside handlers, turned into a response at one boundary. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.status = status;
  }
  static of(reason: Reason, message: string, details?: StatusDetails): StatusError {
    return new StatusError(failure(reason, message, details));
  }
}

/**
 * The HTTP reason phrase for a status line written by hand (an upgrade refused on the raw socket). 499 is nginx's
 * "client closed request": the gateway records it for a client that left; it is never a code a client reads.
 */
export function reasonPhrase(code: number): string {
  if (code === 499) return "Client Closed Request";
  return STATUS_CODES[code] ?? (code >= 500 ? "Internal Server Error" : "Bad Request");
}

type AnyResponse = ServerResponse | Http2ServerResponse;

/**
 * Sends a Status as the whole answer (when the head is already out, only the body is written). Returns the bytes
 * written. `Cache-Control: no-store` because some admin answers carry a freshly minted token; `nosniff` so a browser
 * never reads the JSON as something else.
 */
export function sendStatus(
  res: AnyResponse,
  status: Status,
  extraHeaders: Record<string, string> = {},
): number {
  const body = Buffer.from(JSON.stringify(status));
  if (!res.headersSent) {
    (res as ServerResponse).writeHead(status.code, {
      "content-type": "application/json",
      "content-length": String(body.length),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...retryAfterHeader(status),
      ...extraHeaders,
    });
  }
  res.end(body);
  return body.length;
}

/** Answers an upgrade request with a plain HTTP response carrying a Status, then closes the connection. */
export function sendStatusOnSocket(socket: Duplex, status: Status): number {
  const body = Buffer.from(JSON.stringify(status));
  const retry = status.details?.retryAfterSeconds;
  const head =
    `HTTP/1.1 ${status.code} ${reasonPhrase(status.code)}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${body.length}\r\n` +
    "Cache-Control: no-store\r\n" +
    (retry ? `Retry-After: ${retry}\r\n` : "") +
    "Connection: close\r\n\r\n";
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
  else socket.destroy();
  return body.length;
}

/** A Status that says when to retry carries it as the Retry-After header too (what HTTP clients read). */
function retryAfterHeader(status: Status): Record<string, string> {
  const retry = status.details?.retryAfterSeconds;
  return retry ? { "retry-after": String(retry) } : {};
}
