// Sessions: requests grouped by who sent them. A kubectl invocation is one session (its `Kubectl-Session` UUID); an
// MCP session is one (hook: `mcpSession`); anything else joins the identity's session on that cluster until it has
// been idle for the configured window. Each session counts its requests and decisions, lists the actions the gateway
// decoded, the kubectl commands the client claimed, and flags a claim the decoded actions contradict.
//
// Security stance: the grouping key always includes the authenticated identity and the cluster, so a client that
// sends another identity's Kubectl-Session value gets a session of its own, never theirs. Counters live in memory
// and are saved in batches (at most every second, and at close); a crash loses at most a second of counts, never
// an audit event — every request event carries its session id in the chained audit log.
//
// A new session is chained as `session.opened`, one forgotten after its idle window as `session.closed` (with its
// counts). Both notes are written in the background: grouping is bookkeeping, never a reason to hold a request.
// A gateway shutting down closes nothing: a window or kubectl session may go on after the restart.
import { randomUUID } from "node:crypto";
import type { AuditNote } from "../audit/types.ts";
import { claimMismatch } from "./claims.ts";
import type { SessionKind, SessionRecord, SessionStore } from "./types.ts";

export interface SessionInput {
  identityId: string;
  identityName: string;
  cluster: string;
  kubectlSession?: string | undefined;
  kubectlCommand?: string | undefined;
  /** Set by the MCP endpoint: its session (or call) id groups the tool calls. */
  mcpSession?: string | undefined;
}

export type Effect = "allow" | "deny" | "review";

const MAX_COMMANDS = 50;
const MAX_HEADER = 200;

/** The grouping key and kind of a request: pure, table-tested. */
export function sessionKey(input: SessionInput): { kind: SessionKind; key: string } {
  const who = `${input.identityId}\u0000${input.cluster}`;
  const clean = (v: string | undefined) => (v ?? "").trim().slice(0, MAX_HEADER);
  const mcp = clean(input.mcpSession);
  if (mcp) return { kind: "mcp", key: `mcp\u0000${who}\u0000${mcp}` };
  const kubectl = clean(input.kubectlSession);
  if (kubectl) return { kind: "kubectl", key: `kubectl\u0000${who}\u0000${kubectl}` };
  return { kind: "window", key: `window\u0000${who}` };
}

export class SessionTracker {
  readonly #store: SessionStore;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #onError: (err: Error) => void;
  readonly #note: ((note: AuditNote) => Promise<unknown>) | undefined;
  readonly #live = new Map<string, SessionRecord>();
  readonly #byId = new Map<string, SessionRecord>();
  readonly #pending = new Map<string, Promise<SessionRecord>>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    store: SessionStore,
    opts: {
      idleMs: number;
      now?: () => number;
      onError?: (err: Error) => void;
      flushMs?: number;
      /** Chains session.opened / session.closed. */
      note?: (note: AuditNote) => Promise<unknown>;
    },
  ) {
    this.#note = opts.note;
    this.#store = store;
    this.#idleMs = opts.idleMs;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
    this.#timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** The session this request belongs to (created when there is none); counts the request. */
  async assign(input: SessionInput): Promise<string> {
    const { kind, key } = sessionKey(input);
    const now = this.#now();
    let session = this.#live.get(key);
    if (session && kind === "window" && now - Date.parse(session.lastSeenAt) > this.#idleMs) {
      this.#live.delete(key);
      this.#chain("session.closed", session, "airlock");
      session = undefined;
    }
    if (!session) session = await this.#open(key, kind, input, now);
    session.lastSeenAt = new Date(Math.max(now, Date.parse(session.lastSeenAt))).toISOString();
    session.requests++;
    const command = (input.kubectlCommand ?? "").trim().slice(0, MAX_HEADER);
    if (command && !session.commands.includes(command) && session.commands.length < MAX_COMMANDS)
      session.commands.push(command);
    this.#dirty.add(session.id);
    return session.id;
  }

  /**
   * Counts the policy decision of a request of this session, and what the gateway decoded it as: the session's
   * summary lists decoded actions, and a `Kubectl-Command` claim they contradict is flagged.
   */
  decided(
    sessionId: string,
    effect: Effect,
    decoded?: { action: string; resource: string; claim: string | undefined },
  ): void {
    const session = this.#byId.get(sessionId);
    if (!session) return;
    session.decisions[effect]++;
    if (decoded) {
      const what = `${decoded.action} ${decoded.resource}`.slice(0, MAX_HEADER);
      session.actions ??= [];
      const actions = session.actions;
      if (!actions.includes(what) && actions.length < MAX_COMMANDS) actions.push(what);
      const mismatch = claimMismatch(
        decoded.claim?.trim().slice(0, MAX_HEADER),
        decoded.action,
        decoded.resource,
      );
      session.claimMismatches ??= [];
      const flagged = session.claimMismatches;
      if (mismatch && !flagged.includes(mismatch) && flagged.length < MAX_COMMANDS) flagged.push(mismatch);
    }
    this.#dirty.add(sessionId);
  }

  #open(key: string, kind: SessionKind, input: SessionInput, now: number): Promise<SessionRecord> {
    // Concurrent first requests of one key share one lookup, so they land in one session.
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = (async () => {
        const since =
          kind === "window" ? new Date(now - this.#idleMs).toISOString() : new Date(0).toISOString();
        let found: SessionRecord | undefined;
        try {
          found = await this.#store.sessions.findRecent(key, since);
        } catch (err) {
          this.#onError(err as Error);
        }
        const at = new Date(now).toISOString();
        const session: SessionRecord = found ?? {
          id: randomUUID(),
          kind,
          key,
          identityId: input.identityId,
          identityName: input.identityName,
          cluster: input.cluster,
          startedAt: at,
          lastSeenAt: at,
          requests: 0,
          decisions: { allow: 0, deny: 0, review: 0 },
          commands: [],
          actions: [],
          claimMismatches: [],
        };
        this.#live.set(key, session);
        this.#byId.set(session.id, session);
        if (!found) this.#chain("session.opened", session, session.identityName);
        return session;
      })().finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Saves changed sessions and forgets idle ones. */
  async flush(): Promise<void> {
    const ids = [...this.#dirty];
    this.#dirty.clear();
    for (const id of ids) {
      const session = this.#byId.get(id);
      if (!session) continue;
      try {
        await this.#store.sessions.save(structuredClone(session));
      } catch (err) {
        this.#dirty.add(id);
        this.#onError(err as Error);
      }
    }
    const now = this.#now();
    for (const [key, session] of this.#live) {
      if (this.#dirty.has(session.id)) continue;
      if (now - Date.parse(session.lastSeenAt) > this.#idleMs) {
        this.#live.delete(key);
        this.#byId.delete(session.id);
        this.#chain("session.closed", session, "airlock");
      }
    }
  }

  #chain(type: "session.opened" | "session.closed", s: SessionRecord, actor: string): void {
    if (!this.#note) return;
    const detail: Record<string, unknown> = {
      kind: s.kind,
      identityId: s.identityId,
      identity: s.identityName,
      cluster: s.cluster,
      startedAt: s.startedAt,
    };
    if (type === "session.closed") {
      detail.lastSeenAt = s.lastSeenAt;
      detail.requests = s.requests;
      detail.decisions = { ...s.decisions };
      detail.reason = "idle";
    }
    this.#note({ type, actor, subject: s.id, detail }).catch((err: Error) => this.#onError(err));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
