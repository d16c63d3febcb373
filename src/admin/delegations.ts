// The admin API's delegation routes (issue 15): a human grants an identity the right to act on their behalf
// (`airlock identity delegate alice --to demo-agent --for 8h`), lists and revokes such grants.
//
// Security stance: consent is the human's: a delegation from alice is created by alice herself or by an admin
// (airlock:admins or the admin token), never by the agent (agents are refused by the router) nor by another human.
// Revoking is open to the same people; a revocation closes the agent's live streams and held requests that act for
// the human (on every replica) and withdraws the reviews asked for under it. Names in paths pass the router's
// identity-name check; bodies are validated strictly.
import { z } from "zod";
import type { NoteLog } from "../identity/audit.ts";
import { createDelegation, DEFAULT_DELEGATION_SECONDS, revokeDelegation } from "../identity/delegation.ts";
import type { Delegation, Principal } from "../identity/types.ts";
import { badRequest, forbiddenHere, notFound, unauthorized } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { parseDurationSeconds } from "../review/duration.ts";
import type { ReviewService } from "../review/service.ts";
import type { Store } from "../store/types.ts";
import { ADMINS_GROUP } from "./auth.ts";
import { readJsonBody, sendJson } from "./http.ts";
import { identityName } from "./schemas.ts";

export type DelegationRouteId = "createDelegation" | "listDelegations" | "revokeDelegation";
export const DELEGATION_ROUTE_IDS: readonly DelegationRouteId[] = [
  "createDelegation",
  "listDelegations",
  "revokeDelegation",
];

// "read" admits humans and the admin and refuses agents; whose delegation it is is checked in the handler.
export const DELEGATION_ROUTES = [
  {
    id: "createDelegation",
    method: "POST",
    path: "/airlock/v1/identities/{name}/delegations",
    access: "read",
  },
  { id: "listDelegations", method: "GET", path: "/airlock/v1/delegations", access: "read" },
  { id: "revokeDelegation", method: "POST", path: "/airlock/v1/delegations/{id}/revoke", access: "read" },
] as const;

export const delegationRequest = z.strictObject({
  /** The identity that may act for the human. */
  to: identityName,
  /** How long: a duration such as 30m, 8h or 7d (default 8h). */
  for: z
    .string()
    .refine((t) => parseDurationSeconds(t) !== undefined, "a duration such as 30m, 8h or 7d")
    .optional(),
});

const listQuery = z.strictObject({
  human: identityName.optional(),
  agent: identityName.optional(),
  active: z.enum(["true", "false"]).optional(),
});

interface DelegationCall {
  req: import("node:http").IncomingMessage;
  res: import("node:http").ServerResponse;
  url: URL;
  params: Record<string, string>;
  principal: Principal | undefined;
}

function isAdmin(p: Principal): boolean {
  return p.kind === "admin" || p.groups.includes(ADMINS_GROUP);
}

/** Only the human themself or an admin speaks for a human's consent. */
function mayActFor(principal: Principal | undefined, human: string, what: string): Principal {
  if (!principal) throw new StatusError(unauthorized("Unauthorized: a delegation needs a valid token"));
  if (isAdmin(principal) || (principal.kind === "human" && principal.name === human)) return principal;
  throw new StatusError(
    forbiddenHere(
      `${what} is forbidden: only ${human} or an admin (group ${ADMINS_GROUP}) may do that; "${principal.name}" is neither`,
    ),
  );
}

