// One bounded request to a cluster for the review preview (GET the current object, the dry run, dependents). IO.
//
// Stance: the caller passes the impersonation headers of the requester, so the cluster answers exactly what the real
// request would see; the answer is capped in size and time, and any failure becomes a value, never an exception.
import { request } from "node:https";
import type { Upstream } from "../upstream/index.ts";

export const MAX_PREVIEW_BYTES = 4 * 1024 * 1024;

export interface UpstreamAnswer {
  status: number;
  json: unknown;
  error?: string;
}

export async function callUpstream(
  upstream: Upstream,
  method: string,
  pathAndQuery: string,
  headers: [string, string][],
  body?: Buffer,
  timeoutMs = 10_000,
): Promise<UpstreamAnswer> {
  let options: Awaited<ReturnType<Upstream["requestOptions"]>>;
  // The preview acts as the requester: the same identity that the impersonation headers name is the actor for
  // connections that mint per-identity credentials (EKS assumed-role sessions).
  const impersonated = headers.find(([name]) => name.toLowerCase() === "impersonate-user")?.[1];
  const actor = impersonated?.startsWith("airlock:") ? impersonated.slice("airlock:".length) : undefined;
  try {
    options = await upstream.requestOptions(
      method,
      pathAndQuery,
      [
        ...headers,
        ["Accept", "application/json"],
        ...(body ? ([["Content-Length", String(body.length)]] as [string, string][]) : []),
      ],
      actor,
    );
  } catch (err) {
    return { status: 0, json: undefined, error: `no credential for the cluster: ${(err as Error).message}` };
  }
  return new Promise((resolve) => {
    const req = request({ ...options, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_PREVIEW_BYTES) {
          req.destroy(new Error(`the answer is larger than ${MAX_PREVIEW_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on("error", (err) => resolve({ status: 0, json: undefined, error: err.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve({ status: 0, json: undefined, error: err.message }));
    req.end(body);
  });
}
