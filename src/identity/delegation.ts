// Delegation with consent (issue 15): a human grants an identity (usually an agent) the right to act on their behalf,
// for a bounded time, revocable. Only then may that identity mint a session credential naming the human
// (`onBehalfOf`), and every request with such a session re-checks the delegation (src/identity/authenticators.ts).
//
// Stance: consent is the human's (or an admin's) act, never the agent's; a delegation only ever narrows after it is
// made (expiry, revocation); revoking or disabling either side ends it. Creating one gives access, so its audit note
// is written first (no note, no delegation); ending one takes access away, so it takes effect first and is noted
// after. Pure checks here; who may call is the admin API's decision (src/admin/delegations.ts).
import { randomUUID } from "node:crypto";
import type { AuditStore } from "../audit/types.ts";
import { badRequest, invalid, notFound } from "../kube/refusals.ts";
import { StatusError } from "../kube/status.ts";
import { type NoteLog, noteAfter } from "./audit.ts";
import type { Delegation, DelegationStore, Identity, IdentityStore } from "./types.ts";

export const DEFAULT_DELEGATION_SECONDS = 8 * 3600;
export const MAX_DELEGATION_SECONDS = 30 * 86_400;

type DelegationDeps = {
  identities: Pick<IdentityStore["identities"], "get">;
  delegations: DelegationStore["delegations"];
  audit: Pick<AuditStore["audit"], "note">;
};

function usable(identity: Identity | undefined, nowMs: number): boolean {
  return (
    identity !== undefined &&
    identity.state === "active" &&
    (identity.expiresAt === null || Date.parse(identity.expiresAt) > nowMs)
  );
}

/** How to get a delegation, for refusals of on-behalf-of without one. */
export function delegationHint(human: string, agent: string): string {
  return `${human} (or an admin) can grant one with 'airlock identity delegate ${human} --to ${agent} --for 8h'`;
}

export async function createDelegation(
  store: DelegationDeps,
  input: { human: string; agent: string; seconds: number; actor: string; nowMs: number },
): Promise<Delegation> {
  const { human, agent, seconds, actor, nowMs } = input;
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > MAX_DELEGATION_SECONDS) {
    throw new StatusError(
      badRequest(`a delegation lasts from 1 minute to ${MAX_DELEGATION_SECONDS / 86_400} days`),
    );
  }
  const person = await store.identities.get(human);
  if (person?.kind !== "human" || !usable(person, nowMs)) {
    throw new StatusError(
      invalid(
        `identity "${human}" is not an active human identity; only a human delegates the right to act for them`,
        { name: human, kind: "delegations" },
      ),
    );
  }
  const to = await store.identities.get(agent);
  if (!to || !usable(to, nowMs)) {
    throw new StatusError(
      invalid(`identity "${agent}" is not an active identity; it cannot be delegated to`, {
        name: agent,
        kind: "delegations",
      }),
    );
  }
  if (to.id === person.id) throw new StatusError(invalid(`"${human}" cannot delegate to themself`));
  const delegation: Delegation = {
    id: randomUUID(),
    human: person.name,
    humanId: person.id,
    agent: to.name,
    agentId: to.id,
    createdBy: actor,
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + seconds * 1000).toISOString(),
    revokedAt: null,
    revokedBy: null,
  };
  // Write-ahead: consent to be acted for gives access, so it is chained before it exists.
  await store.audit.note({
    type: "identity.delegation.created",
    actor,
    subject: person.name,
    detail: { delegation: delegation.id, agent: to.name, agentId: to.id, expiresAt: delegation.expiresAt },
  });
  await store.delegations.create(delegation);
  return delegation;
}

/** Revokes a delegation and notes it after; `cutOff` closes what runs under it (streams, held requests, reviews). */
export async function revokeDelegation(
  store: DelegationDeps,
  id: string,
  actor: string,
  log: NoteLog,
  reason?: string,
): Promise<Delegation> {
  const delegation = await store.delegations.revoke(id, actor);
  if (!delegation)
    throw new StatusError(notFound(`delegation ${id} not found`, { name: id, kind: "delegations" }));
  await noteAfter(
    store,
    {
      type: "identity.delegation.revoked",
      actor,
      subject: delegation.human,
      detail: { delegation: delegation.id, agent: delegation.agent, ...(reason ? { reason } : {}) },
    },
    log,
  );
  return delegation;
}

/** Ends every active delegation given by or to an identity that was revoked or disabled; returns them. */
export async function endDelegationsOf(
  store: DelegationDeps,
  identity: Pick<Identity, "name">,
  reason: string,
  log: NoteLog,
  nowMs: number,
): Promise<Delegation[]> {
  const activeAt = new Date(nowMs).toISOString();
  const found = [
    ...(await store.delegations.list({ human: identity.name, activeAt })),
    ...(await store.delegations.list({ agent: identity.name, activeAt })),
  ];
  const ended: Delegation[] = [];
  for (const d of found) ended.push(await revokeDelegation(store, d.id, "airlock", log, reason));
  return ended;
}
