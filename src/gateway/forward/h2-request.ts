// One upstream request as an HTTP/2 stream, shaped like the https.ClientRequest the forwarder already drives
// ('response' with a readable response carrying statusCode and headers, 'error', setTimeout, destroy, end), so the
// forwarder's streaming, cancellation, timeout and 401 handling are the same code for both protocols.
//
// Failure stance: a stream the cluster resets before answering is an 'error' (the client gets 502, as with a dropped
// HTTP/1.1 connection); destroy() resets the stream (RST_STREAM CANCEL) and leaves the session to the other streams.
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from "node:http2";

/** Connection-specific headers (RFC 9113 §8.2.2) that an HTTP/2 request must not carry; Host becomes :authority. */
const H1_ONLY = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "expect",
]);

/** The request headers for a stream, from the flat [name, value, …] list of the upstream's request options. */
export function h2Headers(method: string, path: string, flat: string[]): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ":method": method, ":path": path };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    const value = flat[i + 1] as string;
    if (name === "host") headers[":authority"] = value;
    if (H1_ONLY.has(name) || (name === "te" && value.toLowerCase() !== "trailers")) continue;
    const prev = headers[name];
    // Repeated headers (Impersonate-Group) stay separate fields, in order.
    if (prev === undefined) headers[name] = value;
    else headers[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return headers;
}

export class H2Request extends EventEmitter {
  readonly #stream: ClientHttp2Stream;

  constructor(session: ClientHttp2Session, headers: OutgoingHttpHeaders, onClose: () => void) {
    super();
    const stream = session.request(headers, { endStream: false });
    this.#stream = stream;
    let answered = false;
    stream.on("response", (raw) => {
      answered = true;
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(raw)) {
        if (name.startsWith(":") || value === undefined) continue;
        responseHeaders[name] = value as string | string[];
      }
      // The stream is the response body; it gets the two IncomingMessage fields the forwarder and the masking relay
      // read. The cast is the adapter's whole point: both only use statusCode, headers and the Readable side.
      const res = Object.assign(stream, {
        statusCode: Number(raw[":status"]),
        headers: responseHeaders,
      }) as unknown as IncomingMessage;
      this.emit("response", res);
    });
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      this.emit("error", err);
    };
    stream.on("error", fail);
    stream.on("close", () => {
      onClose();
      if (!answered) fail(new Error(`the cluster reset the stream (HTTP/2 code ${stream.rstCode})`));
    });
  }

  setTimeout(ms: number, onTimeout: () => void): this {
    this.#stream.setTimeout(ms, onTimeout);
    return this;
  }

  destroy(err?: Error): this {
    this.#stream.destroy(err);
    return this;
  }

  end(body?: Buffer): void {
    if (body?.length) this.#stream.end(body);
    else this.#stream.end();
  }
}
