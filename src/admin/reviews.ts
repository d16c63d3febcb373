// The admin API's review routes: list and read reviews (with their event trail), approve, deny, and list or revoke
// grants. Mounted by api.ts; the OpenAPI paths for them live here too.
//
// Security stance: the router admits humans and the admin token and refuses agents (auth.ts); who may approve or
// deny a given review is decided by the review service (eligibility.ts: named human reviewers, never the requester),
// so no route can approve on behalf of someone else. Without a review service every route answers 404.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Principal } from "../identity/types.ts";
import { badRequest, notFound } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { parseDurationSeconds } from "../review/duration.ts";
import type { ReviewService } from "../review/service.ts";
import type { ReviewState } from "../review/types.ts";
import { readJsonBody, sendJson } from "./http.ts";

export type ReviewRouteId =
  | "listReviews"
  | "getReview"
  | "approveReview"
  | "denyReview"
  | "listGrants"
  | "revokeGrant";

export const REVIEW_STATES: readonly ReviewState[] = [
  "pending",
  "approved",
  "denied",
  "expired",
  "withdrawn",
  "executed",
];

export const approveRequest = z.strictObject({
  reason: z.string().max(2000).optional(),
  grant: z
    .string()
    .refine((t) => parseDurationSeconds(t) !== undefined, "a duration such as 30m, 1h or 1h30m")
    .optional(),
});

export const denyRequest = z.strictObject({ reason: z.string().min(1, "a denial needs a reason").max(2000) });

const reviewQuery = z.strictObject({
  state: z.enum(REVIEW_STATES as [ReviewState, ...ReviewState[]]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export interface ReviewCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  principal: Principal;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || what}: ${i.message}`);
  throw new StatusError(badRequest(`invalid ${what}: ${problems.join("; ")}`));
}

function singleQuery(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    if (values.length > 1)
      throw new StatusError(badRequest(`query parameter "${key}" is given more than once`));
    query[key] = values[0] ?? "";
  }
  return query;
}

export function reviewHandlers(
  reviews: ReviewService | undefined,
): Record<ReviewRouteId, (call: ReviewCall) => Promise<void>> {
  const service = (): ReviewService => {
    if (!reviews) throw new StatusError(notFound("reviews are not enabled on this gateway"));
    return reviews;
  };
  return {
    async listReviews({ res, url }) {
      const { state, limit } = parse(reviewQuery, singleQuery(url), "review query");
      sendJson(res, 200, { items: await service().list({ limit, ...(state ? { state } : {}) }) });
    },
    async getReview({ res, params }) {
      const id = params.id ?? "";
      const review = await service().get(id);
      sendJson(res, 200, { review, events: await service().store.reviews.events(id) });
    },
    async approveReview({ req, res, params, principal }) {
      const body = parse(approveRequest, await readJsonBody(req), "approval");
      const grantSeconds = body.grant === undefined ? undefined : parseDurationSeconds(body.grant);
      const result = await service().approve(params.id ?? "", principal, {
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        ...(grantSeconds !== undefined ? { grantSeconds } : {}),
      });
      sendJson(res, 200, result);
    },
    async denyReview({ req, res, params, principal }) {
      const body = parse(denyRequest, await readJsonBody(req), "denial");
      sendJson(res, 200, { review: await service().deny(params.id ?? "", principal, body.reason) });
    },
    async listGrants({ res, url }) {
      const query = parse(
        z.strictObject({ active: z.enum(["true", "false"]).optional() }),
        singleQuery(url),
        "grant query",
      );
      const activeAt = query.active === "true" ? { activeAt: new Date().toISOString() } : {};
      // The service ends grants whose approver or requester is gone before listing them (endedReason says why).
      sendJson(res, 200, { items: await service().listGrants(activeAt) });
    },
    async revokeGrant({ res, params, principal }) {
      sendJson(res, 200, await service().revokeGrant(params.id ?? "", principal));
    },
  };
}

export function describeReviewRoute(id: ReviewRouteId, param: string | undefined): string {
  switch (id) {
    case "listReviews":
      return "listing reviews";
    case "getReview":
      return `reading review ${param}`;
    case "approveReview":
      return `approving review ${param}`;
    case "denyReview":
      return `denying review ${param}`;
    case "listGrants":
      return "listing grants";
    case "revokeGrant":
      return `revoking grant ${param}`;
  }
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Status${code}` }]));
const object = { type: "object" };

/** The OpenAPI paths of the review routes (merged into openapi.ts's document). */
export function reviewOpenApiPaths(): Record<string, unknown> {
  const approveSchema = z.toJSONSchema(approveRequest, { io: "input" });
  const denySchema = z.toJSONSchema(denyRequest, { io: "input" });
  return {
    "/airlock/v1/reviews": {
      get: {
        operationId: "listReviews",
        summary: "Reviews, newest first",
        parameters: [
          { name: "state", in: "query", schema: { type: "string", enum: REVIEW_STATES } },
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: { "200": { description: "Reviews", content: json(object) }, ...errors(400, 401, 403) },
      },
    },
    "/airlock/v1/reviews/{id}": {
      get: {
        operationId: "getReview",
        summary: "One review: the request, who asked, the dry-run diff, votes and its event trail",
        parameters: [idParam],
        responses: {
          "200": { description: "The review and its events", content: json(object) },
          ...errors(401, 403, 404),
        },
      },
    },
    "/airlock/v1/reviews/{id}/approve": {
      post: {
        operationId: "approveReview",
        summary:
          "Approve as a named human reviewer (never the requester); optionally grant a time-boxed permission",
        parameters: [idParam],
        requestBody: { required: true, content: json(approveSchema) },
        responses: {
          "200": { description: "Approved", content: json(object) },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    "/airlock/v1/reviews/{id}/deny": {
      post: {
        operationId: "denyReview",
        summary: "Deny with a reason the requester sees",
        parameters: [idParam],
        requestBody: { required: true, content: json(denySchema) },
        responses: {
          "200": { description: "Denied", content: json(object) },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    "/airlock/v1/grants": {
      get: {
        operationId: "listGrants",
        summary: "Grants given with approvals, newest first",
        parameters: [{ name: "active", in: "query", schema: { type: "string", enum: ["true", "false"] } }],
        responses: { "200": { description: "Grants", content: json(object) }, ...errors(400, 401, 403) },
      },
    },
    "/airlock/v1/grants/{id}/revoke": {
      post: {
        operationId: "revokeGrant",
        summary: "Revoke a grant at once",
        parameters: [idParam],
        responses: { "200": { description: "Revoked", content: json(object) }, ...errors(401, 403, 404) },
      },
    },
  };
}
