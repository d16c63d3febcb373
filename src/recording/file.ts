// An append-only recording file: writes are gathered in memory and handed to the kernel at least every `flushMs`
// (and at once past 64 KiB), so a gateway killed with SIGKILL loses at most the last interval. Writes are
// asynchronous with one in flight, so lines stay in order and a slow disk never stalls the event loop. Whole lines
// per write keep every flushed line complete; only a crash inside write(2) can tear the last one.
//
// Fail closed: the file is created exclusively (0600, never reused or truncated), and the first failed write marks
// it failed and calls `onError` once; later writes are dropped and counted. Whether that ends the stream is the
// recorder's decision (`recording.required`).
import { close as closeFd, fsync, openSync, writev } from "node:fs";

const HIGH_WATER = 64 * 1024;

export class AppendFile {
  readonly path: string;
  readonly #fd: number;
  readonly #flushMs: number;
  readonly #onError: (err: Error) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #written = 0;
  #failed: Error | undefined;
  #closed = false;
  #writing = false;
  #afterLastWrite: (() => void) | undefined;
  #closing: Promise<void> = Promise.resolve();

  /** Throws when the file cannot be created (the caller refuses or proceeds unrecorded, by configuration). */
  constructor(path: string, opts: { flushMs: number; onError: (err: Error) => void }) {
    this.path = path;
    this.#fd = openSync(path, "ax", 0o600);
    this.#flushMs = opts.flushMs;
    this.#onError = opts.onError;
  }

  /** Bytes the kernel has accepted so far. */
  get written(): number {
    return this.#written;
  }

  get failed(): Error | undefined {
    return this.#failed;
  }

  append(data: string | Buffer): void {
    if (this.#closed || this.#failed) return;
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (buf.length === 0) return;
    this.#pending.push(buf);
    this.#pendingBytes += buf.length;
    if (this.#pendingBytes >= HIGH_WATER) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Hands what is pending to the kernel: one write in flight at a time, so lines stay in order. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pendingBytes === 0 || this.#failed || this.#writing) return;
    const bufs = this.#pending;
    const size = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = true;
    // Asynchronous, off the event loop: a busy disk (dirty-page throttling) must not stall every other stream.
    writev(this.#fd, bufs, (err, written) => {
      this.#writing = false;
      if (!err && written !== size) err = new Error(`short write (${written} of ${size} bytes)`);
      if (err) {
        this.#failed = err;
        this.#onError(err);
      } else this.#written += size;
      if (this.#pendingBytes > 0) this.flush();
      else if (this.#closed) this.#afterLastWrite?.();
    });
  }

  /**
   * Flushes and closes; the sync to disk runs off the event loop (a large recording's fsync must not stall every
   * other stream) and `closed` resolves once it is done. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closing;
    this.flush();
    this.#closed = true;
    this.#closing = new Promise((resolve) => {
      const done = () => closeFd(this.#fd, () => resolve());
      const sync = () => {
        if (this.#failed) return done();
        fsync(this.#fd, (err) => {
          if (err && !this.#failed) {
            this.#failed = err;
            this.#onError(err);
          }
          done();
        });
      };
      if (this.#writing) this.#afterLastWrite = sync;
      else sync();
    });
    return this.#closing;
  }
}
