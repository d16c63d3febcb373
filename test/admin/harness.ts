// A tiny HTTPS server that mounts the admin API on a fresh SQLite store, standing in for the gateway in admin and
// CLI tests. Listens on 127.0.0.1, port 0.
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdminApi } from "../../src/admin/api.ts";
import type { Identity } from "../../src/identity/types.ts";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import { generateToken, hashToken } from "../../src/shared/tokens.ts";
import { openStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/types.ts";

export interface AdminServer {
  url: string;
  caPem: string;
  caFile: string;
  dir: string;
  adminToken: string;
  store: Store;
  revoked: Identity[];
  errors: unknown[];
  close(): Promise<void>;
}

export async function startAdminServer(): Promise<AdminServer> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-admin-"));
  const ca = createCertificateAuthority("airlock-test-ca");
  const cert = issueServerCertificate(ca, {
    commonName: "airlock",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const caFile = join(dir, "ca.crt");
  writeFileSync(caFile, ca.certPem);
  const store = await openStore({ kind: "sqlite", path: join(dir, "airlock.db") });
  const adminToken = generateToken();
  const revoked: Identity[] = [];
  const errors: unknown[] = [];
  let url = "";
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const pathname = new URL(req.url ?? "/", "https://x").pathname;
    if (!api.handles(pathname)) {
      res.writeHead(404).end();
      return;
    }
    void api.authenticate(req).then((principal) => api.handle(req, res, principal));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = createAdminApi({
    store,
    adminTokenHash: hashToken(adminToken),
    gatewayUrl: url,
    caPem: ca.certPem,
    onRevoke: (identity) => {
      revoked.push(identity);
    },
    onError: (err) => errors.push(err),
  });
  return {
    url,
    caPem: ca.certPem,
    caFile,
    dir,
    adminToken,
    store,
    revoked,
    errors,
    async close() {
      server.closeAllConnections();
      server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** One HTTPS request to the admin server, trusting only its CA. */
export async function request(
  srv: AdminServer,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (opts.body !== undefined || opts.rawBody !== undefined) {
    payload = opts.rawBody ?? JSON.stringify(opts.body);
    headers["content-type"] = opts.contentType ?? "application/json";
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${srv.url}${path}`, { method, headers, ca: srv.caPem }, (res) => {
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
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}
