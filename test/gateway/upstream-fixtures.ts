// Test fixtures for the upstream tests: a stand-in cluster (HTTPS on 127.0.0.1 that asks for a client certificate and
// records what each request carried), certificates, and kubeconfig files.
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { stringify } from "yaml";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
} from "../../src/shared/tls.ts";

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  host: string | undefined;
  clientCN: string | undefined;
  rawHeaders: string[];
  remotePort: number;
}

export interface FakeCluster {
  url: string;
  port: number;
  ca: CertificateAuthority;
  seen: SeenRequest[];
  /** Tokens the fake cluster answers 401 to. */
  rejectTokens: Set<string>;
  close(): Promise<void>;
}

export async function startFakeCluster(
  opts: { dnsNames?: string[]; ipAddresses?: string[] } = {},
): Promise<FakeCluster> {
  const ca = createCertificateAuthority("fake-cluster-ca");
  const cert = issueServerCertificate(ca, {
    commonName: "kube-apiserver",
    dnsNames: opts.dnsNames ?? ["localhost"],
    ipAddresses: opts.ipAddresses ?? ["127.0.0.1"],
  });
  const seen: SeenRequest[] = [];
  const rejectTokens = new Set<string>();
  const server = https.createServer(
    { cert: cert.certPem, key: cert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      const cn = peer?.subject?.CN;
      seen.push({
        method: req.method ?? "",
        path: req.url ?? "",
        authorization: req.headers.authorization,
        host: req.headers.host,
        clientCN: Array.isArray(cn) ? cn[0] : cn,
        rawHeaders: req.rawHeaders,
        remotePort: socket.remotePort ?? 0,
      });
      const token = req.headers.authorization?.replace(/^Bearer /, "");
      const unauthorized = (!token && !peer) || (token !== undefined && rejectTokens.has(token));
      res.writeHead(unauthorized ? 401 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: unauthorized ? 401 : 200 }));
    },
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca,
    seen,
    rejectTokens,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `airlock-upstream-${prefix}-`));
}

/** Writes a client certificate and key (issued by `ca`) as files in `dir`; returns their paths. */
export async function writeClientCert(
  dir: string,
  ca: CertificateAuthority,
  commonName: string,
  base = commonName,
): Promise<{ cert: string; key: string }> {
  const c = issueClientCertificate(ca, { commonName, organizations: ["airlock:gateway"] });
  const paths = { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
  await writeFile(paths.cert, c.certPem);
  await writeFile(paths.key, c.keyPem, { mode: 0o600 });
  return paths;
}

/** Writes a one-context kubeconfig for `server` with the given user and extra cluster fields. */
export async function writeKubeconfig(
  dir: string,
  server: string,
  caPem: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): Promise<string> {
  const file = join(dir, "kubeconfig");
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "gateway",
      clusters: [
        {
          name: "c",
          cluster: {
            server,
            "certificate-authority-data": Buffer.from(caPem).toString("base64"),
            ...cluster,
          },
        },
      ],
      users: [{ name: "u", user }],
      contexts: [{ name: "gateway", context: { cluster: "c", user: "u" } }],
    }),
  );
  return file;
}

/** Sends one request with options from an Upstream; resolves with the status code. */
export function send(options: https.RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}
