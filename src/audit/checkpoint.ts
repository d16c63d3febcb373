// Signed checkpoints: "record <chainSeq> of the audit chain has hash <chainHash>", signed with the audit key, each
// linked to the one before by hash. A checkpoint makes everything up to it unforgeable without the private key: an
// attacker who rewrites rows and recomputes every hash still cannot produce a matching signature.
//
// `buildCheckpoint` and `checkCheckpoint` are pure; the Checkpointer below decides when to write one (every N
// records or M seconds, and at shutdown) and never throws into the request path — a failed checkpoint is logged and
// retried at the next trigger.
import type { KeyObject } from "node:crypto";
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { CHAIN_VERSION, type ChainHead, GENESIS_HASH } from "./chain.ts";
import { type SigningKey, signText, verifyText } from "./signing.ts";
import type { AuditCheckpoint, AuditStore } from "./types.ts";

export function buildCheckpoint(
  previous: AuditCheckpoint | undefined,
  head: ChainHead,
  time: string,
  reason: AuditCheckpoint["reason"],
  key: SigningKey,
): AuditCheckpoint {
  const seq = (previous?.seq ?? 0) + 1;
  const prevHash = previous ? sha256Hex(previous.body) : GENESIS_HASH;
  const fields = { chainSeq: head.seq, chainHash: head.hash, time, reason, keyId: key.keyId, prevHash };
  const body = canonicalJson({ v: CHAIN_VERSION, seq, ...fields });
  return { seq, ...fields, body, signature: signText(key.privateKey, body) };
}

/** Checks one checkpoint's signature, its columns against its signed body, and its link to the previous one. */
export function checkCheckpoint(
  cp: AuditCheckpoint,
  previous: AuditCheckpoint | undefined,
  publicKey: KeyObject,
): { ok: true } | { ok: false; message: string } {
  if (!verifyText(publicKey, cp.body, cp.signature)) {
    return {
      ok: false,
      message: "its signature does not verify with this public key (altered, or signed by another key)",
    };
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(cp.body) as Record<string, unknown>;
  } catch {
    return { ok: false, message: "its body is not JSON" };
  }
  const same =
    body.seq === cp.seq &&
    body.chainSeq === cp.chainSeq &&
    body.chainHash === cp.chainHash &&
    body.time === cp.time &&
    body.reason === cp.reason &&
    body.prevHash === cp.prevHash;
  if (!same) return { ok: false, message: "its columns differ from its signed body (altered)" };
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (cp.seq !== expectedSeq)
    return { ok: false, message: `checkpoints ${expectedSeq}..${cp.seq - 1} were removed` };
  const expectedPrev = previous ? sha256Hex(previous.body) : GENESIS_HASH;
  if (cp.prevHash !== expectedPrev)
    return { ok: false, message: "it does not link to the checkpoint before it" };
  // A retention seal names an older record than the last periodic checkpoint; every other kind moves forward.
  if (previous && cp.reason !== "retention" && cp.chainSeq < previous.chainSeq) {
    return { ok: false, message: "it goes back in the chain" };
  }
  return { ok: true };
}

export interface CheckpointerOptions {
  store: AuditStore;
  key: SigningKey;
  everyRecords: number;
  everySeconds: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** Writes periodic checkpoints; serialises them so two triggers never race for the same checkpoint seq. */
export class Checkpointer {
  readonly #opts: CheckpointerOptions;
  readonly #now: () => number;
  #lastChainSeq = -1;
  /** The newest checkpoint; null = not read yet (undefined = there is none). */
  #last: AuditCheckpoint | undefined | null = null;
  #running: Promise<AuditCheckpoint | undefined> = Promise.resolve(undefined);
  #timer: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;

  constructor(opts: CheckpointerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  start(): void {
    this.#unwatch = this.#opts.store.audit.watch((head) => {
      if (this.#lastChainSeq >= 0 && head.seq - this.#lastChainSeq >= this.#opts.everyRecords)
        void this.checkpoint("periodic");
    });
    this.#timer = setInterval(() => void this.checkpoint("periodic"), this.#opts.everySeconds * 1000);
    this.#timer.unref();
    void this.checkpoint("periodic");
  }

  /** Writes a checkpoint at the current head unless the last one already covers it; resolves with what it wrote. */
  checkpoint(reason: AuditCheckpoint["reason"]): Promise<AuditCheckpoint | undefined> {
    this.#running = this.#running.then(async () => {
      try {
        const { store, key } = this.#opts;
        const head = await store.audit.head();
        // The newest checkpoint is cached: listing all of them every minute would grow without bound.
        if (this.#last === null) {
          const list = await store.audit.checkpoints();
          this.#last = list[list.length - 1];
        }
        const last = this.#last;
        this.#lastChainSeq = Math.max(this.#lastChainSeq, last?.chainSeq ?? 0);
        if (head.seq === 0 || (last && last.chainSeq >= head.seq)) return undefined;
        const cp = buildCheckpoint(last, head, new Date(this.#now()).toISOString(), reason, key);
        await store.audit.appendCheckpoint(cp);
        this.#last = cp;
        this.#lastChainSeq = cp.chainSeq;
        return cp;
      } catch (err) {
        this.#last = null;
        this.#opts.onError?.(err);
        return undefined;
      }
    });
    return this.#running;
  }

  /** Runs `work` while no checkpoint is being written (retention seals take the next checkpoint seq). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#running.then(work).finally(() => {
      this.#last = null; // the work may have appended a checkpoint (a retention seal)
    });
    this.#running = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Stops the triggers and writes a last checkpoint, so a clean shutdown leaves the whole chain signed. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#unwatch?.();
    await this.checkpoint("shutdown");
  }
}
