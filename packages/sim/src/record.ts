// The request record: one entry per request the simulator answered, readable at GET /sim/v1/requests (admin only) so
// gateway tests can check what actually reached the "cluster" — under which identity, impersonating whom.
//
// Security stance: entries hold identities, never credentials (no Authorization header, no token). Memory is bounded:
// only the newest `limit` entries are kept.

export interface RequestRecord {
  seq: number;
  time: string;
  user: string;
  groups: string[];
  impersonatedUser?: string;
  impersonatedGroups?: string[];
  method: string;
  path: string;
  verb: string;
  apiGroup: string;
  resource: string;
  namespace: string;
  name: string;
  subresource: string;
  /** 0 while the response has not started. */
  code: number;
  userAgent: string;
}

export interface RequestLog {
  add(entry: Omit<RequestRecord, "seq">): RequestRecord;
  since(seq: number): RequestRecord[];
  clear(): void;
}

export function createRequestLog(limit = 10_000): RequestLog {
  let entries: RequestRecord[] = [];
  let seq = 0;
  return {
    add(entry) {
      const record = { seq: ++seq, ...entry };
      entries.push(record);
      if (entries.length > limit) entries = entries.slice(entries.length - limit);
      return record;
    },
    since: (after) => entries.filter((e) => e.seq > after).map((e) => ({ ...e })),
    clear() {
      entries = [];
    },
  };
}
