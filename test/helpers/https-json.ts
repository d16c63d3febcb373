// One HTTPS JSON call to a gateway started as a child process (`airlock serve`), trusting its CA: for the reliability
// tests that cannot use callGateway (no TestGateway object). A fresh connection each time (agent: false), so a
// gateway shutting down or restarting is met as a new client would meet it.
import { request } from "node:https";

export interface JsonAnswer {
  code: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  body: any;
}

/**
 * `body` is sent as JSON when given; `headers` are added to the request (e.g. an Airlock-Justification); the answer's
 * body is parsed as JSON, or kept as text when it is not JSON.
 */
export function httpsJson(
  target: { url: string; ca: string },
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}${path}`,
      {
        method,
        ca: target.ca,
        agent: false,
        headers: {
          ...headers,
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body: parse(text) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
