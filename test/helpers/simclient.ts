// A small HTTPS client for API-level simulator tests: JSON in, status + JSON out, and a watch reader that yields
// parsed events as they arrive.

import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import type { Simulator } from "./sim.ts";

export interface SimResponse {
  code: number;
  headers: IncomingMessage["headers"];
  // biome-ignore lint/suspicious/noExplicitAny: test responses are arbitrary JSON, read field by field
  body: any;
  text: string;
}

export interface SimClient {
  req(
    method: string,
    path: string,
    opts?: {
      body?: unknown;
      raw?: Buffer | string;
      contentType?: string;
      accept?: string;
      headers?: Record<string, string>;
      token?: string | null;
    },
  ): Promise<SimResponse>;
  watch(path: string, opts?: { accept?: string }): Promise<WatchReader>;
  close(): void;
}

export interface WatchReader {
  code: number;
  // biome-ignore lint/suspicious/noExplicitAny: watch events are arbitrary JSON
  next(timeoutMs?: number): Promise<any>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function simClient(sim: Simulator): SimClient {
  const agent = new Agent({ keepAlive: true, ca: sim.caPem, maxSockets: 8 });
  const base = new URL(sim.url);
  const headersFor = (token: string | null | undefined, extra: Record<string, string> = {}) => ({
    ...(token === null ? {} : { Authorization: `Bearer ${token ?? sim.adminToken}` }),
    ...extra,
  });
  return {
    req(method, path, opts = {}) {
      const payload =
        opts.raw !== undefined
          ? Buffer.from(opts.raw)
          : opts.body !== undefined
            ? Buffer.from(JSON.stringify(opts.body))
            : undefined;
      return new Promise((resolve, reject) => {
        const r = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            headers: headersFor(opts.token, {
              Accept: opts.accept ?? "application/json",
              ...(payload
                ? {
                    "Content-Type": opts.contentType ?? "application/json",
                    "Content-Length": String(payload.length),
                  }
                : {}),
              ...opts.headers,
            }),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let body: unknown;
              try {
                body = JSON.parse(text);
              } catch {
                body = undefined;
              }
              resolve({ code: res.statusCode ?? 0, headers: res.headers, body, text });
            });
          },
        );
        r.on("error", reject);
        r.end(payload);
      });
    },
    watch(path, opts = {}) {
      return new Promise((resolve, reject) => {
        const r = request(
          {
            host: base.hostname,
            port: base.port,
            path,
            ca: sim.caPem,
            headers: headersFor(undefined, { Accept: opts.accept ?? "application/json" }),
          },
          (res) => {
            const events: unknown[] = [];
            const waiters: ((e: unknown) => void)[] = [];
            let buffer = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => {
              buffer += d;
              let i = buffer.indexOf("\n");
              while (i >= 0) {
                const line = buffer.slice(0, i);
                buffer = buffer.slice(i + 1);
                if (line.trim()) {
                  const e = JSON.parse(line);
                  const w = waiters.shift();
                  if (w) w(e);
                  else events.push(e);
                }
                i = buffer.indexOf("\n");
              }
            });
            const ended = new Promise<void>((done) => {
              res.on("end", () => done());
              res.on("close", () => done());
            });
            resolve({
              code: res.statusCode ?? 0,
              ended,
              next(timeoutMs = 5000) {
                if (events.length > 0) return Promise.resolve(events.shift());
                return new Promise((res2, rej2) => {
                  const t = setTimeout(
                    () => rej2(new Error(`no watch event within ${timeoutMs} ms`)),
                    timeoutMs,
                  );
                  waiters.push((e) => {
                    clearTimeout(t);
                    res2(e);
                  });
                });
              },
              close: () => r.destroy(),
            });
          },
        );
        r.on("error", reject);
        r.end();
      });
    },
    close: () => agent.destroy(),
  };
}
