// The gateway's TLS material: given files, or a CA and server certificate generated into the data directory on
// first start (private keys mode 0600) and reused afterwards, so kubeconfigs written once keep working.
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GatewayConfig } from "../gateway/config.ts";
import { createCertificateAuthority, issueServerCertificate } from "../shared/tls.ts";

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** The CA clients should trust (written into kubeconfigs). */
  caPem: string;
}

async function writePrivate(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function loadTlsMaterial(config: GatewayConfig): Promise<TlsMaterial> {
  if (config.tls) {
    const [certPem, keyPem] = await Promise.all([
      readFile(config.tls.certFile, "utf8"),
      readFile(config.tls.keyFile, "utf8"),
    ]);
    const caPem = config.tls.caFile ? await readFile(config.tls.caFile, "utf8") : certPem;
    return { certPem, keyPem, caPem };
  }
  const dir = join(config.dataDir, "tls");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    cert: join(dir, "server.crt"),
    key: join(dir, "server.key"),
  };
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    const ca = createCertificateAuthority("airlock-gateway-ca");
    await writeFile(paths.caCert, ca.certPem);
    await writePrivate(paths.caKey, ca.keyPem);
  }
  const ca = { certPem: await readFile(paths.caCert, "utf8"), keyPem: await readFile(paths.caKey, "utf8") };
  if (!existsSync(paths.cert) || !existsSync(paths.key)) {
    const ipAddresses = ["127.0.0.1", "::1"];
    const address = config.listen.address;
    if (/^\d+\.\d+\.\d+\.\d+$/.test(address) && !ipAddresses.includes(address) && address !== "0.0.0.0") {
      ipAddresses.push(address);
    }
    const server = issueServerCertificate(ca, {
      commonName: "airlock",
      dnsNames: ["localhost"],
      ipAddresses,
    });
    await writeFile(paths.cert, server.certPem);
    await writePrivate(paths.key, server.keyPem);
  }
  return {
    certPem: await readFile(paths.cert, "utf8"),
    keyPem: await readFile(paths.key, "utf8"),
    caPem: ca.certPem,
  };
}
