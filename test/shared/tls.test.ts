import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
} from "../../src/shared/tls.ts";

test("a server certificate issued by our CA verifies against it and names 127.0.0.1", () => {
  const ca = createCertificateAuthority("airlock-test-ca");
  const server = issueServerCertificate(ca, {
    commonName: "airlock",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(server.certPem);
  assert.equal(caCert.ca, true);
  assert.equal(cert.ca, false);
  assert.ok(cert.verify(caCert.publicKey));
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkHost("localhost"), "localhost");
  assert.equal(cert.checkIP("10.0.0.1"), undefined);
});

test("an HTTPS client that trusts only our CA completes a handshake with the issued certificate", async () => {
  const ca = createCertificateAuthority("airlock-test-ca");
  const server = issueServerCertificate(ca, { commonName: "s", dnsNames: [], ipAddresses: ["127.0.0.1"] });
  const srv = https.createServer({ cert: server.certPem, key: server.keyPem }, (_req, res) => res.end("ok"));
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  try {
    const { port } = srv.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: "127.0.0.1", port, ca: ca.certPem, path: "/" }, (res) => {
          let text = "";
          res.on("data", (c) => {
            text += c;
          });
          res.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    assert.equal(body, "ok");
  } finally {
    srv.close();
  }
});

test("a client certificate carries the user as CN and groups as O", () => {
  const ca = createCertificateAuthority("airlock-test-ca");
  const client = issueClientCertificate(ca, { commonName: "jane", organizations: ["sre", "dev"] });
  const cert = new X509Certificate(client.certPem);
  assert.match(cert.subject, /CN=jane/);
  assert.match(cert.subject, /O=sre/);
  assert.match(cert.subject, /O=dev/);
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
});
