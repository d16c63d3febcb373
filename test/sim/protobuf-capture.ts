// A recording HTTPS proxy in front of a simulator: real kubectl talks to it, every request is forwarded unchanged,
// and the raw bodies of protobuf requests are kept. Used to capture the bytes kubectl's typed `create` commands send,
// so the decoder is tested against what kubectl really writes, not against hand-made fixtures only.
import { writeFile } from "node:fs/promises";
import { createServer, request as httpsRequest, type Server } from "node:https";
import { join } from "node:path";
import { kubeconfigFor } from "@airlock/sim";
import { createCertificateAuthority, issueServerCertificate } from "../../src/shared/tls.ts";
import type { Simulator } from "../helpers/sim.ts";

export interface CapturedBody {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

export interface CaptureProxy {
  kubeconfigPath: string;
  captured: CapturedBody[];
  close(): Promise<void>;
}

export async function startCaptureProxy(sim: Simulator, dir: string): Promise<CaptureProxy> {
  const ca = createCertificateAuthority("capture-ca");
  const tls = issueServerCertificate(ca, {
    commonName: "capture",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const target = new URL(sim.url);
  const captured: CapturedBody[] = [];
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers["content-type"] ?? "";
      if (contentType.includes("protobuf")) {
        captured.push({ method: req.method ?? "", path: req.url ?? "", contentType, body });
      }
      const { host: _host, ...headers } = req.headers;
      const upstream = httpsRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          ca: sim.caPem,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const kubeconfigPath = join(dir, "capture.kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigFor(`https://127.0.0.1:${port}`, ca.certPem, sim.adminToken));
  return {
    kubeconfigPath,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
