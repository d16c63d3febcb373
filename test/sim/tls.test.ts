// The simulator's own certificates (packages/sim/src/tls.ts): a CA that can only sign, a server certificate that
// chains to it with the names clients check, a real TLS handshake trusting only the CA, and a CA written by an
// earlier version (the gateway's certificate code, which the simulator used before) still issuing a chain that holds.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, connect as tcp } from "node:net";
import { describe, it } from "node:test";
import { checkServerIdentity, connect, createServer } from "node:tls";
import { createCa, issueServerCert } from "@airlock/sim/tls.ts";
import { createCertificateAuthority } from "../../src/shared/tls.ts";

const names = {
  commonName: "airlock-sim",
  dnsNames: ["localhost"],
  ips: ["127.0.0.1", "::1", "2001:db8::7"],
};

/** Handshakes with `servername` (or an IP) against a server holding `leaf`, trusting only `caPem`. */
async function handshake(
  leaf: { certPem: string; keyPem: string },
  caPem: string,
  host: string,
  sni?: string,
) {
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    const socket = connect({
      socket: tcp(port, "127.0.0.1"),
      ca: caPem,
      ...(sni ? { servername: sni } : {}),
      checkServerIdentity: (_name, cert) =>
        checkServerIdentity(host, cert) === undefined ? undefined : new Error(`${host} not in cert`),
    });
    const [err] = await Promise.race([
      once(socket, "secureConnect").then(() => [undefined]),
      once(socket, "error"),
    ]);
    socket.destroy();
    return err as Error | undefined;
  } finally {
    server.close();
  }
}

describe("the simulator's certificates", () => {
  const ca = createCa("airlock-sim-ca");
  const leaf = issueServerCert(ca, names);
  const caCert = new X509Certificate(ca.certPem);
  const leafCert = new X509Certificate(leaf.certPem);

  it("the CA is self-signed, a CA, named as asked, valid about ten years", () => {
    assert.equal(caCert.ca, true);
    assert.equal(caCert.subject, "CN=airlock-sim-ca");
    assert.ok(caCert.checkIssued(caCert));
    assert.ok(caCert.verify(caCert.publicKey));
    const years = (Date.parse(caCert.validTo) - Date.now()) / (365 * 86_400_000);
    assert.ok(years > 9.9 && years < 10.1, String(years));
    assert.ok(Date.parse(caCert.validFrom) < Date.now());
  });

  it("the server certificate chains to the CA, is no CA, and names every DNS name and address", () => {
    assert.equal(leafCert.ca, false);
    assert.ok(leafCert.checkIssued(caCert));
    assert.ok(leafCert.verify(caCert.publicKey));
    assert.equal(leafCert.issuer, "CN=airlock-sim-ca");
    assert.deepEqual(leafCert.keyUsage, ["1.3.6.1.5.5.7.3.1"], "extended key usage: TLS server only");
    assert.equal(leafCert.checkHost("localhost"), "localhost");
    assert.equal(leafCert.checkHost("example.com"), undefined);
    for (const ip of names.ips) assert.equal(leafCert.checkIP(ip), ip);
    assert.equal(leafCert.checkIP("127.0.0.2"), undefined);
    assert.equal(leafCert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  });

  it("a TLS client trusting only the CA connects by name and by address; another CA's client refuses", async () => {
    assert.equal(await handshake(leaf, ca.certPem, "localhost", "localhost"), undefined);
    assert.equal(await handshake(leaf, ca.certPem, "127.0.0.1"), undefined);
    const other = createCa("someone-else");
    assert.match(String(await handshake(leaf, other.certPem, "localhost", "localhost")), /certificate/);
    assert.match(String(await handshake(leaf, ca.certPem, "example.com", "example.com")), /not in cert/);
  });

  it("a CA written by an earlier version (ca.crt kept in the state directory) still issues a valid chain", async () => {
    const old = createCertificateAuthority("airlock-sim-ca");
    const reissued = issueServerCert(old, names);
    const cert = new X509Certificate(reissued.certPem);
    assert.ok(cert.checkIssued(new X509Certificate(old.certPem)));
    assert.equal(await handshake(reissued, old.certPem, "localhost", "localhost"), undefined);
  });

  it("a name that is not IPv4 or plain IPv6 is refused rather than written wrong", () => {
    assert.throws(() => issueServerCert(ca, { ...names, ips: ["::ffff:1.2.3.4"] }), /cannot put/);
    assert.throws(() => issueServerCert(ca, { ...names, ips: ["localhost"] }), /cannot put/);
  });
});
