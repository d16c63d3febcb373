// A file whose content can change under us: a projected service-account token (the kubelet rotates it by swapping a
// symlink), a token file, a client certificate renewed by cert-manager.
//
// The file is stat'ed at most once per check interval and re-read when its inode, size or times change, and at least
// once a minute regardless (client-go's rule for token files). Fail closed: if the file cannot be read or is empty,
// the caller gets an error naming the file; a stale value is never served after a failed check.
import { readFile, stat } from "node:fs/promises";

const MAX_AGE_MS = 60_000;

export interface WatchedFileOptions {
  checkIntervalMs: number;
  now: () => number;
  /** Called with the file name (never the content) when a change is picked up. */
  onReload?: (file: string) => void;
}

export class WatchedFile {
  readonly file: string;
  readonly #opts: WatchedFileOptions;
  #value: string | undefined;
  #stamp = "";
  #readAt = 0;
  #checkedAt = 0;
  #pending: Promise<string> | undefined;

  constructor(file: string, opts: WatchedFileOptions) {
    this.file = file;
    this.#opts = opts;
  }

  /** The current content; throws an Error naming the file if it cannot be read or is empty. */
  read(): Promise<string> {
    const now = this.#opts.now();
    if (this.#value !== undefined && now - this.#checkedAt < this.#opts.checkIntervalMs) {
      return Promise.resolve(this.#value);
    }
    this.#pending ??= this.#refresh(now).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forces a re-read on the next read() (after a 401 the token may have rotated already). */
  invalidate(): void {
    this.#checkedAt = 0;
    this.#readAt = 0;
  }

  async #refresh(now: number): Promise<string> {
    let stamp: string;
    try {
      const s = await stat(this.file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (err) {
      this.#value = undefined;
      throw new Error(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    this.#checkedAt = now;
    if (this.#value !== undefined && stamp === this.#stamp && now - this.#readAt < MAX_AGE_MS)
      return this.#value;
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      this.#value = undefined;
      throw new Error(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    if (text.trim() === "") {
      this.#value = undefined;
      throw new Error(`${this.file} is empty`);
    }
    const changed = this.#value !== undefined && text !== this.#value;
    this.#value = text;
    this.#stamp = stamp;
    this.#readAt = now;
    if (changed) this.#opts.onReload?.(this.file);
    return text;
  }
}
