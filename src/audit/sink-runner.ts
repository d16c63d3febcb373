// Delivers committed audit records to one sink, from the store, in chain order, at least once.
//
// The runner reads from its saved position (store.audit.cursorGet), turns records into lines (a request when its
// completion record is committed, so the line carries the status; notes as they come), batches them, and moves the
// position only after the sink accepted the batch. Failures are retried with exponential backoff; meanwhile
// requests go on untouched — the runner only ever reads the store and is woken by its commit notifications.

import { REQUEST, REQUEST_COMPLETED } from "./chain.ts";
import { type ExportFormat, noteLine, requestLine, toK8sEvent } from "./export.ts";
import type { AuditSink } from "./sinks.ts";
import type { AuditEvent, AuditRecord, AuditStore } from "./types.ts";

export interface SinkRunnerOptions {
  store: AuditStore;
  sink: AuditSink;
  /** The delivery position's key in the store; stable across restarts. */
  cursorName: string;
  format: ExportFormat;
  batchSize: number;
  /** A partial batch is sent once its oldest line waited this long (0 = at once). */
  flushMs: number;
  backoffMs?: { initial: number; max: number };
  onError?: (err: unknown, attempt: number) => void;
  now?: () => number;
}

export class SinkRunner {
  readonly #o: SinkRunnerOptions;
  readonly #now: () => number;
  #cursor = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  /** Set by a commit notification, so one that arrives while the runner is busy is not lost. */
  #dirty = false;
  #stopPause: (() => void) | undefined;
  #pendingSince: number | undefined;
  #unwatch: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  delivered = 0;

  constructor(opts: SinkRunnerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  start(): void {
    this.#unwatch = this.#o.store.audit.watch(() => {
      this.#dirty = true;
      this.#wake?.();
    });
    this.#done = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unwatch?.();
    this.#wake?.();
    this.#stopPause?.();
    await this.#done;
    await this.#o.sink.close?.();
  }

  #sleep(ms: number | undefined): Promise<void> {
    if (this.#dirty || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Backoff: only stop() cuts it short, new records do not. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#stopPause = undefined;
        resolve();
      }, ms);
      this.#stopPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #collect(): Promise<{ lines: string[]; lastSeq: number }> {
    const { store, format, batchSize } = this.#o;
    const lines: string[] = [];
    let lastSeq = this.#cursor;
    while (lines.length < batchSize) {
      const records = await store.audit.records({ afterSeq: lastSeq, limit: batchSize * 2 });
      if (records.length === 0) break;
      const ids = records.filter((r) => r.type === REQUEST_COMPLETED).map((r) => r.ref);
      const events = new Map((await store.audit.eventsByIds(ids)).map((e) => [e.id, e]));
      for (const record of records) {
        const line = lineOf(record, format, events);
        if (line) lines.push(line);
        lastSeq = record.seq;
        if (lines.length >= batchSize) break;
      }
    }
    return { lines, lastSeq };
  }

  async #loop(): Promise<void> {
    this.#cursor = await this.#o.store.audit.cursorGet(this.#o.cursorName);
    while (!this.#stopped) {
      let batch: { lines: string[]; lastSeq: number };
      this.#dirty = false;
      try {
        batch = await this.#collect();
      } catch (err) {
        this.#o.onError?.(err, 0);
        await this.#sleep(1000);
        continue;
      }
      if (batch.lastSeq === this.#cursor) {
        await this.#sleep(undefined);
        continue;
      }
      this.#pendingSince ??= this.#now();
      const waited = this.#now() - this.#pendingSince;
      if (batch.lines.length < this.#o.batchSize && waited < this.#o.flushMs && !this.#stopped) {
        await this.#sleep(this.#o.flushMs - waited);
        continue;
      }
      if (batch.lines.length && !(await this.#deliver(batch.lines))) return;
      this.#cursor = batch.lastSeq;
      this.#pendingSince = undefined;
      this.delivered += batch.lines.length;
      await this.#o.store.audit
        .cursorSet(this.#o.cursorName, batch.lastSeq)
        .catch((err) => this.#o.onError?.(err, 0));
    }
  }

  /** Retries until the sink accepts or the runner stops (then the batch is re-sent after the next start). */
  async #deliver(lines: string[]): Promise<boolean> {
    const { initial, max } = this.#o.backoffMs ?? { initial: 500, max: 30_000 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#o.sink.write(lines);
        return true;
      } catch (err) {
        this.#o.onError?.(err, attempt);
        if (this.#stopped) return false;
        await this.#pause(Math.min(max, initial * 2 ** (attempt - 1)));
        if (this.#stopped) return false;
      }
    }
  }
}

function lineOf(
  record: AuditRecord,
  format: ExportFormat,
  events: Map<string, AuditEvent>,
): string | undefined {
  if (record.type === REQUEST) return undefined;
  if (record.type === REQUEST_COMPLETED) {
    const event = events.get(record.ref);
    if (!event) return undefined;
    return JSON.stringify(format === "k8s" ? toK8sEvent(event) : requestLine(event, record));
  }
  return format === "jsonl" ? JSON.stringify(noteLine(record)) : undefined;
}
