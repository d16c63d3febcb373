// Where committed audit lines go besides the store: a rotated file, a webhook, stdout. Each sink only writes a
// batch of lines and throws if it could not; batching, retries and the delivery position are the runner's
// (sink-runner.ts), so a slow or failing sink never touches the request path.
//
// Files are created 0600 (audit lines name identities and resources). Webhook answers other than 2xx are failures;
// the body is NDJSON, one event per line.
import { appendFile, rename, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface AuditSink {
  readonly name: string;
  write(lines: string[]): Promise<void>;
  close?(): Promise<void>;
}

/** Appends lines to `path`; once it would pass maxBytes, it becomes path.1 (path.1 → path.2 …, up to maxFiles). */
export class FileSink implements AuditSink {
  readonly name: string;
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  #size: number | undefined;

  constructor(opts: { path: string; maxBytes: number; maxFiles: number }) {
    this.name = `file:${opts.path}`;
    this.#path = opts.path;
    this.#maxBytes = opts.maxBytes;
    this.#maxFiles = Math.max(1, opts.maxFiles);
  }

  async write(lines: string[]): Promise<void> {
    if (this.#size === undefined) {
      this.#size = await stat(this.#path).then(
        (s) => s.size,
        () => 0,
      );
    }
    // Rotation happens between lines, never inside one, so every file is whole NDJSON.
    let chunk = "";
    for (const line of lines) {
      const text = `${line}\n`;
      const bytes = Buffer.byteLength(text);
      if (this.#size + Buffer.byteLength(chunk) + bytes > this.#maxBytes && this.#size + chunk.length > 0) {
        if (chunk) await appendFile(this.#path, chunk, { mode: 0o600 });
        await this.#rotate();
        chunk = "";
      }
      chunk += text;
    }
    if (chunk) {
      await appendFile(this.#path, chunk, { mode: 0o600 });
      this.#size += Buffer.byteLength(chunk);
    }
  }

  async #rotate(): Promise<void> {
    // maxFiles counts the live file: with 3, the files are path, path.1 and path.2.
    await rm(`${this.#path}.${this.#maxFiles - 1}`, { force: true });
    for (let i = this.#maxFiles - 2; i >= 1; i--) {
      await rename(`${this.#path}.${i}`, `${this.#path}.${i + 1}`).catch(() => undefined);
    }
    if (this.#maxFiles > 1) await rename(this.#path, `${this.#path}.1`).catch(() => undefined);
    else await rm(this.#path, { force: true });
    this.#size = 0;
  }
}

/** POSTs each batch as NDJSON; anything but a 2xx within the timeout is a failure (the runner retries). */
export class WebhookSink implements AuditSink {
  readonly name: string;
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(opts: { url: string; timeoutMs?: number; headers?: Record<string, string> }) {
    this.#url = new URL(opts.url);
    this.name = `webhook:${this.#url.origin}${this.#url.pathname}`;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#headers = opts.headers ?? {};
  }

  write(lines: string[]): Promise<void> {
    const body = `${lines.join("\n")}\n`;
    const send = this.#url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        this.#url,
        {
          method: "POST",
          headers: {
            ...this.#headers,
            "content-type": "application/x-ndjson",
            "content-length": Buffer.byteLength(body),
          },
          timeout: this.#timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new Error(`${this.name} answered HTTP ${code}`));
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`${this.name} did not answer within ${this.#timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}

/** Writes lines to a stream (the gateway passes its stdout). */
export class StreamSink implements AuditSink {
  readonly name = "stdout";
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  write(lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#out.write(`${lines.join("\n")}\n`, (err) => (err ? reject(err) : resolve()));
    });
  }
}