export function delegationHandlers(opts: {
  store: Store;
  log: NoteLog;
  /** Closes what runs under a delegation (streams, held requests), on every replica. */
  cutOff?: ((delegation: Delegation, why: string) => void) | undefined;
  reviews?: ReviewService | undefined;
  now?: () => number;
}): Record<DelegationRouteId, (call: DelegationCall) => Promise<void>> {
  const { store, log } = opts;
  const now = opts.now ?? Date.now;
  return {
    async createDelegation(call) {
      const human = call.params.name ?? "";
      const principal = mayActFor(call.principal, human, `delegating the right to act for "${human}"`);
      const body = call.req.headers["content-length"] === "0" ? {} : await readJsonBody(call.req);
      const parsed = delegationRequest.safeParse(body ?? {});
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
        throw new StatusError(badRequest(`invalid delegation: ${problems.join("; ")}`));
      }
      const seconds =
        parsed.data.for === undefined
          ? DEFAULT_DELEGATION_SECONDS
          : (parseDurationSeconds(parsed.data.for) ?? DEFAULT_DELEGATION_SECONDS);
      const delegation = await createDelegation(store, {
        human,
        agent: parsed.data.to,
        seconds,
        actor: principal.name,
        nowMs: now(),
      });
      sendJson(call.res, 201, delegation);
    },
    async listDelegations(call) {
      const query: Record<string, string> = {};
      for (const key of new Set(call.url.searchParams.keys())) {
        const values = call.url.searchParams.getAll(key);
        if (values.length > 1)
          throw new StatusError(badRequest(`query parameter "${key}" is given more than once`));
        query[key] = values[0] ?? "";
      }
      const parsed = listQuery.safeParse(query);
      if (!parsed.success)
        throw new StatusError(badRequest(`invalid delegation query: ${parsed.error.message}`));
      const { human, agent, active } = parsed.data;
      const items = await store.delegations.list({
        ...(human ? { human } : {}),
        ...(agent ? { agent } : {}),
        ...(active === "true" ? { activeAt: new Date(now()).toISOString() } : {}),
      });
      sendJson(call.res, 200, { items });
    },
    async revokeDelegation(call) {
      const id = call.params.id ?? "";
      const found = await store.delegations.get(id);
      if (!found)
        throw new StatusError(notFound(`delegation ${id} not found`, { name: id, kind: "delegations" }));
      const principal = mayActFor(call.principal, found.human, `revoking delegation ${id}`);
      const delegation = await revokeDelegation(store, id, principal.name, log);
      const why = `the delegation from ${delegation.human} to ${delegation.agent} was revoked by ${principal.name}`;
      opts.cutOff?.(delegation, why);
      await opts.reviews
        ?.withdrawFor({ onBehalfOf: { agentId: delegation.agentId, human: delegation.human } }, why)
        .catch((err: unknown) =>
          log.error({ delegation: id, err: (err as Error).message }, "withdrawing reviews failed"),
        );
      sendJson(call.res, 200, delegation);
    },
  };
}

export function describeDelegationRoute(id: DelegationRouteId, param: string | undefined): string {
  switch (id) {
    case "createDelegation":
      return `delegating the right to act for "${param}"`;
    case "listDelegations":
      return "listing delegations";
    case "revokeDelegation":
      return `revoking delegation ${param}`;
  }
}

export function delegationOpenApiPaths(): Record<string, Record<string, unknown>> {
  const schema = z.toJSONSchema(delegationRequest, { io: "input" }) as Record<string, unknown>;
  delete schema.$schema;
  const fail = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/Status${c}` }]));
  const answer = (description: string) => ({
    description,
    content: { "application/json": { schema: { type: "object" } } },
  });
  return {
    "/airlock/v1/identities/{name}/delegations": {
      post: {
        operationId: "createDelegation",
        summary:
          "The human NAME lets another identity act on their behalf (onBehalfOf in its session credentials) until it expires or is revoked; by NAME or an admin",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        requestBody: { required: true, content: { "application/json": { schema } } },
        responses: { "201": answer("The delegation"), ...fail(400, 401, 403, 422) },
      },
    },
    "/airlock/v1/delegations": {
      get: {
        operationId: "listDelegations",
        summary: "Delegations, newest first; filter by human, agent, active=true",
        parameters: ["human", "agent", "active"].map((name) => ({
          name,
          in: "query",
          schema: { type: "string" },
        })),
        responses: { "200": answer("{ items: Delegation[] }"), ...fail(400, 401, 403) },
      },
    },
    "/airlock/v1/delegations/{id}/revoke": {
      post: {
        operationId: "revokeDelegation",
        summary:
          "End a delegation (by its human or an admin): sessions minted under it stop working and their live streams and held requests close",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": answer("The delegation"), ...fail(401, 403, 404) },
      },
    },
  };
}
