// Live streams by identity, so that revoking an identity closes its open watches, log follows and exec sessions at
// once (invariant 9). Every forwarded request registers a closer for its lifetime; revocation calls them all.
import type { Status } from "../kube/status.ts";

export interface LiveStream {
  id: string;
  identityId: string;
  kind: string;
  /**
   * Ends the stream. With a `status` (shutdown) it is ended as the protocol allows — a watch gets an ERROR event
   * carrying it, an exec or attach gets it on its error channel — instead of being cut.
   */
  close(reason: string, status?: Status): void;
  /** The credential it was opened with, so revoking that one credential closes it too. */
  credentialId?: string;
  /** Epoch ms after which the stream's credential is no longer valid; `closeExpired` closes it then. */
  expiresAtMs?: number;
  /** The session credential it was opened with, and the human that session acts for (delegation), if any. */
  sessionId?: string;
  onBehalfOf?: string;
}

export class StreamRegistry {
  readonly #byIdentity = new Map<string, Map<string, LiveStream>>();

  add(stream: LiveStream): () => void {
    let streams = this.#byIdentity.get(stream.identityId);
    if (!streams) {
      streams = new Map();
      this.#byIdentity.set(stream.identityId, streams);
    }
    streams.set(stream.id, stream);
    return () => {
      const current = this.#byIdentity.get(stream.identityId);
      current?.delete(stream.id);
      if (current?.size === 0) this.#byIdentity.delete(stream.identityId);
    };
  }

  /** Closes every live stream of the identity; returns how many were closed. */
  closeIdentity(identityId: string, reason: string): number {
    const streams = this.#byIdentity.get(identityId);
    if (!streams) return 0;
    this.#byIdentity.delete(identityId);
    for (const stream of streams.values()) stream.close(reason);
    return streams.size;
  }

  /** Closes the live streams opened with one credential; returns how many were closed. */
  closeCredential(credentialId: string, reason: string): number {
    return this.#closeWhere(
      (s) => s.credentialId === credentialId,
      () => reason,
    );
  }

  /**
   * Closes the streams opened on behalf of `human` (by `identityId`'s sessions, or anyone's when omitted): a
   * delegation was revoked or expired, or one side of it was cut off. Returns how many were closed.
   */
  closeOnBehalfOf(human: string, identityId: string | undefined, reason: string): number {
    return this.#closeWhere(
      (s) => s.onBehalfOf === human && (identityId === undefined || s.identityId === identityId),
      () => reason,
    );
  }

  /** Closes streams whose credential or identity expired by `nowMs` (the expiry timer calls this every second). */
  closeExpired(nowMs: number): number {
    return this.#closeWhere(
      (s) => s.expiresAtMs !== undefined && s.expiresAtMs <= nowMs,
      () => "its credential or identity expired",
    );
  }

  /** The identity's live streams (the objects themselves: an expiry change moves their `expiresAtMs`). */
  ofIdentity(identityId: string): LiveStream[] {
    return [...(this.#byIdentity.get(identityId)?.values() ?? [])];
  }

  /** Brings the expiry of an identity's streams forward to `atMs` (an identity's expiry was shortened). */
  shortenExpiry(identityId: string, atMs: number): void {
    for (const s of this.#byIdentity.get(identityId)?.values() ?? []) {
      if (s.expiresAtMs === undefined || s.expiresAtMs > atMs) s.expiresAtMs = atMs;
    }
  }

  #closeWhere(match: (s: LiveStream) => boolean, reason: (s: LiveStream) => string, status?: Status): number {
    let n = 0;
    for (const [identityId, streams] of [...this.#byIdentity]) {
      for (const [id, stream] of [...streams]) {
        if (!match(stream)) continue;
        streams.delete(id);
        stream.close(reason(stream), status);
        n++;
      }
      if (streams.size === 0) this.#byIdentity.delete(identityId);
    }
    return n;
  }

  /** Closes every live stream and plain request (shutdown, once the grace period is over). */
  closeAll(reason: string, status?: Status): void {
    this.#closeWhere(
      () => true,
      () => reason,
      status,
    );
  }

  /**
   * Shutdown: ends the long-running streams (watch, log follow, exec, attach, port-forward) and held requests with
   * `status`; plain requests are left to finish. Returns how many were closed.
   */
  closeLongRunning(reason: string, status: Status): number {
    return this.#closeWhere(
      (s) => s.kind !== "request",
      () => reason,
      status,
    );
  }

  count(): number {
    let n = 0;
    for (const streams of this.#byIdentity.values()) n += streams.size;
    return n;
  }
}
