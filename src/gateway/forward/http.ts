// forward (plain HTTP): relays one request to the cluster and its response back, streaming both ways.
//
// Streams stay streams: bodies are piped chunk by chunk with backpressure, so a watch, a `logs -f` or a 10 MB list
// never sits in memory. A client that goes away cancels the upstream request and vice versa. Hop-by-hop and
// connection-specific headers are dropped in both directions.
//
// Protocol: when the cluster offers h2, the request is a stream of a pooled HTTP/2 session (h2-request.ts), so a
// watch costs a stream, not a TLS connection; otherwise HTTP/1.1 through the keep-alive agent. Upgrades (exec,
// attach, port-forward) never come here (upgrade.ts, HTTP/1.1).
import type { IncomingMessage } from "node:http";
import https, { type RequestOptions } from "node:https";
import {
  upstreamBadAnswer,
  upstreamNoCredential,
  upstreamTimeout,
  upstreamUnreachable,
} from "../../kube/refusals.ts";
import type { Status } from "../../kube/status.ts";
import { h2PoolOf } from "../../upstream/h2-pool.ts";
import type { Upstream } from "../../upstream/index.ts";
import { NoAgentError } from "../../upstream/tunnel.ts";
import type { AnyResponse } from "../respond.ts";
import { clientGone, sendStatus, writeHead } from "../respond.ts";
import { H2Request, h2Headers } from "./h2-request.ts";
import { endableResponse } from "./stream-end.ts";

/** What the forwarder needs of an upstream request, whichever the protocol. */
interface UpstreamRequest {
  on(event: "response", listener: (res: IncomingMessage) => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  setTimeout(ms: number, listener: () => void): unknown;
  destroy(err?: Error): unknown;
  end(body?: Buffer): void;
}

/** An HTTP/2 stream when the cluster speaks h2 (and a session has room), else an HTTP/1.1 request on the agent. */
async function openRequest(method: string, options: RequestOptions): Promise<UpstreamRequest> {
  const lease = await h2PoolOf(options.agent)?.acquire();
  if (!lease) return https.request(options);
  if (lease.session.closed || lease.session.destroyed) {
    // The session ended since it was leased: this one request goes over HTTP/1.1.
    lease.release();
    return https.request(options);
  }
  return new H2Request(
    lease.session,
    h2Headers(method, options.path ?? "/", options.headers as string[]),
    lease.release,
  );
}

const RESPONSE_HEADERS_DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "content-length", // re-set below when known; HTTP/2 responses must not carry a mismatching one
]);

const TIMED_OUT = "AIRLOCK_UPSTREAM_TIMEOUT";
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
]);

/**
 * The Status for a request the cluster did not answer: 504 when it did not answer in time, 503 when it could not
 * be reached (refused, reset, gone), 502 when it answered something that is not HTTP (a TLS or protocol error).
 * The message names the cluster, so the agent (and the human reading its output) knows which one is down.
 */
export function upstreamFailure(cluster: string, err: Error): Status {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code === TIMED_OUT) return upstreamTimeout(cluster);
  if (UNREACHABLE.has(code) || /socket hang up|reset the stream|session/i.test(err.message))
    return upstreamUnreachable(cluster, err.message);
  return upstreamBadAnswer(
    `airlock: the cluster "${cluster}" answered with something that is not a Kubernetes response: ${err.message}`,
  );
}

export interface ForwardResult {
  status: number;
  bytesIn: number;
  bytesOut: number;
  upstreamError?: string;
}

export interface ForwardOptions {
  upstream: Upstream;
  pathAndQuery: string;
  headers: [string, string][];
  body: Buffer | undefined;
  /** The acting identity's name: connections that mint per-actor credentials (EKS) use it; others ignore it. */
  actor?: string;
  /** No timeout for long-running requests (watch, follow, exec); otherwise the upstream must answer in time. */
  timeoutMs: number | undefined;
  /** Registers a closer so revocation can cut this request; returns the unregister function. */
  onOpen(close: (reason: string, status?: Status) => void): () => void;
  /** A JSON watch: the last event to end it with when it is closed with a Status (shutdown). */
  endWith?: (status: Status) => Buffer;
  /**
   * The transform stage (masking): when set, it relays the response instead of the plain pipe, writing the head
   * itself once it knows what to add, and reports the bytes it wrote and the status the client got.
   */
  relay?: (
    upstreamRes: IncomingMessage,
    status: number,
    headers: Record<string, string | string[]>,
    hooks: { onBytes(n: number): void; done(status: number, error?: string): void },
  ) => void;
}

