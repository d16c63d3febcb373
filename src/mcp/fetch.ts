// A fetch for MCP clients that talk to the gateway over HTTPS with the gateway's own CA (or a client certificate):
// Node's global fetch cannot be given a CA per call, so this one is a thin layer over https.request that streams
// the response body (Server-Sent Events included) as a web ReadableStream.
//
// Stance: TLS is verified against the given CA only; nothing is sent over plain HTTP unless the URL says so.
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

export interface FetchTls {
  /** PEM of the CA that signed the gateway's certificate; the system roots when absent. */
  ca?: string;
}

export function httpsFetch(tls: FetchTls = {}): typeof fetch {
  const agent = new https.Agent({ keepAlive: true, ...(tls.ca ? { ca: tls.ca } : {}) });
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const headers = new Headers(init.headers);
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : Buffer.from(await new Response(init.body).arrayBuffer());
    if (body) headers.set("content-length", String(body.length));
    const secure = url.protocol === "https:";
    const request = (secure ? https : http).request;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {
        method: init.method ?? "GET",
        headers: Object.fromEntries(headers.entries()),
        ...(secure ? { agent } : {}),
      });
      const signal = init.signal;
      if (signal) {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => req.destroy(signal.reason as Error), { once: true });
      }
      req.on("response", (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
        }
        const status = res.statusCode ?? 502;
        const noBody = status === 204 || status === 304 || init.method === "HEAD";
        if (noBody) res.resume();
        resolve(
          new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? "",
            headers: out,
          }),
        );
      });
      req.on("error", reject);
      req.end(body);
    });
  }) as typeof fetch;
}
