// Tagged results for the classify stage: expected failures (a malformed or ambiguous request) are values, not
// exceptions, so the pipeline's one boundary turns them into a Kubernetes Status response.

import { badRequest as refuseAsBadRequest } from "../../kube/refusals.ts";
import type { Status } from "../../kube/status.ts";

export type Result<T> = { ok: true; value: T } | { ok: false; status: Status };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** 400 BadRequest; every classify refusal says what was wrong, prefixed so operators can grep for it. */
export function badRequest<T>(message: string): Result<T> {
  return { ok: false, status: refuseAsBadRequest(`airlock: ${message}`) };
}

/** "refused ambiguous request path: <why>" — the one wording for path hygiene refusals. */
export function ambiguousPath<T>(why: string): Result<T> {
  return badRequest(`refused ambiguous request path: ${why}`);
}

export function ambiguousQuery<T>(why: string): Result<T> {
  return badRequest(`refused ambiguous query string: ${why}`);
}
