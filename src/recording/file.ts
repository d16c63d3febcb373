// An append-only recording file: writes are gathered in memory and handed to the kernel at least every `flushMs`
// (and at once past 64 KiB), so a gateway killed with SIGKILL loses at most the last interval. Appending whole
// lines per write keeps every flushed line complete; only a crash inside write(2) can tear the last one.
//
// Fail closed: the file is created exclusively (0600, never reused or truncated), and the first failed write marks
// it failed and calls `onError` once; later writes are dropped and counted. Whether that ends the stream is the
// recorder's decision (`recording.required`).
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";

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

  /** Throws when the file cannot be created (the caller refuses or proceeds unrecorded, by configuration). */
  constructor(path: string, opts: { flushMs: number; onError: (err: Error) => void }) {
    this.path = path;
    this.#fd = openSync(path, "ax", 0o600);
    this.#flushMs = opts.flushMs;
    this.#onError = opts.onError;
  }

  /** Bytes handed to the kernel so far. */
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

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pendingBytes === 0 || this.#failed) return;
    const buf = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      // writeSync to the page cache: microseconds for these sizes, and it keeps lines in order without a queue.
      let off = 0;
      while (off < buf.length) off += writeSync(this.#fd, buf, off, buf.length - off);
      this.#written += buf.length;
    } catch (err) {
      this.#failed = err as Error;
      this.#onError(err as Error);
    }
  }

  /** Flushes, syncs to disk and closes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    try {
      if (!this.#failed) fsyncSync(this.#fd);
    } catch (err) {
      this.#failed = err as Error;
      this.#onError(err as Error);
    }
    try {
      closeSync(this.#fd);
    } catch {
      // Already reported or nothing to lose: every byte was written before.
    }
  }
}
