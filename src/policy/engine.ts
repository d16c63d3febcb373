// The policy engine the gateway runs: the current compiled set, the decider over it, rate-limit state, and reloads.
//
// Failure stance: the first load must succeed or the gateway does not start. Later, a change on disk is loaded in
// full and swapped in atomically only if every document is valid; otherwise the error is logged and the last good
// set stays in force — never an empty or partial one. Evaluation is synchronous and never touches the disk.
//
// Audit: once the gateway hands the engine a note writer (`recordReloadsWith`), the set in force is chained as
// `policy.loaded`, every accepted reload as `policy.reloaded` — written before the new set is swapped in, so a
// policy change that cannot be recorded does not take effect (the reload counts as refused) — and every refused
// reload as `policy.reload-refused`, after the fact (nothing changed, so a failed note is only logged).

import { createHash } from "node:crypto";
import type { AuditNote } from "../audit/types.ts";
import type { Principal } from "../identity/types.ts";
import type { KubeRequest } from "../kube/request.ts";
import {
  type CollectionVerdict,
  decideCollection,
  type ItemVerdict,
  itemFilter,
  type ObjectFacts,
} from "./collections.ts";
import type { Decision } from "./decision.ts";
import { decideCounting, objectNeedsWithEffects } from "./effects.ts";
import { type EvalOptions, type Evaluation, evaluate, RuleIndex } from "./evaluate.ts";
import { type LineVerdict, stdinInspector } from "./inspect.ts";
import { compileSources, type LoadOptions, type LoadResult, readSources, type SourceText } from "./load.ts";
import type { ObjectNeeds } from "./objects.ts";
import { type Limiter, RateLimiter } from "./ratelimit.ts";
import type { LoadedSet, RawDocument } from "./types.ts";
import { type PolicyWatcher, watchPolicyFiles } from "./watch.ts";

export interface PolicyLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PolicySummary {
  name: string;
  file: string;
  document: number;
  managed: boolean;
  rules: { name: string; effect: string }[];
}

/** What is loaded, for the admin API and for other engines (masking reads `maskingProfiles`). */
export interface LoadedDocuments {
  policies: PolicySummary[];
  maskingProfiles: RawDocument[];
  files: string[];
  loadedAt: string;
}

export type ReloadOutcome = { ok: true; set: LoadedSet } | { ok: false; errors: string[] };

/** decide and decideCollection over a limiter that may answer later (a database round trip). */
export interface CountedDecisions {
  decide(principal: Principal, kube: KubeRequest): Decision | Promise<Decision>;
  decideCollection(
    principal: Principal,
    kube: KubeRequest,
    decision: Decision,
    objects: readonly ObjectFacts[],
  ): CollectionVerdict | Promise<CollectionVerdict>;
}

export interface PolicyEngine {
  decide(principal: Principal, kube: KubeRequest): Decision;
  /** The objects (stored, resulting) that rules which could match `kube` read: load them before `decide`. */
  objectNeeds(principal: Principal, kube: KubeRequest): ObjectNeeds;
  /** For an allowed list or watch: the per-item filter, or undefined when no rule tells items apart (objects.ts). */
  itemFilter(
    principal: Principal,
    kube: KubeRequest,
    decision: Decision,
  ): ((obj: unknown) => ItemVerdict) | undefined;
  /** For an allowed deletecollection: every object it would remove decided, and counted for rate limits. */
  decideCollection(
    principal: Principal,
    kube: KubeRequest,
    decision: Decision,
    objects: readonly ObjectFacts[],
  ): CollectionVerdict;
  evaluate(
    principal: Principal,
    kube: KubeRequest,
    opts?: Omit<EvalOptions, "limiter"> & { now?: number },
  ): Evaluation;
  /** For an allowed exec whose shell reads stdin: the per-line checker of `exec.stdin: inspect` rules (inspect.ts). */
  stdinInspector(principal: Principal, kube: KubeRequest): ((line: string) => LineVerdict) | undefined;
  current(): LoadedSet;
  loadedDocuments(): LoadedDocuments;
  /** The errors of the last refused reload, until a reload succeeds. */
  lastError(): string[] | undefined;
  reload(): Promise<ReloadOutcome>;
  /** Called after every successful reload with the new set; returns an unsubscribe function. */
  onReload(listener: (set: LoadedSet) => void): () => void;
  /** Chains reloads from now on through `write`, starting with a `policy.loaded` note of the set in force. */
  recordReloadsWith(write: NoteWriter): Promise<void>;
  readonly sources: LoadOptions;
  close(): void;
  /**
   * The same decisions counted by another limiter: the one several replicas share (shared-limiter.ts). The set in
   * force is read at each call, so reloads apply.
   */
  withLimiter(limiter: Limiter): CountedDecisions;
}

