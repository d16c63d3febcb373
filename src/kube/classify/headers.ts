// Header hygiene on the client's raw headers (DESIGN.md invariant 4), before policy sees the request.
//
// Security stance: the gateway alone speaks for the caller upstream. Client-supplied impersonation is refused (403),
// so a client can never learn whether a header would have been honoured; identity-bearing and proxy-chain headers
// (X-Remote-*, X-Forwarded-*, Authorization, Cookie, our own Airlock-* prefix) are dropped; hop-by-hop headers belong
// to this connection only. Duplicates of framing headers are refused: two readers could pick different ones.

import { IMPERSONATION_REFUSED, impersonationRefused } from "../../kube/refusals.ts";
import { badRequest, ok, type Result } from "./result.ts";

const DROPPED_PREFIXES = ["x-remote-", "x-forwarded-", "x-airlock-", "airlock-"];
const DROPPED = new Set(["forwarded", "x-real-ip", "authorization", "proxy-authorization", "cookie"]);
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);
// The upstream leg is re-framed by the gateway: HTTP/2 pseudo-headers, WebSocket handshake headers and Expect belong
// to the client's connection. Accept-Encoding is dropped so the cluster answers uncompressed: the gateway reads
// responses on their way back (audit byte counts now, masking later) and never decodes a compressed stream blind.
const CONNECTION_SCOPED_PREFIXES = [":", "sec-websocket-"];
const CONNECTION_SCOPED = new Set(["expect", "accept-encoding", "http2-settings"]);
const SINGLETONS = new Set(["content-type", "content-length"]);

export { IMPERSONATION_REFUSED };

export function inspectClientHeaders(rawHeaders: string[]): Result<{ forward: [string, string][] }> {
  if (rawHeaders.length % 2 !== 0) return badRequest("malformed header list");
  const counts = new Map<string, number>();
  const named = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    // Any Impersonate-* (User, Group, Uid, Extra-*, and names the apiserver may learn later) is refused outright.
    if (name.startsWith("impersonate-")) {
      return {
        ok: false,
        status: impersonationRefused(name),
      };
    }
    if (/[\0\r\n]/.test(value)) return badRequest(`control character in header "${rawHeaders[i]}"`);
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    if (n > 1 && SINGLETONS.has(name)) return badRequest(`duplicate "${rawHeaders[i]}" header`);
    if (name === "connection") {
      for (const token of value.split(",")) named.add(token.trim().toLowerCase());
    }
  }
  const forward: [string, string][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || DROPPED.has(name) || CONNECTION_SCOPED.has(name)) continue;
    if (DROPPED_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (CONNECTION_SCOPED_PREFIXES.some((p) => name.startsWith(p))) continue;
    forward.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  }
  return ok({ forward });
}
