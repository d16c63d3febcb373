// What policy decides about a request, and the obligations an allowing decision attaches.

/** What a `review` rule requires before the request may run (DESIGN.md invariant 8). */
export interface ReviewRequirement {
  /** Humans who may approve: by identity name or group. Never the requester. */
  approvers: { identities: string[]; groups: string[] };
  /** Distinct approvals needed. */
  approvals: number;
  /** wait: hold the request until decided or timed out; retry: answer 403 at once, succeed once after approval. */
  mode: "wait" | "retry";
  timeoutSeconds: number;
}

/** Obligations an allowing decision attaches to the response path. */
export interface Obligations {
  /** The MaskingProfile applied to every response of this request; undefined = no masking. */
  mask?: string;
  /** Port-forward: the pod ports the deciding rule allows; every stream to another port is refused. */
  ports?: readonly number[];
}

export type Decision =
  | ({ effect: "allow"; policy: string; rule: string } & Obligations)
  | {
      effect: "deny";
      policy: string;
      rule: string;
      message: string;
      /** Set when the denial is a rate limit: answered 429 with Retry-After. */
      retryAfterSeconds?: number;
      /** The rate limit could not be counted (the shared store is down): answered 503 with Retry-After. */
      unavailable?: boolean;
      /** The rule requires a justification the request lacks (or has in another form): says how to give one. */
      justification?: true;
    }
  | ({
      effect: "review";
      policy: string;
      rule: string;
      message?: string;
      review: ReviewRequirement;
    } & Obligations);