/** The digest of what a load read: every file's name, origin and bytes, in order. */
function sourcesDigest(sources: readonly SourceText[]): string {
  const h = createHash("sha256");
  for (const s of sources) h.update(`${s.file}\0${s.managed ? 1 : 0}\0${s.text.length}\0${s.text}\0`);
  return h.digest("hex");
}

export type NoteWriter = (note: AuditNote) => Promise<unknown>;

/** The note of a set that is (about to be) in force. */
export function policySetNote(type: "policy.loaded" | "policy.reloaded", set: LoadedSet): AuditNote {
  return {
    type,
    actor: "airlock",
    subject: "policies",
    detail: {
      files: set.files,
      policies: set.policies.map((p) => p.name),
      maskingProfiles: set.maskingProfiles.length,
      loadedAt: set.loadedAt,
    },
  };
}

export function refusedNote(errors: string[]): AuditNote {
  return {
    type: "policy.reload-refused",
    actor: "airlock",
    subject: "policies",
    detail: { errors: errors.length, firstError: errors[0]?.slice(0, 500) ?? null },
  };
}

export interface EngineOptions extends LoadOptions {
  log?: PolicyLog;
  now?: () => number;
  /** Watch the files and reload on change (default true). */
  watch?: boolean;
  pollIntervalMs?: number;
  debounceMs?: number;
}

export function summarize(set: LoadedSet): LoadedDocuments {
  return {
    policies: set.policies.map((p) => ({
      name: p.name,
      file: p.source.file,
      document: p.source.index,
      managed: p.source.managed,
      rules: p.rules.map((r) => ({ name: r.name, effect: r.effect })),
    })),
    maskingProfiles: set.maskingProfiles,
    files: set.files,
    loadedAt: set.loadedAt,
  };
}

/** An engine over a fixed set: no files, no watching (CLI `policy test`, tests, what-if). */
export function engineForSet(set: LoadedSet, now: () => number = Date.now): PolicyEngine {
  const index = new RuleIndex(set);
  const limiter = new RateLimiter();
  return {
    objectNeeds: (principal, kube) => objectNeedsWithEffects(index, principal, kube, now()),
    decide: (principal, kube) => decideCounting(index, limiter, principal, kube, now()),
    itemFilter: (principal, kube, decision) => itemFilter(index, principal, kube, decision, now),
    decideCollection: (principal, kube, decision, objects) =>
      decideCollection(index, limiter, principal, kube, decision, objects, now()),
    withLimiter: (shared) => ({
      decide: (principal, kube) => decideCounting(index, shared, principal, kube, now()),
      decideCollection: (principal, kube, decision, objects) =>
        decideCollection(index, shared, principal, kube, decision, objects, now()),
    }),
    evaluate: (principal, kube, opts = {}) =>
      evaluate(index, { principal, kube, now: opts.now ?? now() }, opts),
    stdinInspector: (principal, kube) => stdinInspector(index, principal, kube, now),
    current: () => set,
    loadedDocuments: () => summarize(set),
    lastError: () => undefined,
    reload: async () => ({ ok: true, set }),
    onReload: () => () => {},
    recordReloadsWith: async () => {},
    sources: { paths: [] },
    close() {},
  };
}

