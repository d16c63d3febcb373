// Fetching a client ID metadata document: an outbound request from inside the operator's network, on a URL a
// stranger chose. HTTPS to public addresses only.
//
// Security stance: the host name is resolved here and EVERY address it resolves to must be public (no loopback,
// private, link-local, cloud metadata, carrier-grade NAT, multicast, documentation or IPv4-mapped/translated forms of
// them); the connection then goes to the vetted address itself (the resolver is not asked twice, so a DNS answer
// that changes between check and use cannot point it inward), with the name kept for SNI and certificate checks.
// Redirects are never followed (a 3xx is a refusal), the answer must be JSON, at most `maxBytes`, and all of it
// must arrive within `timeoutMs`. Test hooks (allowed host:port pairs, an extra CA) exist only as a programmatic
// start option, never in airlock.yaml.
import { lookup } from "node:dns/promises";
import https from "node:https";
import { BlockList, isIP } from "node:net";

const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["::", 96], // IPv4-compatible (deprecated)
  ["100::", 64],
  ["2001::", 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID...)
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** The IPv4 address embedded in an IPv6 one that carries one (mapped, NAT64, 6to4), or undefined. */
function embeddedV4(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::|::ffff:0:)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandV6(lower);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:a.b.c.d written in hex, and 64:ff9b::/96 (NAT64)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0))
    return v4(groups[6] ?? 0, groups[7] ?? 0);
  // 6to4: 2002:AABB:CCDD::/48
  if (groups[0] === 0x2002) return v4(groups[1] ?? 0, groups[2] ?? 0);
  return undefined;
}

function expandV6(ip: string): number[] | undefined {
  if (ip.includes(".")) return undefined;
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const fill = 8 - a.length - b.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
  return [...a, ...new Array(fill).fill(0), ...b];
}

/** True only for an address an outbound fetch may reach: a public unicast address. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !blocked.check(ip, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedV4(ip);
  if (v4 !== undefined) return isPublicAddress(v4);
  return !blocked.check(ip, "ipv6");
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  /** Test hooks: host:port pairs allowed although not public, and a CA to trust for them. */
  allowHosts?: string[];
  ca?: string;
}

export type FetchResult = { ok: true; json: unknown } | { ok: false; why: string };

/** GETs a JSON document from an https URL on a public address; never follows redirects. */
export async function fetchPublicJson(
  urlText: string,
  limits: FetchLimits,
  resolve: (host: string) => Promise<{ address: string; family: number }[]> = (host) =>
    lookup(host, { all: true, verbatim: true }),
): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return { ok: false, why: "the client id is not a URL" };
  }
  if (url.protocol !== "https:") return { ok: false, why: "the client metadata URL is not https" };
  if (url.username || url.password) return { ok: false, why: "the client metadata URL carries credentials" };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  const allowed = limits.allowHosts?.includes(`${url.hostname}:${port}`) ?? false;
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
  } catch {
    return { ok: false, why: `the client metadata host ${host} does not resolve` };
  }
  if (addresses.length === 0) return { ok: false, why: `the client metadata host ${host} does not resolve` };
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad && !allowed) {
    return {
      ok: false,
      why: `the client metadata host ${host} resolves to ${bad.address}, which is not a public address`,
    };
  }
  const target = addresses[0] as { address: string; family: number };
  return new Promise<FetchResult>((done) => {
    let settled = false;
    const finish = (r: FetchResult) => {
      if (settled) return;
      settled = true;
      req.destroy();
      done(r);
    };
    const req = https.request({
      method: "GET",
      // The URL's name (SNI and the certificate check use it); the connection goes to the vetted address.
      host,
      family: target.family,
      port,
      path: `${url.pathname}${url.search}`,
      headers: { accept: "application/json" },
      agent: false,
      signal: deadline,
      ...(allowed && limits.ca ? { ca: limits.ca } : {}),
      // The vetted address is the only one used: no second resolution.
      lookup: ((_h: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
        opts?.all
          ? cb(null, [{ address: target.address, family: target.family }])
          : cb(null, target.address, target.family)) as never,
    });
    req.on("error", (err) =>
      finish({
        ok: false,
        why: deadline.aborted
          ? `the client metadata document did not arrive within ${limits.timeoutMs} ms`
          : `the client metadata document could not be fetched (${err.message})`,
      }),
    );
    req.on("response", (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400) {
        return finish({ ok: false, why: "the client metadata URL redirects; redirects are not followed" });
      }
      if (code !== 200) return finish({ ok: false, why: `the client metadata URL answered ${code}` });
      const type = String(res.headers["content-type"] ?? "");
      if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
        return finish({ ok: false, why: "the client metadata document is not application/json" });
      }
      if (Number(res.headers["content-length"] ?? 0) > limits.maxBytes) {
        return finish({ ok: false, why: `the client metadata document exceeds ${limits.maxBytes} bytes` });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          return finish({ ok: false, why: `the client metadata document exceeds ${limits.maxBytes} bytes` });
        }
        chunks.push(chunk);
      });
      res.on("error", () => finish({ ok: false, why: "the client metadata document was cut off" }));
      res.on("end", () => {
        try {
          finish({ ok: true, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        } catch {
          finish({ ok: false, why: "the client metadata document is not valid JSON" });
        }
      });
    });
    req.end();
  });
}
