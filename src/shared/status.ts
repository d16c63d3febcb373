// The one error shape on the wire: the Kubernetes `Status` object.
//
// kubectl prints `Error from server (<Reason>): <message>`, so every refusal — from the simulator, the gateway, the
// admin API or the MCP tools — is built here, with the reason and HTTP code taken from one catalogue.

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