export function forwardHttp(method: string, res: AnyResponse, opts: ForwardOptions): Promise<ForwardResult> {
  return new Promise((resolve) => {
    let bytesIn = 0;
    let bytesOut = 0;
    let status = 0;
    let settled = false;
    let unregister = () => {};
    const finish = (upstreamError?: string) => {
      if (settled) return;
      settled = true;
      unregister();
      resolve({ status, bytesIn, bytesOut, ...(upstreamError ? { upstreamError } : {}) });
    };
    // The client may leave at any moment, also before the upstream request exists (while a credential is minted or
    // a session leased): then nothing is sent, and the request's completion says so.
    const gone = "the client closed the connection before the request was sent";
    if (clientGone(res)) {
      status = 499;
      return finish(gone);
    }
    let upstreamReq: UpstreamRequest | undefined;
    const endable = opts.endWith ? endableResponse(res) : undefined;
    res.on("close", () => {
      if (!upstreamReq) status = 499;
      if (!res.writableFinished) upstreamReq?.destroy();
      finish(upstreamReq ? undefined : gone);
    });

    opts.upstream
      .requestOptions(method, opts.pathAndQuery, opts.headers, opts.actor)
      .then(async (options) => {
        // The body is framed here: hygiene dropped the client's Content-Length, and Node sends a DELETE body (as
        // kubectl's DeleteOptions) unframed unless told its length, which desyncs the upstream connection.
        if (opts.body?.length) (options.headers as string[]).push("content-length", String(opts.body.length));
        return [options, await openRequest(method, options)] as const;
      })
      .then(([, opened]) => {
        if (settled) {
          // The client left while the request was being opened: it is cancelled unsent, and the error its
          // cancellation emits has an owner here.
          opened.on("error", () => {});
          return void opened.destroy();
        }
        upstreamReq = opened;
        unregister = opts.onOpen((reason, closing) => {
          if (closing && opts.endWith && endable?.endWith(closing, opts.endWith(closing))) {
            if (status === 0) status = closing.code; // answered before the cluster did
            return void opened.destroy();
          }
          opened.destroy(new Error(reason));
          (res as { destroy?: (e?: Error) => void }).destroy?.();
        });
        if (opts.timeoutMs) {
          opened.setTimeout(opts.timeoutMs, () =>
            opened.destroy(Object.assign(new Error("upstream timed out"), { code: TIMED_OUT })),
          );
        }
        opened.on("response", (upstreamRes) => {
          status = upstreamRes.statusCode ?? 502;
          // The cluster refused our own credential: drop cached exec-plugin output and re-read token files, so the
          // next request presents a fresh one. (The client's request is answered as the cluster answered it.)
          if (status === 401) opts.upstream.invalidate();
          const headers: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(upstreamRes.headers)) {
            if (value === undefined || RESPONSE_HEADERS_DROPPED.has(name)) continue;
            headers[name] = value;
          }
          const length = upstreamRes.headers["content-length"];
          if (length !== undefined && !upstreamRes.headers["transfer-encoding"])
            headers["content-length"] = length;
          if (opts.relay) {
            opts.relay(upstreamRes, status, headers, {
              onBytes: (n) => {
                bytesOut += n;
              },
              done: (final, error) => {
                status = final;
                if (error) opened.destroy();
                finish(error);
              },
            });
            return;
          }
          writeHead(res, status, headers);
          upstreamRes.on("data", (chunk: Buffer) => {
            bytesOut += chunk.length;
          });
          // pipe() rather than pipeline(): pipeline allocates an AbortController and an AbortError per request (~1.5 %
          // of the gateway's CPU at c=32). What pipeline did on failure is done here: a body that ends early is cut
          // on the client side too, so a truncated list never looks complete.
          upstreamRes.pipe(res as NodeJS.WritableStream);
          upstreamRes.on("error", () => {});
          upstreamRes.on("close", () => {
            if (upstreamRes.readableEnded) return;
            opened.destroy();
            (res as { destroy?: () => void }).destroy?.();
            finish();
          });
          res.once("finish", () => finish());
        });
        opened.on("error", (err) => {
          if (!res.headersSent && !clientGone(res)) {
            const answer = upstreamFailure(opts.upstream.name, err);
            status = answer.code;
            bytesOut += sendStatus(res, answer);
          } else {
            (res as { destroy?: () => void }).destroy?.();
          }
          finish(err.message);
        });
        // The client going away cancels the upstream request (and so the watch or exec behind it): see above.
        // The body was read (bounded) before the decision, so policy and audit saw exactly what is sent here.
        bytesIn = opts.body?.length ?? 0;
        opened.end(opts.body);
      })
      .catch((err: Error) => {
        if (settled) return;
        // A tunnel cluster with no agent connected answers its own 503 (src/upstream/tunnel.ts).
        const answer =
          err instanceof NoAgentError ? err.status : upstreamNoCredential(opts.upstream.name, err.message);
        status = answer.code;
        bytesOut += sendStatus(res, answer);
        finish(err.message);
      });
  });
}
