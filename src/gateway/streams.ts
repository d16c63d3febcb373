// Live streams by identity, so that revoking an identity closes its open watches, log follows and exec sessions at
// once (invariant 9). Every forwarded request registers a closer for its lifetime; revocation calls them all.

export interface LiveStream {
  id: string;
  identityId: string;
  kind: string;
  close(reason: string): void;
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

  /** Closes every live stream (shutdown). */
  closeAll(reason: string): void {
    for (const identityId of [...this.#byIdentity.keys()]) this.closeIdentity(identityId, reason);
  }

  count(): number {
    let n = 0;
    for (const streams of this.#byIdentity.values()) n += streams.size;
    return n;
  }
}
