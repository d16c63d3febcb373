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
    // Pseudo-headers are the forwarder's alone (hygiene already drops the client's): a listed ":path" must never
    // replace the path that policy decided on.
    if (name.startsWith(":") || H1_ONLY.has(name) || (name === "te" && value.toLowerCase() !== "trailers"))
      continue;
    const prev = headers[name];
    // Repeated headers (Impersonate-Group) stay separate fields, in order.
    if (prev === undefined) headers[name] = value;
    else headers[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return headers;
}

export class H2Request extends EventEmitter {
  readonly #session: ClientHttp2Session;
  readonly #headers: OutgoingHttpHeaders;
  readonly #onClose: () => void;
  #stream: ClientHttp2Stream | undefined;
  #timeout: [number, () => void] | undefined;
  #destroyed = false;
  #failed = false;

  /** The stream opens at end(), so a request without a body is one HEADERS frame with END_STREAM. */
  constructor(session: ClientHttp2Session, headers: OutgoingHttpHeaders, onClose: () => void) {
    super();
    this.#session = session;
    this.#headers = headers;
    this.#onClose = onClose;
  }

  setTimeout(ms: number, onTimeout: () => void): this {
    if (this.#stream) this.#stream.setTimeout(ms, onTimeout);
    else this.#timeout = [ms, onTimeout];
    return this;
  }

  destroy(err?: Error): this {
    this.#destroyed = true;
    this.#stream?.destroy(err);
    return this;
  }

  end(body?: Buffer): void {
    if (this.#stream) return;
    let stream: ClientHttp2Stream;
    try {
      if (this.#destroyed) throw new Error("the request was cancelled before it was sent");
      stream = this.#session.request(this.#headers, { endStream: !body?.length });
    } catch (err) {
      // The session closed since it was leased, or the request was cut: an error like a refused connection.
      this.#onClose();
      process.nextTick(() => this.#fail(err as Error));
      return;
    }
    this.#stream = stream;
    if (this.#timeout) stream.setTimeout(...this.#timeout);
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
    stream.on("error", (err) => this.#fail(err));
    stream.on("close", () => {
      this.#onClose();
      if (!answered) this.#fail(new Error(`the cluster reset the stream (HTTP/2 code ${stream.rstCode})`));
    });
    if (body?.length) stream.end(body);
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.emit("error", err);
  }
}
