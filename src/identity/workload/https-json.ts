// Small HTTPS JSON client for the workload verifiers (OIDC discovery and JWKS): https only, no redirects, a time
// limit, a size limit, and an optional extra CA. Fail closed: anything but a 200 with a JSON object is an error.
import https from "node:https";

const MAX_BODY = 512 * 1024;

export function getJson(
  url: string,
  opts: { caPem?: string; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== "https:") return reject(new Error(`${u.origin}: not https`));
    const req = https.request(
      u,
      {
        method: "GET",
        headers: { accept: "application/json" },
        timeout: opts.timeoutMs ?? 10_000,
        ...(opts.caPem ? { ca: opts.caPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error(`${u.origin}${u.pathname}: answer too large`));
          else chunks.push(c);
        });
        res.on("end", () => {
          if (res.statusCode !== 200)
            return reject(new Error(`${u.origin}${u.pathname}: HTTP ${res.statusCode}`));
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
            if (json === null || typeof json !== "object" || Array.isArray(json))
              throw new Error("not an object");
            resolve(json as Record<string, unknown>);
          } catch (err) {
            reject(new Error(`${u.origin}${u.pathname}: not JSON: ${(err as Error).message}`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${u.origin}${u.pathname}: no answer in time`)));
    req.on("error", reject);
    req.end();
  });
}