export async function openPolicyEngine(
  opts: EngineOptions,
): Promise<{ ok: true; engine: PolicyEngine } | { ok: false; errors: string[] }> {
  const now = opts.now ?? Date.now;
  const sources: LoadOptions = {
    paths: opts.paths,
    ...(opts.managedDir ? { managedDir: opts.managedDir } : {}),
  };
  const firstRead = await readSources(sources);
  const first = firstRead.errors.length
    ? ({ ok: false, errors: firstRead.errors } as const)
    : compileSources(firstRead.sources, now());
  if (!first.ok) return first;
  // Idle is idle: a reload whose files hold the same bytes as the set in force (or as the last refused one) changes
  // nothing, logs nothing and writes no audit note — file events and polls fire for many reasons besides an edit.
  let inForceDigest = sourcesDigest(firstRead.sources);
  let refusedDigest: string | undefined;
  let index = new RuleIndex(first.set);
  let failure: string[] | undefined;
  const limiter = new RateLimiter();
  const listeners = new Set<(set: LoadedSet) => void>();
  let running: Promise<ReloadOutcome> | undefined;
  let again = false;
  let writeNote: NoteWriter | undefined;

  const refuse = async (errors: string[]): Promise<ReloadOutcome> => {
    failure = errors;
    opts.log?.error(
      { errors },
      "policy change refused: the last good policies stay in force until the errors are fixed",
    );
    try {
      await writeNote?.(refusedNote(errors));
    } catch (err) {
      opts.log?.error({ err: (err as Error).message }, "audit note of a refused policy reload failed");
    }
    return { ok: false, errors };
  };

  const loadOnce = async (): Promise<ReloadOutcome> => {
    let result: LoadResult;
    let digest: string | undefined;
    try {
      const read = await readSources(sources);
      digest = read.errors.length ? `errors:${read.errors.join("\n")}` : sourcesDigest(read.sources);
      if (digest === inForceDigest && failure === undefined) return { ok: true, set: index.set };
      if (digest === refusedDigest && failure !== undefined) return { ok: false, errors: failure };
      result = read.errors.length ? { ok: false, errors: read.errors } : compileSources(read.sources, now());
    } catch (err) {
      result = { ok: false, errors: [`policy load failed: ${(err as Error).message}`] };
    }
    if (!result.ok) {
      refusedDigest = digest;
      return refuse(result.errors);
    }
    try {
      await writeNote?.(policySetNote("policy.reloaded", result.set));
    } catch (err) {
      return refuse([`the new policies could not be recorded in the audit log: ${(err as Error).message}`]);
    }
    index = new RuleIndex(result.set);
    failure = undefined;
    if (digest !== undefined) inForceDigest = digest;
    refusedDigest = undefined;
    opts.log?.info(
      { policies: result.set.policies.map((p) => p.name), files: result.set.files.length },
      "policies reloaded",
    );
    for (const l of listeners) {
      try {
        l(result.set);
      } catch (err) {
        opts.log?.error({ err: (err as Error).message }, "policy reload listener failed");
      }
    }
    return { ok: true, set: result.set };
  };

  // Reloads never overlap; a change during a reload triggers one more afterwards.
  const reload = (): Promise<ReloadOutcome> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let outcome = await loadOnce();
      while (again) {
        again = false;
        outcome = await loadOnce();
      }
      running = undefined;
      return outcome;
    })();
    return running;
  };

  const watcher: PolicyWatcher | undefined =
    opts.watch === false
      ? undefined
      : await watchPolicyFiles({
          paths: opts.paths,
          ...(opts.managedDir ? { managedDir: opts.managedDir } : {}),
          pollIntervalMs: opts.pollIntervalMs ?? 2000,
          debounceMs: opts.debounceMs ?? 100,
          onChange: () => void reload(),
        });

  const engine: PolicyEngine = {
    objectNeeds: (principal, kube) => objectNeedsWithEffects(index, principal, kube, now()),
    decide: (principal, kube) => decideCounting(index, limiter, principal, kube, now()),
    itemFilter: (principal, kube, decision) => itemFilter(index, principal, kube, decision, now),
    decideCollection: (principal, kube, decision, objects) =>
      decideCollection(index, limiter, principal, kube, decision, objects, now()),
    withLimiter: (shared) => ({
      decide: (principal, kube) => decideCounting(index, shared, principal, kube, now()),
      decideCollection: (principal, kube, decision, objects) =>
        decideCollection(index, shared, principal, kube, decision, objects, now()),
    }),
    evaluate: (principal, kube, o = {}) => evaluate(index, { principal, kube, now: o.now ?? now() }, o),
    // The set in force when the exec starts decides its lines (a reload does not change a running session's rules).
    stdinInspector: (principal, kube) => stdinInspector(index, principal, kube, now),
    current: () => index.set,
    loadedDocuments: () => summarize(index.set),
    lastError: () => failure,
    reload,
    onReload(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async recordReloadsWith(write) {
      await write(policySetNote("policy.loaded", index.set));
      writeNote = write;
    },
    sources,
    close() {
      watcher?.close();
    },
  };
  return { ok: true, engine };
}
