// The masking Transform for HTTP responses. Small responses are masked whole and sent with an exact count in the
// Warning header and a Content-Length; once the masked output passes `bufferLimit` (a big list) or the response is
// a stream (watch, logs -f), output flows as it is produced and the Warning says values are masked without a count
// (the audit event gets the counts when the stream ends).
//
// `head` settles before the first byte may be written: resolved with the headers to add, or rejected when masking
// failed first — the caller then answers 502 instead. A failure after that destroys the stream: the client sees a
// cut connection, never unmasked bytes.
import { Transform, type TransformCallback } from "node:stream";
import { totalCount } from "../../mask/counts.ts";
import { ItemRefused, type MaskCounts } from "../../mask/index.ts";

export interface ChunkMasker {
  push(chunk: Buffer): Buffer | Buffer[];
  end(): Buffer | Buffer[];
}

export interface MaskHead {
  /** Headers to add to the upstream response's. */
  headers: Record<string, string>;
}

const asList = (b: Buffer | Buffer[]) => (Array.isArray(b) ? b : [b]);

export function warningFor(profile: string, masked: number | undefined): string {
  const what =
    masked === undefined ? "values are masked" : `${masked} ${masked === 1 ? "value" : "values"} masked`;
  return `299 - "airlock: ${what} by profile ${profile}"`;
}

export class MaskingTransform extends Transform {
  readonly head: Promise<MaskHead>;
  #resolveHead!: (head: MaskHead) => void;
  #rejectHead!: (err: Error) => void;
  readonly #masker: ChunkMasker;
  readonly #profile: string;
  readonly #counts: MaskCounts;
  #buffered: Buffer[] | undefined;
  #bufferedBytes = 0;
  readonly #bufferLimit: number;
  readonly #quiet: boolean;
  /** Policy refused the object itself (ItemRefused): the head is rejected and the rest is read and dropped, so the
   *  upstream response ends normally and the caller answers 403 (not a cut connection or a 502). */
  #refused = false;

  constructor(
    masker: ChunkMasker,
    opts: { profile: string; counts: MaskCounts; stream: boolean; bufferLimit: number; quiet?: boolean },
  ) {
    super();
    this.#quiet = opts.quiet ?? false;
    this.#masker = masker;
    this.#profile = opts.profile;
    this.#counts = opts.counts;
    this.#bufferLimit = opts.bufferLimit;
    this.head = new Promise((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    this.head.catch(() => {}); // observed by the caller; never an unhandled rejection
    if (opts.stream) this.#startStreaming();
    else this.#buffered = [];
    this.on("error", (err) => this.#rejectHead(err));
  }

  #startStreaming(): void {
    this.#resolveHead({ headers: this.#quiet ? {} : { warning: warningFor(this.#profile, undefined) } });
  }

  #out(parts: Buffer[]): void {
    if (!this.#buffered) {
      // Streaming: what one upstream chunk produced goes out as ONE chunk. Each push is a write to the client (a
      // chunk header, a TLS record, a syscall); a burst of watch events arrives in few upstream chunks, and writing
      // them event by event made the gateway the bottleneck of a burst.
      const out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (out && out.length > 0) this.push(out);
      return;
    }
    for (const part of parts) {
      if (part.length === 0) continue;
      this.#buffered.push(part);
      this.#bufferedBytes += part.length;
    }
    if (this.#buffered && this.#bufferedBytes > this.#bufferLimit) {
      const held = this.#buffered;
      this.#buffered = undefined;
      this.#startStreaming();
      for (const part of held) this.push(part);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.#refused) {
      done();
      return;
    }
    try {
      this.#out(asList(this.#masker.push(chunk)));
      done();
    } catch (err) {
      this.#fail(err as Error, done);
    }
  }

  #fail(err: Error, done: TransformCallback): void {
    if (err instanceof ItemRefused && this.#buffered) {
      this.#refused = true;
      this.#buffered = [];
      this.#rejectHead(err);
      done();
      return;
    }
    done(err);
  }

  override _flush(done: TransformCallback): void {
    if (this.#refused) {
      done();
      return;
    }
    try {
      this.#out(asList(this.#masker.end()));
      if (this.#buffered) {
        const masked = totalCount(this.#counts);
        const headers: Record<string, string> = { "content-length": String(this.#bufferedBytes) };
        if (masked > 0 && !this.#quiet) headers.warning = warningFor(this.#profile, masked);
        this.#resolveHead({ headers });
        for (const part of this.#buffered) this.push(part);
        this.#buffered = undefined;
      }
      done();
    } catch (err) {
      this.#fail(err as Error, done);
    }
  }
}
