// Shared by the reliability tests: every audit event of a store, page by page (a page is capped at 1000), and the
// ones that have no completion record yet.
import type { AuditEvent } from "../../src/audit/types.ts";
import type { Store } from "../../src/store/types.ts";
import { eventually } from "../helpers/eventually.ts";

export async function allAuditEvents(store: Store): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let cursor: string | null = null; ; ) {
    const page = await store.audit.search({ limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return events;
  }
}

/** Waits (up to ~4 s) until every audit event has its completion; returns those still open. */
export async function openAuditEvents(store: Store): Promise<string[]> {
  const open = async () =>
    (await allAuditEvents(store))
      .filter((e) => e.completedAt === null)
      .map((e) => `${e.method} ${e.path} (${e.id})`);
  // The caller asserts on the list, so a timeout here returns what is still open instead of throwing.
  return eventually("every audit event to have its completion", open, {
    until: (o) => o.length === 0,
    timeoutMs: 4000,
  }).catch(open);
}
