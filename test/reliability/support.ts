// Shared by the reliability tests: every audit event of a store, page by page (a page is capped at 1000), and the
// ones that have no completion record yet.
import type { AuditEvent } from "../../src/audit/types.ts";
import type { Store } from "../../src/store/types.ts";

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
  let open: string[] = [];
  for (let i = 0; i < 40; i++) {
    open = (await allAuditEvents(store))
      .filter((e) => e.completedAt === null)
      .map((e) => `${e.method} ${e.path} (${e.id})`);
    if (open.length === 0) return open;
    await new Promise((r) => setTimeout(r, 100));
  }
  return open;
}
