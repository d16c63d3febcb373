// metav1.Status, the simulator's own: the body kube-apiserver sends with every error (apimachinery
// pkg/api/errors). kubectl prints `Error from server (<reason>): <message>`, and client-go keys its retries and
// conflict handling on the reason and code, so each reason is sent with the code the apiserver uses for it.
// Written for the simulator alone: it shares no code with the gateway's refusals, so it can check them.

export interface StatusCause {
  type?: string;
  reason?: string;
  message?: string;
  field?: string;
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
  metadata: { resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** The StatusReason values the simulator answers with, and the HTTP code kube-apiserver pairs with each. */
const CODES = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type Reason = keyof typeof CODES;

/** A Failure Status; `code` overrides the reason's usual code (as the apiserver does for a few 500-class answers). */
export function failure(reason: Reason, message: string, details?: StatusDetails, code?: number): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code: code ?? CODES[reason],
  };
}

/** Thrown inside the simulator's handlers; the server turns it into the HTTP answer in one place. */
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
